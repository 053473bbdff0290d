#include "tools/gendocs/pages.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "builder/recipe.hpp"
#include "common/version.hpp"
#include "config/yaml_reader.hpp"
#include "inventory/inventory_schema.hpp"
#include "netbootd/config_schema.hpp"
#include "tools/gendocs/cli_page.hpp"
#include "tools/gendocs/key_page.hpp"

namespace pib::gendocs {

namespace {

const std::string kManual = "pibuild and netbootd";

std::string source_name() { return "pibuild " + std::string(version()); }

void name_section(ManPage& p, const std::string& name, const std::string& what) {
    p.section("NAME");
    p.raw(roff_code(name) + " \\- " + roff_text(what));
}

void see_also(ManPage& p, const std::vector<std::string>& refs) {
    p.section("SEE ALSO");
    std::string line;
    for (std::size_t i = 0; i < refs.size(); ++i) {
        const std::string& r = refs[i];
        const std::size_t paren = r.find('(');
        line += bold(r.substr(0, paren)) + roff_text(r.substr(paren)) +
                (i + 1 < refs.size() ? ",\n" : "");
    }
    p.raw(line);
    p.para(
        "The guides (running it on your own network, troubleshooting, the store, boot and overlay "
        "formats) are in /usr/share/doc/pibuild/.");
}

std::string pibuild_page(const CLI::App& app) {
    ManPage p("pibuild", 1, source_name(), kManual);
    name_section(p, "pibuild", summary(app));
    p.section("SYNOPSIS");
    p.raw(bold("pibuild") + " [" + italic("options") + "] " + italic("RECIPE"));
    p.raw(".br");
    p.raw(synopsis_roff(app) + " [" + italic("options") + "] [" + italic("ARGUMENTS") + "]");
    p.section("DESCRIPTION");
    p.para(
        "pibuild builds releases and runs a fleet. A recipe (pibuild-recipe(5)) becomes a release: "
        "a reproducible, signed, read-only squashfs root with its boot files, in a directory named "
        "by a content-derived id. Releases are published into the store that netbootd(8) serves; "
        "channels point at releases, nodes follow a channel or are pinned, rollouts move a "
        "channel's nodes wave by wave with health gates, and every change is recorded.");
    p.para(
        "The fleet commands read the store, the inventory (pibuild-nodes(5)), the fleet state and "
        "the public key from netbootd's config, /etc/netbootd/netbootd.yaml (netbootd.yaml(5)), "
        "so that on an installed system they need no options.");
    if (!app.get_footer().empty()) p.para(app.get_footer());
    p.section("COMMANDS");
    write_commands(p, app);
    p.section("OPTIONS");
    p.para("Every command also takes -h, --help.");
    write_options(p, app, true);
    p.section("EXIT STATUS");
    p.tagged(bold("0"), "Success.");
    p.tagged(bold("1"),
             "The operation failed (a build step, a release that does not verify, a "
             "rollout that halted or was aborted).");
    p.tagged(bold("2"),
             "Bad input: arguments, a recipe, inventory or config with errors (each reported "
             "as file:line:col), an unknown name.");
    p.section("ENVIRONMENT");
    p.tagged(bold("SOURCE_DATE_EPOCH"),
             "Timestamp of a build's output when --source-date-epoch is not given.");
    p.tagged(bold("PIB_CONFIG"),
             "netbootd's config for the fleet commands, when --config is not given.");
    p.tagged(bold("PIB_STORE"), "The store, when --store is not given.");
    p.tagged(bold("PIBUILD_INIT_AMD64") + ", " + bold("PIBUILD_INIT_ARM64") + ", " +
                 bold("PIBUILD_AGENT_AMD64") + ", " + bold("PIBUILD_AGENT_ARM64"),
             "The pib-init and pib-agent programs baked into releases, instead of the installed "
             "/usr/lib/pibuild/ARCH/pib-init and pib-agent.");
    p.tagged(bold("PIBUILD_GUESTFS_KVM"), "1: let libguestfs try KVM when importing a disk image.");
    p.para("A recipe's ${VAR} references are expanded from the environment (pibuild-recipe(5)).");
    p.section("FILES");
    p.tagged(
        bold("fleet.key") + ", " + bold("fleet.pub"),
        "The key pair pibuild keygen writes by default and pibuild build signs with; installed "
        "systems keep them as /etc/netbootd/fleet.key (mode 0600) and /etc/netbootd/fleet.pub.");
    p.tagged(bold("/etc/netbootd/netbootd.yaml"), "netbootd's config, read by the fleet commands.");
    p.tagged(bold("/var/lib/netbootd"), "The store: releases/, overlays/, state.db.");
    p.tagged(bold("/var/tmp/pibuild") + ", " + bold("/var/cache/pibuild"),
             "Where builds stage roots and keep downloaded inputs.");
    p.tagged(bold("/var/lib/pibuild/secrets"), "Each node's SSH host keys and machine-id.");
    p.section("EXAMPLES");
    p.literal(
        "pibuild keygen                        # fleet.key (0600) and fleet.pub\n"
        "pibuild recipes/demo-x86.yaml         # build: releases/<id>/\n"
        "pibuild publish releases/<id>\n"
        "pibuild channel set stable <id>\n"
        "pibuild rollout <id> --channel stable\n"
        "pibuild status\n");
    see_also(p, {"netbootd(8)", "pibuild-recipe(5)", "pibuild-nodes(5)", "netbootd.yaml(5)"});
    return p.str();
}

std::string netbootd_page(const CLI::App& app) {
    ManPage p("netbootd", 8, source_name(), kManual);
    name_section(p, "netbootd", summary(app));
    p.section("SYNOPSIS");
    p.raw(bold("netbootd") + " " + bold("--config") + " " + italic("FILE") + " [" +
          bold("--keep-privileges") + "]");
    p.raw(".br");
    p.raw(bold("netbootd") + " " + bold("--check-config") + " " + italic("FILE"));
    p.section("DESCRIPTION");
    p.para(
        "netbootd boots Raspberry Pi 4/5 and PXE, iPXE and UEFI HTTP clients from the releases "
        "pibuild(1) publishes, next to the network's existing DHCP server: proxyDHCP (or a full "
        "DHCP server), TFTP and HTTP in one daemon with one config file (netbootd.yaml(5)).");
    p.para(
        "Every release in the store is verified against the configured public key before anything "
        "of it is served. The config, the inventory and the releases are read at start and "
        "again on SIGHUP, when a release is published or removed, and when the inventory changes; "
        "a config or inventory with problems is refused and the running one keeps serving.");
    p.para(
        "netbootd starts as root, binds its ports and then runs as the configured user. Logs are "
        "one line per event on standard error: LEVEL subsystem event key=value ...");
    p.section("OPTIONS");
    write_options(p, app, true);
    if (!app.get_footer().empty()) p.para(app.get_footer());
    p.section("SIGNALS");
    p.tagged(bold("SIGHUP"), "Re-read the config, the inventory and the store.");
    p.tagged(bold("SIGTERM") + ", " + bold("SIGINT"), "Stop.");
    p.section("EXIT STATUS");
    p.tagged(bold("0"), "Stopped by a signal, or --check-config found no problem.");
    p.tagged(bold("1"), "Failed while starting or running.");
    p.tagged(bold("2"),
             "The config (or its inventory or key) has problems, each printed as file:line:col.");
    p.section("FILES");
    p.tagged(bold("/etc/netbootd/netbootd.yaml"), "The config.");
    p.tagged(bold("/etc/netbootd/nodes.yaml"),
             "The inventory, when the config names it (pibuild-nodes(5)).");
    p.tagged(bold("/etc/netbootd/fleet.pub"),
             "The public key releases and overlays must verify with.");
    p.tagged(bold("/var/lib/netbootd"), "The store: releases/, overlays/, state.db.");
    see_also(p, {"netbootd.yaml(5)", "pibuild(1)", "pibuild-nodes(5)", "systemd.service(5)"});
    return p.str();
}

std::string format_page(const std::string& name, const std::string& what,
                        const std::vector<std::string>& description,
                        const std::vector<MapDoc>& maps, const std::string& example_title,
                        const std::string& example, const std::vector<std::string>& refs) {
    ManPage p(name, 5, source_name(), kManual);
    name_section(p, name, what);
    p.section("DESCRIPTION");
    for (const auto& d : description) p.para(d);
    p.para(
        "Unknown keys, values of the wrong type and combinations that cannot work are refused, "
        "every problem at once, each as file:line:col: key.path: message.");
    p.section("KEYS");
    write_keys(p, maps);
    p.section("EXAMPLE");
    p.para(example_title);
    p.literal(example);
    see_also(p, refs);
    return p.str();
}

}  // namespace

std::string read_source(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot read it");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<OutputFile> man_pages(const PageSources& s) {
    std::vector<OutputFile> out;
    out.push_back({"man/pibuild.1", pibuild_page(*s.pibuild)});
    out.push_back({"man/netbootd.8", netbootd_page(*s.netbootd)});
    out.push_back(
        {"man/netbootd.yaml.5",
         format_page("netbootd.yaml", "netbootd configuration file",
                     {"/etc/netbootd/netbootd.yaml configures netbootd(8): the store it serves, "
                      "the key releases must verify with, the inventory, where it listens, "
                      "DHCP, TFTP, NFS and HTTP. YAML, one document, a map; paths are absolute.",
                      "The fleet commands of pibuild(1) read the store, inventory, state and "
                      "public key from the same file. netbootd --check-config FILE checks it."},
                     netbootd::config_maps(), "A complete config:",
                     read_source(s.source_dir / "docs/examples/netbootd.yaml"),
                     {"netbootd(8)", "pibuild(1)", "pibuild-nodes(5)"})});
    out.push_back(
        {"man/pibuild-recipe.5",
         format_page("pibuild-recipe", "pibuild recipe format",
                     {"A recipe is a YAML file that says what a release is built from: a base "
                      "root tree, the steps that change it, the boot files taken out of it and "
                      "how the read-only squashfs is written. pibuild RECIPE turns it into a "
                      "release; pibuild build --check RECIPE only checks it.",
                      "The recipe is read and checked completely before anything is built. "
                      "Relative host paths are relative to the recipe's directory; ${VAR} is "
                      "expanded from the environment, and an unset variable is an error."},
                     recipe_reference_maps(), "The demo recipe (recipes/demo-x86.yaml):",
                     read_source(s.source_dir / "recipes/demo-x86.yaml"),
                     {"pibuild(1)", "pibuild-nodes(5)"})});
    out.push_back(
        {"man/pibuild-nodes.5",
         format_page("pibuild-nodes", "the fleet inventory, nodes.yaml",
                     {"nodes.yaml names every node of the fleet: how netbootd(8) recognises it "
                      "(a Raspberry Pi's serial, MAC addresses), what it boots (a channel or a "
                      "pinned release) and what its overlay holds (hostname, SSH host keys, "
                      "fstab, authorized keys, files). pibuild nodes render turns it into one "
                      "signed overlay per node.",
                      "Installed systems keep it as /etc/netbootd/nodes.yaml, named by the "
                      "inventory key of netbootd.yaml(5)."},
                     inventory::inventory_maps(), "A complete inventory:",
                     read_source(s.source_dir / "docs/examples/nodes.yaml"),
                     {"pibuild(1)", "netbootd(8)", "netbootd.yaml(5)"})});
    return out;
}

}  // namespace pib::gendocs
