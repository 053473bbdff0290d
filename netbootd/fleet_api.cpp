#include "netbootd/fleet_api.hpp"

#include "store/fleet_json.hpp"

namespace netbootd {

using nlohmann::json;

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
        // How pib-init read the root ("http" or "nfs"), from the report's body.
        auto body = json::parse(r.detail_json, nullptr, false);
        last["root"] = body.is_object() && body.contains("root") && body["root"].is_string() ? body["root"] : json(nullptr);
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

json channel_json(const pib::store::Channel& c, std::int64_t rollout) {
    return {{"name", c.name},
            {"release", c.release},
            {"window", c.window.empty() ? json(nullptr) : json(c.window)},
            {"updated_at", c.updated_at},
            {"updated_by", c.updated_by},
            {"rollout", rollout ? json(rollout) : json(nullptr)}};
}

}  // namespace netbootd
