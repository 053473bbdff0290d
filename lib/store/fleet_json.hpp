// The JSON forms of fleet objects — node, channel, rollout, release — shared
// by `pibuild ... --json` and netbootd's API, so that both speak the same
// field names (docs/store.md, "JSON"). Every object a command prints or the
// API returns at the top level (alone or as an element of a list) carries
// "schema": kJsonSchema; absent values are null, never omitted or "".
// Waves are numbered from 1 here, as people read them (the state numbers
// them from 0).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/fleet_state.hpp"

namespace pib::store {

/// The version of the JSON objects below; raised when a field is removed or
/// changes meaning (new fields do not raise it).
inline constexpr int kJsonSchema = 1;

/// `fields` (an object) with "schema": kJsonSchema added.
nlohmann::json versioned(nlohmann::json fields);

/// Nodes per progress for each wave: [{"wave":1,"nodes":N,"pending":..,"healthy":..}, ...].
nlohmann::json wave_summary_json(const Rollout& r);

/// A rollout: schema, id, channel, from, to, waves_spec, wave_count,
/// current_wave, state, active, reason (null when none), limits, times,
/// "progress" (totals per progress), "waves" (wave_summary_json) and, with
/// `with_nodes`, "nodes".
nlohmann::json rollout_json(const Rollout& r, bool with_nodes);

/// A channel: schema, name, release, previous, window, updated_at,
/// updated_by, rollout (its active rollout's id).
nlohmann::json channel_json(const Channel& c, std::optional<std::int64_t> rollout);

/// Who a node is, as the inventory says; only `name` for a node that only
/// the fleet state knows (pinned or reporting, not in the inventory).
struct NodeIdentity {
    std::string name;
    std::optional<std::string> hostname;
    std::optional<std::string> serial;
    std::vector<std::string> macs;
    std::map<std::string, std::string> labels;
    std::string channel;                           ///< "" when it follows none
    std::optional<std::string> inventory_release;  ///< the inventory pins it
};

/// The identity of an inventory node (pib::inventory::Node; a template so
/// that the store does not depend on the inventory library).
template <class InventoryNode>
NodeIdentity identity_of(const InventoryNode& n) {
    NodeIdentity id{.name = n.name,
                    .hostname = n.hostname,
                    .serial = n.serial,
                    .macs = {},
                    .labels = n.labels,
                    .channel = n.channel,
                    .inventory_release = n.release};
    for (const auto& m : n.macs) id.macs.push_back(m.text());
    return id;
}

/// What is known about a node beyond the fleet view.
struct NodeFacts {
    const BootReport* last_report = nullptr;
    const RolloutNode* progress = nullptr;  ///< its entry in an active rollout
    const Rollout* rollout = nullptr;       ///< that rollout
    /// The verified release it is served (netbootd: in its catalog; the
    /// CLI: published and verifying with the key); nullopt when none.
    std::optional<std::string> served;
    std::optional<std::string> address;  ///< learned in its boot exchange (netbootd only)
};

/// A node: schema, name, hostname, serial, macs, labels, channel, pinned
/// (inventory pin), pin (state pin), desired_release, reason, release
/// (served), address, rollout, last_report, window.
nlohmann::json node_json(const NodeIdentity& id, const FleetView& view, const NodeFacts& facts);

/// What refers to a release in the fleet state and inventory.
struct ReleaseUse {
    std::vector<std::string> channels;        ///< channels pointing at it
    std::vector<std::string> previous_of;     ///< channels a rollback would return to it
    std::vector<std::string> pins;            ///< nodes pinned to it in the state
    std::vector<std::string> inventory_pins;  ///< nodes the inventory pins to it
    std::vector<std::int64_t> rollouts;       ///< active rollouts from or to it
};

/// A release as the store holds it. Manifest fields are given only when it
/// verified (an unverified manifest is not trusted).
struct ReleaseFacts {
    std::string id;
    bool verified = false;
    std::optional<std::string> name, version, arch, board;
    std::optional<std::uint64_t> bytes;      ///< sum of the artifacts' sizes
    std::optional<std::uint64_t> artifacts;  ///< how many
    std::vector<std::string> problems;       ///< why it does not verify
    std::vector<std::string> warnings;
    ReleaseUse used_by;
};

/// A release: schema, id, name, version, arch, board, verified, problems,
/// warnings, bytes, artifacts, used_by {channels, previous_of, pins,
/// inventory_pins, rollouts}.
nlohmann::json release_json(const ReleaseFacts& r);

}  // namespace pib::store
