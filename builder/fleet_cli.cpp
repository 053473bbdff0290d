// Registration of the fleet commands: their options, help and dispatch.
#include "builder/fleet_cli.hpp"

#include <cstdlib>

#include "builder/fleet_config.hpp"
#include "builder/fleet_context.hpp"
#include "store/rollout_plan.hpp"

namespace pib::cli {

namespace {

void add_store(CLI::App* c, FleetArgs& a) {
    c->add_option("-s,--store", a.store, "The store: releases in <store>/releases, state in <store>/state.db "
                                         "(default: $PIB_STORE, else the config's store, else /var/lib/netbootd)")
        ->check(CLI::ExistingDirectory);
    c->add_option("--config", a.config,
                  "netbootd's config, where the store, inventory, state and public key are read from "
                  "(default: $PIB_CONFIG, else /etc/netbootd/netbootd.yaml when it exists and --store names no "
                  "other store)");
}

void add_json(CLI::App* c, FleetArgs& a) { c->add_flag("--json", a.json, "Machine-readable output on stdout"); }

void add_pubkey(CLI::App* c, FleetArgs& a) {
    c->add_option("-p,--pubkey", a.pubkey,
                  "Public key releases must verify with (default: the config's public-key, else <store>/fleet.pub)")
        ->check(CLI::ExistingFile);
}

void add_inventory(CLI::App* c, FleetArgs& a) {
    c->add_option("-i,--inventory", a.inventory,
                  "The fleet inventory (default: the config's inventory, else <store>/nodes.yaml)")
        ->check(CLI::ExistingFile);
}

CLI::App* command(CLI::App& parent, const char* name, const char* help, FleetArgs& a) {
    auto* c = parent.add_subcommand(name, help);
    add_store(c, a);
    add_json(c, a);
    return c;
}

}  // namespace

const std::vector<std::string>& FleetCommands::verbs() {
    static const std::vector<std::string> v = {"publish", "release", "channel", "node", "rollout",
                                               "rollback", "status",  "history", "gc"};
    return v;
}

FleetCommands::FleetCommands(CLI::App& app) {
    FleetArgs& a = a_;
    publish_ = command(app, "publish", "Verify a release and copy it into the store atomically", a);
    publish_->add_option("dir", a.dir, "Release directory (as pibuild build wrote it)")
        ->required()
        ->check(CLI::ExistingDirectory);
    add_pubkey(publish_, a);

    auto* release = app.add_subcommand("release", "The releases in the store");
    release->require_subcommand(1);
    release_list_ = command(*release, "list",
                            "Every release: name, version, arch, whether it verifies (and why not), size, "
                            "what uses it",
                            a);
    add_pubkey(release_list_, a);
    add_inventory(release_list_, a);

    auto* channel = app.add_subcommand("channel", "Channels point at releases; nodes follow a channel");
    channel->require_subcommand(1);
    channel_set_ = command(*channel, "set", "Point a channel at a published release", a);
    channel_set_->add_option("channel", a.channel, "Channel name (e.g. stable)")->required();
    channel_set_->add_option("release", a.release,
                             "Release id, or its short form as tables print it; optional with --window");
    add_inventory(channel_set_, a);
    channel_set_->footer("Refused when an inventory is found and none of its nodes follows the channel and it "
                         "is not the inventory's default channel (a typo would otherwise point nothing anywhere).");
    channel_set_->add_option("--window", a.window,
                             "Maintenance window HH:MM-HH:MM for on-node automatic reboots (\"\" clears it)");
    add_pubkey(channel_set_, a);
    channel_list_ = command(*channel, "list", "Every channel, its release, previous release and window", a);

    auto* node = app.add_subcommand("node", "Nodes: list, show where each value comes from, pin, unpin");
    node->require_subcommand(1);
    node_pin_ = command(*node, "pin", "Pin a node to a published release (wins over channels and rollouts)", a);
    node_pin_->add_option("node", a.node, "Node name (checked against the inventory when there is one)")->required();
    node_pin_->add_option("release", a.release, "Release id (or its short form)")->required();
    add_pubkey(node_pin_, a);
    add_inventory(node_pin_, a);
    node_unpin_ = command(*node, "unpin", "Remove a node's pin: it follows its channel again (no pin: nothing to do)", a);
    node_unpin_->add_option("node", a.node, "Node name")->required();
    node_list_ = command(*node, "list",
                         "Every node: serial or MACs, channel or pin, desired and booted release, last report", a);
    add_inventory(node_list_, a);
    add_pubkey(node_list_, a);
    node_show_ = command(*node, "show", "Every field of one node and where its value came from", a);
    node_show_->add_option("node", a.node, "Node name")->required();
    add_inventory(node_show_, a);
    add_pubkey(node_show_, a);

    rollout_ = command(app, "rollout", "Move a channel's nodes to a release wave by wave, with health gates", a);
    rollout_->add_option("release", a.release, "The release to roll out (id or short form)");
    rollout_->add_option("-c,--channel", a.channel, "The channel whose nodes move");
    rollout_->add_option("--waves", a.waves, "Cumulative targets: node counts or percentages of the channel's nodes")
        ->default_str(store::kDefaultWaves);
    rollout_->add_option("--max-failures", a.max_failures, "Halt when more nodes than this fail (any node missing the health timeout halts)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    rollout_->add_option("--health-timeout", a.health_timeout,
                         "How long a wave's nodes have to report healthy (90s, 10m, 1h)")
        ->capture_default_str();
    rollout_->add_option("--gate", a.gate,
                         "Which report passes a node: health (the on-node agent's, after boot), boot (pib-init's is "
                         "enough) or auto (health when the release ships pib-agent, else boot)")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "boot", "health"}));
    add_inventory(rollout_, a);
    add_pubkey(rollout_, a);
    rollout_->add_flag("--detach", a.detach, "Start it and return (netbootd moves it forward)");
    rollout_->require_subcommand(0, 1);
    rollout_->footer("Without --detach it follows the rollout, printing wave progress, until it completes (exit 0) "
                     "or halts or is aborted (exit 1). Interrupting it does not stop the rollout.");
    rollout_status_ = command(*rollout_, "status", "Show a rollout and its waves (the active ones by default)", a);
    rollout_status_->add_option("id", a.rollout_id, "Rollout id");
    rollout_status_->add_option("-c,--channel", a.channel, "The channel's active (or newest) rollout");
    for (auto [ptr, name, help] : {std::tuple{&rollout_pause_, "pause", "Start no new wave until resumed"},
                                   std::tuple{&rollout_resume_, "resume", "Continue a paused rollout"},
                                   std::tuple{&rollout_abort_, "abort", "Stop it: its nodes go back to the old release"}}) {
        *ptr = command(*rollout_, name, help, a);
        (*ptr)->add_option("id", a.rollout_id, "Rollout id");
        (*ptr)->add_option("-c,--channel", a.channel, "The channel's active rollout");
    }
    rollout_abort_->add_option("--reason", a.reason, "Recorded in the rollout and history");

    rollback_ = command(app, "rollback", "One atomic step back: abort the channel's rollout, previous release", a);
    rollback_->add_option("-c,--channel", a.channel, "The channel")->required();
    rollback_->add_option("--to", a.to, "Go to this published release (id or short form) instead of the previous one");
    add_pubkey(rollback_, a);

    status_ = command(app, "status", "One row per node: channel, desired and booted release, health, wave", a);
    add_inventory(status_, a);
    add_pubkey(status_, a);

    history_ = command(app, "history", "Every change to the fleet state: who, when, what", a);
    history_->add_option("-n,--limit", a.limit, "How many entries, newest first (0: all)")->capture_default_str();

    gc_ = command(app, "gc", "Remove releases no channel, pin, rollout or recent history refers to", a);
    gc_->add_option("--keep-history", a.keep_history, "Also keep the releases of the newest N channel changes")
        ->capture_default_str();
    gc_->add_flag("--dry-run", a.dry_run, "List what would be removed");
    add_inventory(gc_, a);
    // `pibuild nodes render|verify` (cli/app.cpp) read the same config.
    adopt_nodes_commands(app);
}

