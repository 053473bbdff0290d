// The JSON forms of fleet state values, shared by `pibuild ... --json` and
// netbootd's API so that both speak the same field names. Waves are numbered
// from 1 here, as people read them (the state numbers them from 0).
#pragma once

#include <nlohmann/json.hpp>

#include "store/fleet_state.hpp"

namespace pib::store {

/// Nodes per progress for each wave: [{"wave":1,"nodes":N,"pending":..,"healthy":..}, ...].
nlohmann::json wave_summary_json(const Rollout& r);

/// A rollout: id, channel, from, to, waves_spec, wave_count, current_wave,
/// state, active, reason, limits, times, "progress" (totals per progress),
/// "waves" (wave_summary_json) and, with `with_nodes`, "nodes".
nlohmann::json rollout_json(const Rollout& r, bool with_nodes);

}  // namespace pib::store
