#include "netbootd/fleet_api.hpp"

namespace netbootd {

using nlohmann::json;
using pib::store::NodeProgress;

pib::Result<FleetReadout> read_fleet(BootService& svc, pib::store::FleetState* state) {
    FleetReadout f;
    f.view = svc.fleet();
    if (!state) return f;
    auto reports = state->last_reports();
    if (!reports) return reports.error();
    f.reports = std::move(*reports);
    for (const auto& [node, at] : f.view->rollout_wave) {
        const std::int64_t id = at.first;
        if (f.active.count(id)) continue;
        auto r = state->rollout(id);
        if (!r) return r.error();
        // Finished since the view was read: its nodes are back on a channel.
        if (!*r) continue;
        for (const auto& rn : (*r)->nodes) f.progress[rn.node] = rn;
        f.active.emplace(id, std::move(**r));
    }
    return f;
}

json node_json(BootService& svc, const Snapshot& s, const pib::inventory::Node& n, const FleetReadout& f,
               bool detail) {
    const auto& view = *f.view;
    json j = {{"name", n.name}, {"hostname", n.hostname}, {"macs", json::array()}, {"labels", n.labels}};
    for (const auto& m : n.macs) j["macs"].push_back(m.text());
    j["serial"] = n.serial ? json(*n.serial) : json(nullptr);
    // "channel" is null for a node the inventory pins (it follows no channel).
    j["channel"] = n.release ? json(nullptr) : json(n.channel);
    j["pinned"] = n.release ? json(*n.release) : json(nullptr);
    auto pin = view.pins.find(n.name);
    j["pin"] = pin == view.pins.end()
                   ? json(nullptr)
                   : json{{"release", pin->second.release}, {"at", pin->second.at}, {"by", pin->second.by}};
    // What the fleet state says it should boot, and what it is served (a
    // verified release; null when the desired one is missing or rejected).
    auto desired = pib::store::desired_release(view, n.name, n.channel, n.release);
    j["desired_release"] = desired ? json(desired->release) : json(nullptr);
    auto t = svc.target_for(s, n);
    j["release"] = t ? json(t->release->id) : json(nullptr);
    j["reason"] = desired ? json(desired->reason) : json(nullptr);
    auto at = svc.address_of(n.name);
    j["address"] = at ? json(pib::netbootd::ipv4_string(*at)) : json(nullptr);
    json rollout = nullptr;
    auto rw = view.rollout_wave.find(n.name);
    if (rw != view.rollout_wave.end()) {
        rollout = {{"id", rw->second.first}, {"wave", rw->second.second + 1}};
        auto p = f.progress.find(n.name);
        rollout["progress"] = p != f.progress.end() ? json(pib::store::node_progress_name(p->second.progress))
                                                    : json(nullptr);
        auto r = f.active.find(rw->second.first);
        if (r != f.active.end()) {
            rollout["state"] = pib::store::rollout_state_name(r->second.state);
            rollout["current_wave"] = r->second.current_wave + 1;
            rollout["to"] = r->second.to_release;
        }
    }
    j["rollout"] = rollout;
    json last = nullptr;
    auto rep = f.reports.find(n.name);
    if (rep != f.reports.end()) {
        const auto& r = rep->second;
        last = json{{"release", r.release}, {"kind", r.kind}, {"healthy", r.healthy}, {"at", r.at},
                    {"address", r.address}};
    }
    j["last_report"] = last;
    if (detail) {
        // The on-node agent reboots into desired_release only inside this window.
        auto ch = view.channels.find(n.channel);
        j["window"] = ch != view.channels.end() && !ch->second.window.empty() && !n.release
                          ? json(ch->second.window)
                          : json(nullptr);
    }
    return j;
}

json rollout_json(const pib::store::Rollout& r, bool with_nodes) {
    // Waves are numbered from 1, as `pibuild rollout status --json` and the
    // log lines number them; field names are the CLI's.
    const auto progress_names = {NodeProgress::pending, NodeProgress::updating, NodeProgress::healthy,
                                 NodeProgress::failed, NodeProgress::timed_out};
    json total = {{"nodes", r.nodes.size()}};
    for (auto p : progress_names) total[pib::store::node_progress_name(p)] = 0;
    json waves = json::array();
    for (int w = 0; w < r.wave_count; ++w) {
        json counts = total;
        counts["wave"] = w + 1;
        counts["nodes"] = 0;
        waves.push_back(std::move(counts));
    }
    json nodes = json::array();
    auto bump = [](json& j, const char* key) { j[key] = j[key].get<std::int64_t>() + 1; };
    for (const auto& n : r.nodes) {
        const char* p = pib::store::node_progress_name(n.progress);
        bump(total, p);
        if (n.wave >= 0 && n.wave < r.wave_count) {
            bump(waves[static_cast<std::size_t>(n.wave)], "nodes");
            bump(waves[static_cast<std::size_t>(n.wave)], p);
        }
        if (with_nodes) nodes.push_back({{"node", n.node}, {"wave", n.wave + 1}, {"progress", p}, {"changed_at", n.changed_at}});
    }
    json j = {{"id", r.id},
              {"channel", r.channel},
              {"from", r.from_release},
              {"to", r.to_release},
              {"waves_spec", r.waves_spec},
              {"wave_count", r.wave_count},
              {"current_wave", r.current_wave + 1},
              {"state", pib::store::rollout_state_name(r.state)},
              {"active", pib::store::is_active(r.state)},
              {"reason", r.reason},
              {"max_failures", r.max_failures},
              {"health_timeout_s", r.health_timeout_s},
              {"wave_started_at", r.wave_started_at},
              {"created_at", r.created_at},
              {"created_by", r.created_by},
              {"finished_at", r.finished_at},
              {"progress", total},
              {"waves", waves}};
    if (with_nodes) j["nodes"] = std::move(nodes);
    return j;
}

json channel_json(const pib::store::Channel& c, std::int64_t rollout) {
    return {{"name", c.name},
            {"release", c.release},
            {"window", c.window.empty() ? json(nullptr) : json(c.window)},
            {"updated_at", c.updated_at},
            {"updated_by", c.updated_by},
            {"rollout", rollout ? json(rollout) : json(nullptr)}};
}

}  // namespace netbootd
