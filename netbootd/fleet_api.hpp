// The fleet part of netbootd's JSON API: nodes (what each boots and why, its
// channel, pin, rollout progress and last report), rollouts and channels.
//   GET /api/v1/nodes             every node
//   GET /api/v1/nodes/<name>      one node, plus its channel's maintenance window
//                                 (for the on-node agent that reboots into a new release)
//   GET /api/v1/rollouts          active rollouts and the newest finished ones
//   GET /api/v1/rollouts/<id>     one rollout with every node's wave and progress
//   GET /api/v1/channels          channels, their release, window and active rollout
// docs/netbootd.md shows the fields. Everything is read once per request.
// Waves are numbered from 1 here, as in `pibuild rollout status --json` and
// the log lines (FleetState counts them from 0); a rollout is
// store::rollout_json(), the CLI's form.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.hpp"
#include "netbootd/boot_service.hpp"
#include "store/fleet_state.hpp"

namespace netbootd {

/// What the node documents need from the fleet state, read once per request.
struct FleetReadout {
    std::shared_ptr<const pib::store::FleetView> view;  ///< never null
    std::map<std::string, pib::store::BootReport> reports;
    /// node -> its entry in the active rollout it belongs to.
    std::map<std::string, pib::store::RolloutNode> progress;
    std::map<std::int64_t, pib::store::Rollout> active;  ///< by id (nodes included)
};

/// Reads reports and the active rollouts named by the (already refreshed) view.
/// `state` may be null (no fleet state): empty readout.
pib::Result<FleetReadout> read_fleet(BootService& svc, pib::store::FleetState* state);

/// One node as GET /api/v1/nodes lists it. `detail` adds the channel's window.
nlohmann::json node_json(BootService& svc, const Snapshot& s, const pib::inventory::Node& n, const FleetReadout& f,
                         bool detail);

/// A channel; `rollout` is its active rollout's id, 0 when none.
nlohmann::json channel_json(const pib::store::Channel& c, std::int64_t rollout);

}  // namespace netbootd
