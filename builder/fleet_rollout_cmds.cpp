// pibuild rollout (start and follow), rollout status|pause|resume|abort, rollback.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <thread>

#include "builder/fleet_context.hpp"
#include "builder/fleet_table.hpp"
#include "store/rollout_plan.hpp"

namespace pib::cli::fleet {

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// The channel's nodes in the inventory that no pin (inventory or state) holds, by name.
Result<std::vector<std::string>> rollout_nodes(const inventory::Inventory& inv,
                                               const std::map<std::string, store::Pin>& pins,
                                               const std::string& channel) {
    std::vector<std::string> out;
    for (const auto& n : inv.nodes)
        if (n.channel == channel && !n.release && !pins.count(n.name)) out.push_back(n.name);
    std::sort(out.begin(), out.end());
    if (out.empty())
        return fail(Errc::invalid, "no node of the inventory " + inv.file.string() + " follows channel " + channel +
                                       " without a pin: nothing to roll out");
    return out;
}

// --gate auto: the agent's health report when the release says it ships the
// agent (boot.health in its signed manifest), else pib-init's boot report.
store::HealthGate gate_for(const FleetArgs& a, const Manifest& m) {
    if (a.gate != "auto") return store::parse_health_gate(a.gate).value_or(store::HealthGate::boot);
    const auto it = m.boot.find("health");
    const bool agent = it != m.boot.end() && it->is_string() && it->get<std::string>() == "pib-agent";
    return agent ? store::HealthGate::health : store::HealthGate::boot;
}

void print_rollout(const store::Rollout& r) {
    std::printf("rollout %lld  %s  channel %s  %s -> %s\n", static_cast<long long>(r.id),
                store::rollout_state_name(r.state), r.channel.c_str(), r.from_release.c_str(), r.to_release.c_str());
    std::printf("  waves %s (%d), max failures %d, health timeout %s, gate %s, started %s by %s\n",
                r.waves_spec.c_str(), r.wave_count, r.max_failures, store::format_duration(r.health_timeout_s).c_str(),
                store::health_gate_name(r.gate),
                utc_time(r.created_at).c_str(), r.created_by.c_str());
    if (store::is_active(r.state))
        std::printf("  wave %d started %s, deadline %s\n", r.current_wave + 1,
                    relative_time(r.wave_started_at, now()).c_str(), relative_time(r.wave_deadline, now()).c_str());
    else
        std::printf("  finished %s%s%s\n", utc_time(r.finished_at).c_str(), r.reason.empty() ? "" : ": ",
                    r.reason.c_str());
    Table t({"wave", "nodes", "pending", "updating", "healthy", "failed", "timed out"});
    for (const auto& w : store::wave_summary_json(r)) {
        std::vector<std::string> row;
        for (const char* k : {"wave", "nodes", "pending", "updating", "healthy", "failed", "timed_out"})
            row.push_back(std::to_string(w[k].get<int>()));
        if (w["wave"].get<int>() == r.current_wave + 1 && store::is_active(r.state)) row[0] += " <";
        t.add(row);
    }
    t.print(stdout);
}

// The rollout a command names: its ID, or the channel's active one.
Result<std::int64_t> named_rollout(store::FleetState& state, const FleetArgs& a) {
    if (!a.rollout_id.empty()) {
        try {
            std::size_t used = 0;
            const long long id = std::stoll(a.rollout_id, &used);
            if (used == a.rollout_id.size() && id > 0) return static_cast<std::int64_t>(id);
        } catch (const std::exception&) {
        }
        return fail(Errc::invalid, "\"" + a.rollout_id + "\" is not a rollout id (a number)");
    }
    if (a.channel.empty()) return fail(Errc::invalid, "name the rollout: its ID or --channel CHANNEL");
    auto active = state.active_rollout(a.channel);
    if (!active) return active.error();
    if (!*active) return fail(Errc::not_found, "channel " + a.channel + " has no active rollout");
    return (*active)->id;
}

// Moves the rollout forward every second and prints its progress until it ends.
int follow(store::FleetState& state, const FleetArgs& a, std::int64_t id) {
    std::string last;
    for (;;) {
        auto adv = state.advance_rollouts(now());
        if (!adv) return report(adv.error());
        auto r = state.rollout(id);
        if (!r) return report(r.error());
        if (!*r) return report(fail(Errc::not_found, "rollout " + std::to_string(id) + " disappeared"));
        const std::string line = progress_line(**r);
        if (line != last && !a.json) {
            std::printf("%s\n", line.c_str());
            std::fflush(stdout);
        }
        last = line;
        if (!store::is_active((*r)->state)) {
            if (a.json) print_json(rollout_json(**r, true));
            if ((*r)->state == store::RolloutState::completed) {
                if (!a.json) std::printf("rollout %lld completed: channel %s -> %s\n", static_cast<long long>(id),
                                         (*r)->channel.c_str(), (*r)->to_release.c_str());
                return kOk;
            }
            std::fprintf(stderr, "pibuild: rollout %lld %s: %s; its nodes are served %s again\n",
                         static_cast<long long>(id), store::rollout_state_name((*r)->state), (*r)->reason.c_str(),
                         (*r)->from_release.c_str());
            return kFailed;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
    }
}

}  // namespace

int cmd_rollout_start(const FleetArgs& a) {
    if (a.release.empty())
        return report(fail(Errc::invalid, "rollout: give RELEASE --channel CHANNEL, or one of status, pause, "
                                          "resume, abort (see pibuild rollout --help)"));
    if (a.channel.empty()) return report(fail(Errc::invalid, "rollout: --channel CHANNEL is required"));
    auto targets = store::parse_waves(a.waves);
    if (!targets) return report(targets.error());
    auto timeout = store::parse_duration(a.health_timeout);
    if (!timeout) return report(fail(Errc::invalid, "--health-timeout: " + timeout.error().message));
    auto release = resolve_release(a, a.release);
    if (!release) return report(release.error());
    auto manifest = check_published(a, *release);
    if (!manifest) return report(manifest.error());
    auto inv = load_inventory(a, /*required=*/true);
    if (!inv) return report(inv.error());
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto pins = (*state)->pins();
    if (!pins) return report(pins.error());
    auto nodes = rollout_nodes(**inv, *pins, a.channel);
    if (!nodes) return report(nodes.error());
    auto waves = store::split_waves(*targets, *nodes);
    if (!waves) return report(waves.error());
    store::RolloutPlan plan{a.channel, *release, a.waves, *waves, a.max_failures, *timeout, gate_for(a, *manifest)};
    auto id = (*state)->start_rollout(plan, who());
    if (!id) return report(id.error());
    std::string sizes;
    for (const auto& w : *waves) sizes += (sizes.empty() ? "" : ", ") + std::to_string(w.size());
    if (!a.json)
        std::printf("rollout %lld started: channel %s -> %s, %zu nodes in %zu waves (%s)\n",
                    static_cast<long long>(*id), a.channel.c_str(), release->c_str(), nodes->size(), waves->size(),
                    sizes.c_str());
    if (a.detach) {
        auto r = (*state)->rollout(*id);
        if (!r || !*r) return report(r ? fail(Errc::not_found, "rollout vanished") : r.error());
        if (a.json) print_json(rollout_json(**r, true));
        return kOk;
    }
    return follow(**state, a, *id);
}

int cmd_rollout_status(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    std::vector<store::Rollout> shown;
    if (!a.rollout_id.empty()) {
        auto id = named_rollout(**state, a);
        if (!id) return report(id.error());
        auto r = (*state)->rollout(*id);
        if (!r) return report(r.error());
        if (!*r) return report(fail(Errc::not_found, "no rollout " + a.rollout_id));
        shown.push_back(**r);
    } else {
        // The active ones (of the channel); when there is none, the newest.
        auto all = (*state)->rollouts(0);
        if (!all) return report(all.error());
        for (const auto& r : *all)
            if ((a.channel.empty() || r.channel == a.channel) && store::is_active(r.state)) shown.push_back(r);
        if (shown.empty())
            for (const auto& r : *all)
                if (a.channel.empty() || r.channel == a.channel) {
                    shown.push_back(r);
                    break;
                }
    }
    if (a.json) {
        json out = json::array();
        for (const auto& r : shown) out.push_back(rollout_json(r, true));
        print_json(out);
        return kOk;
    }
    if (shown.empty()) std::printf("no rollouts%s\n", a.channel.empty() ? "" : (" on channel " + a.channel).c_str());
    for (std::size_t i = 0; i < shown.size(); ++i) {
        if (i) std::printf("\n");
        print_rollout(shown[i]);
    }
    return kOk;
}

int cmd_rollout_control(const FleetArgs& a, const std::string& action) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto id = named_rollout(**state, a);
    if (!id) return report(id.error());
    Status st = action == "pause"    ? (*state)->pause_rollout(*id, who())
                : action == "resume" ? (*state)->resume_rollout(*id, who(), now())
                                     : (*state)->abort_rollout(*id, a.reason.empty() ? "aborted by " + who() : a.reason,
                                                               who());
    if (!st) return report(st.error());
    auto r = (*state)->rollout(*id);
    if (!r || !*r) return report(r ? fail(Errc::not_found, "rollout vanished") : r.error());
    if (a.json) print_json(rollout_json(**r, false));
    else std::printf("rollout %lld %s\n", static_cast<long long>(*id), store::rollout_state_name((*r)->state));
    return kOk;
}

int cmd_rollback(const FleetArgs& a) {
    // The previous release was verified when the channel pointed at it and gc
    // keeps it; only a release named with --to is checked here, so that the
    // emergency path is fast.
    std::optional<std::string> to;
    if (a.to) {
        auto id = resolve_release(a, *a.to);
        if (!id) return report(id.error());
        if (auto st = check_published(a, *id); !st) return report(st.error());
        to = *id;
    }
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto active = (*state)->active_rollout(a.channel);
    if (!active) return report(active.error());
    auto release = (*state)->rollback(a.channel, to, who());
    if (!release) return report(release.error());
    json j = result_json({{"channel", a.channel}, {"release", *release}, {"aborted_rollout", nullptr}});
    std::string text = "channel " + a.channel + " -> " + *release;
    if (*active) {
        j["aborted_rollout"] = (*active)->id;
        text += " (rollout " + std::to_string((*active)->id) + " aborted)";
    }
    if (a.json) print_json(j);
    else std::printf("%s\n", text.c_str());
    return kOk;
}

}  // namespace pib::cli::fleet
