#include "builder/fleet_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

namespace pib::cli::fleet {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v && *v ? v : "";
}

}  // namespace

Result<std::optional<netbootd::NetbootdConfig>> load_fleet_config(const std::string& config_flag,
                                                                  bool store_given) {
    fs::path path = config_flag.empty() ? fs::path(env("PIB_CONFIG")) : fs::path(config_flag);
    if (path.empty()) {
        // Not named: the installed default, when there is one.
        std::error_code ec;
        if (!fs::exists(kDefaultConfig, ec)) return std::optional<netbootd::NetbootdConfig>();
        path = kDefaultConfig;
        if (store_given) return std::optional<netbootd::NetbootdConfig>();  // resolve_paths decides
    }
    Diagnostics diags;
    // The files it names are checked by the commands that use them, with
    // their own hints; --check-config is netbootd's to run.
    auto cfg = netbootd::load_netbootd_config(path, diags, {.check_files = false});
    if (!cfg) {
        if (!diags.empty()) std::fputs(diags.str().c_str(), stderr);
        return fail(Errc::invalid,
                    path.string() +
                        ": the fleet commands read the store, inventory and public key "
                        "from this config, and it " +
                        (diags.empty() ? cfg.error().message : "has problems (above)") +
                        " (name another with --config FILE or $PIB_CONFIG, or choose the store "
                        "with --store DIR)");
    }
    return std::optional<netbootd::NetbootdConfig>(std::move(*cfg));
}

Status resolve_paths(FleetArgs& a) {
    if (a.store.empty()) a.store = env("PIB_STORE");
    bool store_given = !a.store.empty();
    auto cfg = load_fleet_config(a.config, store_given);
    if (!cfg) return cfg.error();
    if (!*cfg && store_given && a.config.empty() && env("PIB_CONFIG").empty()) {
        // --store names the configured store: the config's inventory, key
        // and state still apply. Any other store goes without it.
        Diagnostics quiet;
        auto c = netbootd::load_netbootd_config(kDefaultConfig, quiet, {.check_files = false});
        std::error_code ec;
        if (c && fs::equivalent(c->store, a.store, ec)) {
            *cfg = std::move(*c);
            store_given = false;
        }
    }
    a.inventory_named = !a.inventory.empty();
    if (*cfg) {
        const auto& c = **cfg;
        a.config_used = c.file.string();
        if (!store_given) a.store = c.store.string();
        // Another store keeps its own state; the configured store, the configured state.
        a.state_db = store_given ? (fs::path(a.store) / "state.db").string() : c.state_db.string();
        if (a.inventory.empty() && c.inventory) {
            a.inventory = c.inventory->string();
            a.inventory_named = true;
        }
        if (a.pubkey.empty()) a.pubkey = c.public_key.string();
        a.fallback_release = c.tftp.default_release;
    }
    if (a.store.empty()) a.store = "/var/lib/netbootd";
    if (a.state_db.empty()) a.state_db = (fs::path(a.store) / "state.db").string();
    if (a.inventory.empty()) a.inventory = (fs::path(a.store) / "nodes.yaml").string();
    if (a.pubkey.empty()) a.pubkey = (fs::path(a.store) / "fleet.pub").string();
    return {};
}

}  // namespace pib::cli::fleet

namespace pib::cli {

namespace {

CLI::Option* find_option(CLI::App& app, const char* name) {
    try {
        return app.get_option(name);
    } catch (const CLI::OptionNotFound&) {
        return nullptr;
    }
}

// Gives `o` the value `v` as if typed (its validators run), unless it was given.
void fill(CLI::Option* o, const std::string& v) {
    if (!o || o->count() > 0 || v.empty()) return;
    o->add_result(v);
    o->run_callback();
}

}  // namespace

void adopt_nodes_commands(CLI::App& app) {
    CLI::App* nodes = nullptr;
    for (auto* c : app.get_subcommands({}))
        if (c->get_name() == "nodes") nodes = c;
    if (!nodes) return;
    for (auto* sub : nodes->get_subcommands({})) {
        auto config = std::make_shared<std::string>();
        sub->add_option(
            "--config", *config,
            "netbootd's config, where --store, --inventory and the keys are read from (default: "
            "$PIB_CONFIG, else /etc/netbootd/netbootd.yaml when it exists); the private key is the "
            "public key's sibling (fleet.pub -> fleet.key)");
        for (const char* name : {"--store", "--inventory", "--key", "--pubkey"})
            if (auto* o = find_option(*sub, name)) o->required(false);
        sub->final_callback([sub, config] {
            auto* store = find_option(*sub, "--store");
            auto* inventory = find_option(*sub, "--inventory");
            auto* key = find_option(*sub, "--key");
            auto* pubkey = find_option(*sub, "--pubkey");
            FleetArgs a;
            a.config = *config;
            if (store && store->count()) a.store = store->as<std::string>();
            if (inventory && inventory->count()) a.inventory = inventory->as<std::string>();
            if (pubkey && pubkey->count()) a.pubkey = pubkey->as<std::string>();
            if (auto st = fleet::resolve_paths(a); !st)
                throw CLI::ValidationError("--config", st.error().message);
            fill(store, a.store);
            fill(inventory, a.inventory);
            fill(pubkey, a.pubkey);
            if (key && !key->count()) {
                // The signing key lives beside the public key the config names.
                if (a.config_used.empty())
                    throw CLI::RequiredError(
                        "--key (or a config naming public-key, whose .key sibling is used)");
                fill(key, std::filesystem::path(a.pubkey).replace_extension(".key").string());
            }
        });
    }
}

}  // namespace pib::cli
