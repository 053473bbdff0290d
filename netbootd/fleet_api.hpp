// The fleet part of netbootd's JSON API: nodes (what each boots and why, its
// channel, pin, rollout progress and last report), rollouts, channels and
// releases.
//   GET /api/v1/nodes             every node
//   GET /api/v1/nodes/<name>      one node (the on-node agent reads desired_release and window)
//   GET /api/v1/rollouts          active rollouts and the newest finished ones
//   GET /api/v1/rollouts/<id>     one rollout with every node's wave and progress
//   GET /api/v1/channels          channels, their release, window and active rollout
//   GET /api/v1/releases          every release: verified or why not, what uses it
// Each object is the one `pibuild ... --json` prints (store/fleet_json.hpp:
// same fields, null for absent values, "schema"); docs/netbootd.md shows them.
// Everything is read once per request.
#pragma once

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "netbootd/boot_service.hpp"
#include "store/fleet_query.hpp"
#include "store/fleet_state.hpp"

namespace netbootd {

/// What the node documents need from the fleet state, read once per request.
struct FleetReadout {
    std::shared_ptr<const pib::store::FleetView> view;  ///< never null
    pib::store::NodeReadout nodes;
};

/// Reads reports and the active rollouts named by the (already refreshed) view.
/// `state` may be null (no fleet state): empty readout.
pib::Result<FleetReadout> read_fleet(BootService& svc, pib::store::FleetState* state);

/// One node as GET /api/v1/nodes lists it.
nlohmann::json node_json(BootService& svc, const Snapshot& s, const pib::inventory::Node& n, const FleetReadout& f);

/// Every release of the snapshot's catalog, verified or rejected, with what
/// refers to it (`state` may be null).
pib::Result<nlohmann::json> releases_json(const Snapshot& s, pib::store::FleetState* state);

}  // namespace netbootd
