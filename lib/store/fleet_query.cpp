#include "store/fleet_query.hpp"

namespace pib::store {

NodeFacts NodeReadout::facts(const std::string& node) const {
    NodeFacts f;
    if (auto r = reports.find(node); r != reports.end()) f.last_report = &r->second;
    if (auto p = progress.find(node); p != progress.end()) f.progress = &p->second;
    if (auto o = rollout_of.find(node); o != rollout_of.end())
        if (auto r = active.find(o->second); r != active.end()) f.rollout = &r->second;
    return f;
}

Result<NodeReadout> read_node_readout(FleetState& state, const FleetView& view) {
    NodeReadout out;
    auto reports = state.last_reports();
    if (!reports) return reports.error();
    out.reports = std::move(*reports);
    for (const auto& [node, at] : view.rollout_wave) {
        const std::int64_t id = at.first;
        if (out.active.count(id)) continue;
        auto r = state.rollout(id);
        if (!r) return r.error();
        // Finished since the view was read: its nodes are back on a channel.
        if (!*r) continue;
        for (const auto& rn : (*r)->nodes) {
            out.progress[rn.node] = rn;
            out.rollout_of[rn.node] = id;
        }
        out.active.emplace(id, std::move(**r));
    }
    return out;
}

Result<std::map<std::string, ReleaseUse>> release_uses(FleetState& state) {
    std::map<std::string, ReleaseUse> uses;
    auto channels = state.channel_list();
    if (!channels) return channels.error();
    for (const auto& c : *channels) {
        uses[c.release].channels.push_back(c.name);
        if (!c.previous.empty()) uses[c.previous].previous_of.push_back(c.name);
    }
    auto pins = state.pins();
    if (!pins) return pins.error();
    for (const auto& [node, p] : *pins) uses[p.release].pins.push_back(node);
    auto rollouts = state.rollouts(0);
    if (!rollouts) return rollouts.error();
    for (const auto& r : *rollouts) {
        if (!is_active(r.state)) continue;
        uses[r.from_release].rollouts.push_back(r.id);
        if (r.to_release != r.from_release) uses[r.to_release].rollouts.push_back(r.id);
    }
    return uses;
}

}  // namespace pib::store
