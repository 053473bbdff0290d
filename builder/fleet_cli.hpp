// The fleet commands of pibuild: publish, release, channel, node, rollout,
// rollback, status, history, gc (docs/store.md). cli/app.cpp registers them and asks
// run() after parsing; all the work is in lib/store and lib/release.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace pib::cli {

/// Everything the fleet commands take; one command runs per invocation.
/// The paths are resolved by fleet_config.cpp before a command runs: the
/// flag, else the config's value, else the default named here.
struct FleetArgs {
    std::string config;     ///< --config; default $PIB_CONFIG, else /etc/netbootd/netbootd.yaml when present
    std::string store;      ///< --store; default $PIB_STORE, the config's store, /var/lib/netbootd
    std::string pubkey;     ///< --pubkey; default the config's public-key, else <store>/fleet.pub
    std::string inventory;  ///< --inventory; default the config's inventory, else <store>/nodes.yaml
    std::string state_db;   ///< the config's state, else <store>/state.db (not a flag)
    bool inventory_named = false;  ///< given by flag or config: it must exist
    std::string config_used;       ///< the config file read ("" none), for messages
    std::optional<std::string> fallback_release;  ///< the config's tftp.root-fallback release
    bool json = false;
    std::string dir;        ///< publish DIR
    std::string channel;
    std::string release;
    std::optional<std::string> window;
    std::string node;
    std::string waves;
    int max_failures = 0;
    std::string health_timeout = "10m";
    std::string gate = "auto";  ///< rollout --gate: auto, boot or health
    bool detach = false;
    std::string rollout_id;  ///< rollout status/pause/resume/abort ID
    std::optional<std::string> to;
    std::string reason;
    std::size_t limit = 20;
    std::size_t keep_history = 5;
    bool dry_run = false;
};

/// Lets `pibuild nodes render|verify` (cli/app.cpp) take --store, --inventory,
/// --key and --pubkey from the config as the fleet commands do: adds
/// --config to them and fills what the command line left out when parsing
/// completes. Does nothing when `app` has no `nodes` command.
void adopt_nodes_commands(CLI::App& app);

class FleetCommands {
public:
    /// Registers the fleet subcommands on `app`.
    explicit FleetCommands(CLI::App& app);
    /// Runs the chosen fleet command and returns its exit code (0 ok, 1
    /// failed, 2 bad input); nullopt when the command line chose none of them.
    std::optional<int> run();
    /// The first words that name a fleet command (for main's verb list).
    static const std::vector<std::string>& verbs();

private:
    FleetArgs a_;
    CLI::App* publish_ = nullptr;
    CLI::App* channel_set_ = nullptr;
    CLI::App* channel_list_ = nullptr;
    CLI::App* node_pin_ = nullptr;
    CLI::App* node_unpin_ = nullptr;
    CLI::App* rollout_ = nullptr;
    CLI::App* rollout_status_ = nullptr;
    CLI::App* rollout_pause_ = nullptr;
    CLI::App* rollout_resume_ = nullptr;
    CLI::App* rollout_abort_ = nullptr;
    CLI::App* rollback_ = nullptr;
    CLI::App* status_ = nullptr;
    CLI::App* history_ = nullptr;
    CLI::App* gc_ = nullptr;
    CLI::App* release_list_ = nullptr;
    CLI::App* node_list_ = nullptr;
    CLI::App* node_show_ = nullptr;
};

}  // namespace pib::cli
