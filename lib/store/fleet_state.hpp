// The fleet state: where channels point, which nodes are pinned, rollouts and
// their progress, what nodes reported, and the history of every change. One
// interface (STYLE.md rule 5) so that a fleet spanning several boot servers
// can later keep it in a database server; SQLite (<store>/state.db, WAL) here.
// Every change is one transaction: a crash at any moment leaves the old or the
// new state. Readers (netbootd) and writers (the CLI) use it at the same time
// from different processes. docs/store.md describes the model.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::store {

/// A report a node sent (from its initramfs, or from the on-node health service).
struct BootReport {
    std::string node;
    std::string release;
    std::string kind = "boot";  ///< "boot" or "health"
    bool healthy = true;
    std::int64_t at = 0;        ///< unix seconds when received
    std::string address;        ///< where it came from
    std::string detail_json;    ///< the report's JSON body as received (timings, messages)
};

struct Channel {
    std::string name;
    std::string release;
    /// Maintenance window for on-node automatic reboots, "HH:MM-HH:MM" local
    /// time of the node (may wrap midnight); empty = no automatic reboots.
    std::string window;
    std::int64_t updated_at = 0;
    std::string updated_by;
    /// The release it pointed at before `release` ("" when none): where a
    /// rollback without --to goes.
    std::string previous;
};

/// A maintenance window in minutes after midnight; end < start wraps midnight.
struct Window {
    int start_min = 0;
    int end_min = 0;
    /// True when `minute_of_day` (0..1439) lies in [start, end).
    bool contains(int minute_of_day) const;
};
/// Parses "HH:MM-HH:MM" (24-hour); nullopt when malformed or empty-length.
std::optional<Window> parse_window(std::string_view text);

struct Pin {
    std::string node;
    std::string release;
    std::int64_t at = 0;
    std::string by;
};

enum class RolloutState {
    running,    ///< waves are being started as the previous ones turn healthy
    paused,     ///< started waves keep the new release; no new wave starts
    completed,  ///< every wave healthy: the channel now points at the new release
    halted,     ///< failures or timeouts: every node is served the old release again
    aborted,    ///< stopped by an operator or a rollback: old release again
};
const char* rollout_state_name(RolloutState s);
std::optional<RolloutState> parse_rollout_state(std::string_view s);
/// running or paused: the rollout still decides what some nodes boot.
inline bool is_active(RolloutState s) { return s == RolloutState::running || s == RolloutState::paused; }

enum class NodeProgress {
    pending,   ///< its wave has not started: served the old release
    updating,  ///< its wave started: served the new release, no healthy report on it yet
    healthy,   ///< reported healthy on the new release after its wave started
    failed,    ///< reported unhealthy on the new release
    timed_out, ///< not healthy within the health timeout
};
const char* node_progress_name(NodeProgress p);

/// Which report passes a node through a wave's gate.
enum class HealthGate {
    boot,    ///< a healthy report of either kind: pib-init's boot report is enough
    health,  ///< a healthy report from the on-node agent after boot (the release ships pib-agent)
};
const char* health_gate_name(HealthGate g);
std::optional<HealthGate> parse_health_gate(std::string_view s);
std::optional<NodeProgress> parse_node_progress(std::string_view s);

struct RolloutNode {
    std::string node;
    int wave = 0;  ///< 0-based wave index
    NodeProgress progress = NodeProgress::pending;
    std::int64_t changed_at = 0;
};

struct Rollout {
    std::int64_t id = 0;
    std::string channel;
    std::string from_release;  ///< what the channel pointed at when the rollout started
    std::string to_release;
    std::string waves_spec;    ///< as given, e.g. "1,10%,50%,100%"
    int wave_count = 0;
    int max_failures = 0;      ///< halt when more nodes than this failed or timed out
    std::int64_t health_timeout_s = 600;
    HealthGate gate = HealthGate::boot;
    RolloutState state = RolloutState::running;
    int current_wave = 0;      ///< index of the newest started wave
    std::int64_t wave_started_at = 0;
    /// Nodes of the current wave not healthy by then time out: wave_started_at
    /// + health_timeout_s, or resume time + health_timeout_s after a pause.
    std::int64_t wave_deadline = 0;
    std::int64_t created_at = 0;
    std::string created_by;
    std::int64_t finished_at = 0;  ///< 0 while active
    std::string reason;            ///< why it halted / was aborted; empty otherwise
    std::vector<RolloutNode> nodes;
};

/// What `start_rollout` needs; the waves are already resolved to node names
/// (store/rollout_plan.hpp turns "1,10%,50%,100%" plus the inventory into this).
struct RolloutPlan {
    std::string channel;
    std::string to_release;
    std::string waves_spec;
    std::vector<std::vector<std::string>> waves;  ///< node names per wave, every wave non-empty
    int max_failures = 0;
    std::int64_t health_timeout_s = 600;
    HealthGate gate = HealthGate::boot;
};

struct HistoryEntry {
    std::int64_t id = 0;
    std::int64_t at = 0;
    std::string who;
    std::string action;       ///< "channel set", "pin", "unpin", "rollout start", "rollback", ...
    std::string detail_json;  ///< the change as JSON (channel, from, to, node, rollout id, ...)
};

/// Everything netbootd needs to decide what a node boots, read in one
/// transaction so that it is consistent: channels, pins and, for every active
/// rollout, which node is served which release.
struct FleetView {
    std::map<std::string, Channel> channels;
    std::map<std::string, Pin> pins;
    /// node -> release that an active rollout serves it (the new release for
    /// nodes of started waves). Nodes of halted/aborted rollouts are absent.
    std::map<std::string, std::string> rollout_release;
    /// node -> (rollout id, wave) for nodes in an active rollout.
    std::map<std::string, std::pair<std::int64_t, int>> rollout_wave;
    std::uint64_t version = 0;  ///< change_counter() when read
};

