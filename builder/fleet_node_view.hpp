// The nodes as the fleet commands show them (status, node list, node show):
// the inventory's nodes in file order, then nodes only the fleet state knows
// (pinned or reporting), each in the JSON form netbootd's API uses.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/fleet_context.hpp"
#include "store/fleet_query.hpp"

namespace pib::cli::fleet {

struct NodeRow {
    const inventory::Node* node = nullptr;  ///< null for a node only the state knows
    json j;                                 ///< store::node_json
};

struct FleetNodes {
    std::optional<inventory::Inventory> inventory;
    store::FleetView view;
    store::NodeReadout readout;
    std::vector<NodeRow> rows;
};

/// Opens the state and reads it and the inventory (when there is one) once. A node's "release"
/// (what netbootd serves it) is its desired release when that is published
/// and verifies with the key, as netbootd's catalog decides; each release
/// is verified once.
Result<FleetNodes> collect_nodes(const FleetArgs& a);

}  // namespace pib::cli::fleet
