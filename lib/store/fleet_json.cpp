#include "store/fleet_json.hpp"

namespace pib::store {

using nlohmann::json;

namespace {

constexpr NodeProgress kProgress[] = {NodeProgress::pending, NodeProgress::updating, NodeProgress::healthy,
                                      NodeProgress::failed, NodeProgress::timed_out};

json zero_counts() {
    json j = {{"nodes", 0}};
    for (auto p : kProgress) j[node_progress_name(p)] = 0;
    return j;
}

void bump(json& j, const char* key) { j[key] = j[key].get<std::int64_t>() + 1; }

}  // namespace

json wave_summary_json(const Rollout& r) {
    json waves = json::array();
    for (int w = 0; w < r.wave_count; ++w) {
        json counts = zero_counts();
        counts["wave"] = w + 1;
        waves.push_back(std::move(counts));
    }
    for (const auto& n : r.nodes) {
        if (n.wave < 0 || n.wave >= r.wave_count) continue;
        auto& w = waves[static_cast<std::size_t>(n.wave)];
        bump(w, "nodes");
        bump(w, node_progress_name(n.progress));
    }
    return waves;
}

json rollout_json(const Rollout& r, bool with_nodes) {
    json total = zero_counts();
    json nodes = json::array();
    for (const auto& n : r.nodes) {
        bump(total, "nodes");
        bump(total, node_progress_name(n.progress));
        if (with_nodes)
            nodes.push_back({{"node", n.node},
                             {"wave", n.wave + 1},
                             {"progress", node_progress_name(n.progress)},
                             {"changed_at", n.changed_at}});
    }
    json j = {{"id", r.id},
              {"channel", r.channel},
              {"from", r.from_release},
              {"to", r.to_release},
              {"waves_spec", r.waves_spec},
              {"wave_count", r.wave_count},
              {"current_wave", r.current_wave + 1},
              {"state", rollout_state_name(r.state)},
              {"active", is_active(r.state)},
              {"reason", r.reason},
              {"max_failures", r.max_failures},
              {"health_timeout_s", r.health_timeout_s},
              {"gate", health_gate_name(r.gate)},
              {"wave_started_at", r.wave_started_at},
              {"wave_deadline", r.wave_deadline},
              {"created_at", r.created_at},
              {"created_by", r.created_by},
              {"finished_at", r.finished_at},
              {"progress", total},
              {"waves", wave_summary_json(r)}};
    if (with_nodes) j["nodes"] = std::move(nodes);
    return j;
}

}  // namespace pib::store