/// Which release a node should boot, in priority order: a pin in the fleet
/// state, a release pinned in the inventory, an active rollout, its channel.
/// nullopt when none applies (the channel was never set).
struct Desired {
    std::string release;
    std::string reason;  ///< "pinned", "inventory pin", "rollout 3 wave 2", "channel stable"
};
std::optional<Desired> desired_release(const FleetView& view, std::string_view node,
                                       std::string_view channel,
                                       const std::optional<std::string>& inventory_release);

class FleetState {
public:
    virtual ~FleetState() = default;

    // ---- channels
    /// The release `channel` points at; nullopt when the channel was never set.
    virtual Result<std::optional<std::string>> channel_release(std::string_view channel) = 0;
    /// Every channel and its release.
    virtual Result<std::map<std::string, std::string>> channels() = 0;
    virtual Result<std::vector<Channel>> channel_list() = 0;
    /// Points `channel` at `release` (recorded in history with `who`). Refused
    /// (Errc::exists) while a rollout on the channel is active.
    virtual Status set_channel(std::string_view channel, std::string_view release, std::string_view who) = 0;
    /// set_channel and, when `window` is given, set_channel_window, in one transaction.
    virtual Status configure_channel(std::string_view channel, std::string_view release,
                                     const std::optional<std::string>& window, std::string_view who) = 0;
    /// Sets the channel's maintenance window ("" clears it). The channel must exist.
    virtual Status set_channel_window(std::string_view channel, std::string_view window, std::string_view who) = 0;
    /// One atomic step back: aborts an active rollout on the channel (its nodes
    /// go back to the old release) and points the channel at `to`, or when
    /// absent at the release it pointed at before its current one. Returns the
    /// release the channel now points at. Errc::not_found when there is
    /// nothing to go back to.
    virtual Result<std::string> rollback(std::string_view channel, const std::optional<std::string>& to,
                                         std::string_view who) = 0;

    // ---- pins
    virtual Status pin(std::string_view node, std::string_view release, std::string_view who) = 0;
    /// Errc::not_found when the node is not pinned.
    virtual Status unpin(std::string_view node, std::string_view who) = 0;
    virtual Result<std::map<std::string, Pin>> pins() = 0;

    // ---- rollouts
    /// Starts a rollout from the channel's current release. Refused with
    /// Errc::exists (message naming the running rollout) when one is active on
    /// the channel; Errc::invalid when the channel is unset or already there.
    virtual Result<std::int64_t> start_rollout(const RolloutPlan& plan, std::string_view who) = 0;
    virtual Result<std::optional<Rollout>> rollout(std::int64_t id) = 0;
    /// The active rollout of `channel`, if any.
    virtual Result<std::optional<Rollout>> active_rollout(std::string_view channel) = 0;
    /// Newest first; `limit` 0 = all.
    virtual Result<std::vector<Rollout>> rollouts(std::size_t limit) = 0;
    /// pause (running -> paused), resume (paused -> running; the current wave's
    /// timeout restarts), abort (active -> aborted with `reason`).
    virtual Status pause_rollout(std::int64_t id, std::string_view who) = 0;
    virtual Status resume_rollout(std::int64_t id, std::string_view who, std::int64_t now) = 0;
    virtual Status abort_rollout(std::int64_t id, std::string_view reason, std::string_view who) = 0;
    /// Moves every running rollout forward from the reports received so far,
    /// as of `now` (unix seconds): marks nodes healthy/failed/timed out, halts
    /// a rollout whose failures exceed max_failures or whose nodes missed the
    /// timeout, starts the next wave when the current one is all healthy,
    /// completes it (channel -> new release) after the last. One transaction
    /// per rollout; safe to call from several processes at once. Returns the
    /// ids of rollouts that changed.
    virtual Result<std::vector<std::int64_t>> advance_rollouts(std::int64_t now) = 0;

    // ---- reads for netbootd
    virtual Result<FleetView> view() = 0;

    // ---- reports
    virtual Status add_report(const BootReport& report) = 0;
    /// The newest report of `node`, if any.
    virtual Result<std::optional<BootReport>> last_report(std::string_view node) = 0;
    /// The newest report of every node that sent one.
    virtual Result<std::map<std::string, BootReport>> last_reports() = 0;

    // ---- history and garbage collection
    /// Newest first; `limit` 0 = all.
    virtual Result<std::vector<HistoryEntry>> history(std::size_t limit) = 0;
    /// Records an event that is not a state change of its own (e.g. "publish").
    virtual Status record(std::string_view action, std::string_view detail_json, std::string_view who) = 0;
    /// Releases the state still refers to: every channel's release, every pin,
    /// both releases of every active rollout, and every release named by the
    /// newest `keep_history` channel changes.
    virtual Result<std::set<std::string>> referenced_releases(std::size_t keep_history) = 0;

    /// A number that changes whenever anyone (another connection or this one)
    /// commits a change, so a reader can cache and notice changes cheaply.
    virtual Result<std::uint64_t> change_counter() = 0;
};

/// Opens (creating when absent, migrating older schemas) the SQLite state at `db`.
/// `busy_timeout`: how long a write waits for another writer's transaction
/// before failing with Errc::busy (the CLI waits; netbootd, whose event loop
/// would stall meanwhile, waits briefly and lets the client retry).
Result<std::unique_ptr<FleetState>> open_sqlite_state(const std::filesystem::path& db,
                                                      std::chrono::milliseconds busy_timeout = std::chrono::seconds(15));

}  // namespace pib::store