std::optional<int> FleetCommands::run() {
    bool chosen = false;
    for (auto* c : {publish_, release_list_, channel_set_, channel_list_, node_pin_, node_unpin_, node_list_,
                    node_show_, rollout_, rollback_, status_, history_, gc_})
        chosen |= c->parsed();
    if (!chosen) return std::nullopt;
    if (auto st = fleet::resolve_paths(a_); !st) return fleet::report(st.error());
    if (a_.waves.empty()) a_.waves = store::kDefaultWaves;
    if (*publish_) return fleet::cmd_publish(a_);
    if (*release_list_) return fleet::cmd_release_list(a_);
    if (*node_list_) return fleet::cmd_node_list(a_);
    if (*node_show_) return fleet::cmd_node_show(a_);
    if (*channel_set_) return fleet::cmd_channel_set(a_);
    if (*channel_list_) return fleet::cmd_channel_list(a_);
    if (*node_pin_) return fleet::cmd_node_pin(a_);
    if (*node_unpin_) return fleet::cmd_node_unpin(a_);
    if (*rollout_status_) return fleet::cmd_rollout_status(a_);
    if (*rollout_pause_) return fleet::cmd_rollout_control(a_, "pause");
    if (*rollout_resume_) return fleet::cmd_rollout_control(a_, "resume");
    if (*rollout_abort_) return fleet::cmd_rollout_control(a_, "abort");
    if (*rollout_) return fleet::cmd_rollout_start(a_);
    if (*rollback_) return fleet::cmd_rollback(a_);
    if (*status_) return fleet::cmd_status(a_);
    if (*history_) return fleet::cmd_history(a_);
    if (*gc_) return fleet::cmd_gc(a_);
    return std::nullopt;
}

}  // namespace pib::cli
