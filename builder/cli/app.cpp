#include "builder/cli/app.hpp"

#include <algorithm>

#include "overlays/secrets.hpp"

namespace pib::cli {

namespace {

void add_build_options(CLI::App& app, BuildArgs& a) {
    app.add_option("recipe", a.recipe, "Recipe file (YAML; man pibuild-recipe)")
        ->required()
        ->check(CLI::ExistingFile);
    app.add_option("-o,--output", a.out, "Directory the release appears in, as <output>/<id>")
        ->capture_default_str();
    app.add_option("-k,--key", a.key, "Ed25519 private key that signs the release (pibuild keygen)")
        ->capture_default_str();
    app.add_option("--work-dir", a.work, "Where the root is staged (needs room for the whole tree)")
        ->capture_default_str();
    app.add_option("--cache-dir", a.cache, "Where downloaded inputs are kept")
        ->capture_default_str();
    app.add_option("--source-date-epoch", a.epoch,
                   "Timestamp for reproducible output (default: $SOURCE_DATE_EPOCH, then the "
                   "recipe's source_date_epoch, then now)");
    app.add_option("-j,--jobs", a.jobs, "Compression threads (default: every core)");
    app.add_flag("--keep-work", a.keep_work, "Keep the staged tree after the build");
    app.add_flag("--check", a.check_only, "Validate the recipe and exit");
    app.add_flag("--json", a.json, "Print a machine-readable summary on stdout");
    app.add_flag("-v,--verbose", a.verbose, "Show the output of the tools the build runs");
}

void add_nodes_commands(PibuildCli& c) {
    NodesArgs& a = c.nodes_args;
    auto* nodes =
        c.app.add_subcommand("nodes", "Per-node signed overlays from the inventory (nodes.yaml)");
    nodes->require_subcommand(1);
    auto* render =
        nodes->add_subcommand("render", "Render each node's overlay into <store>/overlays/<node>/");
    render->add_option("-i,--inventory", a.inventory, "The fleet inventory (nodes.yaml)")
        ->required()
        ->check(CLI::ExistingFile);
    render
        ->add_option("-s,--store", a.store,
                     "The store netbootd serves; overlays go to <store>/overlays")
        ->required()
        ->check(CLI::ExistingDirectory);
    render->add_option("-k,--key", a.key, "Ed25519 private key (the one that signs releases)")
        ->required();
    render
        ->add_option("--secrets", a.secrets,
                     "Where each node's SSH host keys and machine-id are kept")
        ->capture_default_str();
    render->add_option("--node", a.node, "Render only this node");
    render->add_flag("--json", a.json, "Print a machine-readable summary on stdout");
    render->add_flag("-v,--verbose", a.verbose, "Log every step");
    auto* verify =
        nodes->add_subcommand("verify", "Check overlays' signatures and hashes as a client would");
    verify->add_option("-s,--store", a.store, "The store")
        ->required()
        ->check(CLI::ExistingDirectory);
    verify->add_option("-p,--pubkey", a.pubkey, "Public key (NAME.pub)")
        ->required()
        ->check(CLI::ExistingFile);
    verify->add_option("--node", a.node, "Check only this node's overlay");
    verify->add_flag("--json", a.json, "Machine-readable result on stdout");
    c.nodes_render = render;
    c.nodes_verify = verify;
}

}  // namespace

PibuildCli::PibuildCli(const std::string& version_text)
    : app("pibuild: turn a recipe into a reproducible, signed, read-only squashfs release",
          "pibuild") {
    nodes_args.secrets = overlays::kDefaultSecretsDir;
    app.set_version_flag("--version", version_text);
    app.require_subcommand(1);
    app.footer(
        "`pibuild RECIPE` is short for `pibuild build RECIPE`.\n"
        "Documentation: man pibuild (every command), man pibuild-recipe (recipe keys), "
        "man pibuild-nodes (the inventory), man netbootd.yaml (the store and fleet settings); "
        "guides in /usr/share/doc/pibuild/.");

    build = app.add_subcommand("build", "Build a release from a recipe");
    add_build_options(*build, build_args);

    keygen =
        app.add_subcommand("keygen", "Create an Ed25519 signing key pair (NAME.key, NAME.pub)");
    keygen->add_option("-o,--output", key_name, "NAME: writes NAME.key (mode 0600) and NAME.pub")
        ->capture_default_str();

    verify = app.add_subcommand("verify", "Check a release's signature and every artifact's hash");
    verify->add_option("dir", verify_dir, "Release directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    verify->add_option("-p,--pubkey", pubkey, "Public key (NAME.pub)")
        ->required()
        ->check(CLI::ExistingFile);
    verify->add_flag("--json", verify_json, "Machine-readable result on stdout");

    inspect = app.add_subcommand("inspect", "Summarise a release (does not verify it)");
    inspect->add_option("dir", inspect_dir, "Release directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    inspect->add_flag("--json", inspect_json, "The manifest and image facts as JSON");

    add_nodes_commands(*this);

    version = app.add_subcommand(
        "version",
        "The version, and the pib-init and pib-agent it bakes into releases, per architecture");
    version->add_flag("--json", version_json, "Machine-readable output on stdout");

    fleet = std::make_unique<FleetCommands>(app);

    // Words for the bash completion (docs/completion/pibuild.bash): hidden
    // from --help and the man page (an empty group hides it).
    complete = app.add_subcommand("__complete", "Print completion words, one a line");
    complete->group("");
    complete->add_option("what", complete_args.what, "What to list")
        ->required()
        ->check(CLI::IsMember({"releases"}));
    complete->add_option("-s,--store", complete_args.store, "The store");
    complete->add_option("--config", complete_args.config, "netbootd's config naming the store");
}

std::vector<std::string> PibuildCli::normalise_args(int argc, char** argv) const {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && !args[0].empty() && args[0][0] != '-') {
        const auto verbs = app.get_subcommands([](const CLI::App*) { return true; });
        const bool verb = std::any_of(verbs.begin(), verbs.end(),
                                      [&](const CLI::App* v) { return v->check_name(args[0]); });
        if (!verb) args.insert(args.begin(), "build");
    }
    std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
    return args;
}

}  // namespace pib::cli
