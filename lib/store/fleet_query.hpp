// Reads over the fleet state that the CLI and netbootd's API share: what the
// node and release JSON forms (fleet_json.hpp) need besides the FleetView.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/result.hpp"
#include "store/fleet_json.hpp"
#include "store/fleet_state.hpp"

namespace pib::store {

/// The newest report of every node and the active rollouts the view names.
struct NodeReadout {
    std::map<std::string, BootReport> reports;
    std::map<std::int64_t, Rollout> active;          ///< by id, nodes included
    std::map<std::string, RolloutNode> progress;     ///< node -> its entry in an active rollout
    std::map<std::string, std::int64_t> rollout_of;  ///< node -> that rollout's id
    /// node_json's facts for `node` (served and address left to the caller).
    NodeFacts facts(const std::string& node) const;
};

/// Reads reports and the active rollouts named by `view` (read just before).
Result<NodeReadout> read_node_readout(FleetState& state, const FleetView& view);

/// What the state refers to, by release id: channels (current and previous),
/// pins, active rollouts. Inventory pins are the caller's to add.
Result<std::map<std::string, ReleaseUse>> release_uses(FleetState& state);

}  // namespace pib::store
