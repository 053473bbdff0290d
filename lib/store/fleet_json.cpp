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

// null for "" (and for 0 times): absent values are null, never "" or 0.
json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }
json time_or_null(std::int64_t t) { return t == 0 ? json(nullptr) : json(t); }
template <class T>
json opt(const std::optional<T>& v) {
    return v ? json(*v) : json(nullptr);
}

json report_json(const BootReport& r) {
    json j = {{"release", r.release}, {"kind", r.kind},          {"healthy", r.healthy},
              {"at", r.at},           {"address", text_or_null(r.address)}};
    // How pib-init read the root ("http" or "nfs"), from the report's body.
    auto body = json::parse(r.detail_json, nullptr, false);
    j["root"] = body.is_object() && body.contains("root") && body["root"].is_string() ? body["root"] : json(nullptr);
    return j;
}

}  // namespace

json versioned(json fields) {
    fields["schema"] = kJsonSchema;
    return fields;
}

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
                             {"changed_at", time_or_null(n.changed_at)}});
    }
    json j = versioned({{"id", r.id},
                        {"channel", r.channel},
                        {"from", r.from_release},
                        {"to", r.to_release},
                        {"waves_spec", r.waves_spec},
                        {"wave_count", r.wave_count},
                        {"current_wave", r.current_wave + 1},
                        {"state", rollout_state_name(r.state)},
                        {"active", is_active(r.state)},
                        {"reason", text_or_null(r.reason)},
                        {"max_failures", r.max_failures},
                        {"health_timeout_s", r.health_timeout_s},
                        {"gate", health_gate_name(r.gate)},
                        {"wave_started_at", time_or_null(r.wave_started_at)},
                        {"wave_deadline", time_or_null(r.wave_deadline)},
                        {"created_at", r.created_at},
                        {"created_by", r.created_by},
                        {"finished_at", time_or_null(r.finished_at)},
                        {"progress", total},
                        {"waves", wave_summary_json(r)}});
    if (with_nodes) j["nodes"] = std::move(nodes);
    return j;
}

json channel_json(const Channel& c, std::optional<std::int64_t> rollout) {
    return versioned({{"name", c.name},
                      {"release", c.release},
                      {"previous", text_or_null(c.previous)},
                      {"window", text_or_null(c.window)},
                      {"updated_at", time_or_null(c.updated_at)},
                      {"updated_by", text_or_null(c.updated_by)},
                      {"rollout", opt(rollout)}});
}

json node_json(const NodeIdentity& id, const FleetView& view, const NodeFacts& facts) {
    json j = versioned({{"name", id.name},
                        {"hostname", opt(id.hostname)},
                        {"serial", opt(id.serial)},
                        {"macs", id.macs},
                        {"labels", id.labels}});
    // "channel" is null for a node the inventory pins (it follows no channel).
    j["channel"] = id.inventory_release ? json(nullptr) : text_or_null(id.channel);
    j["pinned"] = opt(id.inventory_release);
    auto pin = view.pins.find(id.name);
    j["pin"] = pin == view.pins.end()
                   ? json(nullptr)
                   : json{{"release", pin->second.release}, {"at", pin->second.at}, {"by", pin->second.by}};
    // What the fleet state says it should boot, and what it is served (a
    // verified release; null when the desired one is missing or rejected).
    auto desired = desired_release(view, id.name, id.channel, id.inventory_release);
    j["desired_release"] = desired ? json(desired->release) : json(nullptr);
    j["reason"] = desired ? json(desired->reason) : json(nullptr);
    j["release"] = opt(facts.served);
    j["address"] = opt(facts.address);
    json rollout = nullptr;
    if (auto rw = view.rollout_wave.find(id.name); rw != view.rollout_wave.end()) {
        const bool known = facts.rollout && facts.rollout->id == rw->second.first;
        rollout = {{"id", rw->second.first},
                   {"wave", rw->second.second + 1},
                   {"progress", facts.progress ? json(node_progress_name(facts.progress->progress)) : json(nullptr)},
                   {"state", known ? json(rollout_state_name(facts.rollout->state)) : json(nullptr)},
                   {"current_wave", known ? json(facts.rollout->current_wave + 1) : json(nullptr)},
                   {"to", known ? json(facts.rollout->to_release) : json(nullptr)}};
    }
    j["rollout"] = rollout;
    j["last_report"] = facts.last_report ? report_json(*facts.last_report) : json(nullptr);
    // The on-node agent reboots into desired_release only inside this window.
    auto ch = view.channels.find(id.channel);
    j["window"] = ch != view.channels.end() && !ch->second.window.empty() && !id.inventory_release
                      ? json(ch->second.window)
                      : json(nullptr);
    return j;
}

json release_json(const ReleaseFacts& r) {
    const auto& u = r.used_by;
    return versioned({{"id", r.id},
                      {"name", opt(r.name)},
                      {"version", opt(r.version)},
                      {"arch", opt(r.arch)},
                      {"board", opt(r.board)},
                      {"verified", r.verified},
                      {"problems", r.problems},
                      {"warnings", r.warnings},
                      {"bytes", opt(r.bytes)},
                      {"artifacts", opt(r.artifacts)},
                      {"used_by",
                       {{"channels", u.channels},
                        {"previous_of", u.previous_of},
                        {"pins", u.pins},
                        {"inventory_pins", u.inventory_pins},
                        {"rollouts", u.rollouts}}}});
}

}  // namespace pib::store
