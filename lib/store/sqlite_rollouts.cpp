// The rollout engine on SQLite: start, pause/resume/abort, advance (health
// gates, halts, next waves, completion) and rollback. Each call is one
// BEGIN IMMEDIATE transaction, so the CLI and netbootd may call at once.
#include <nlohmann/json.hpp>

#include "store/sqlite_state.hpp"

namespace pib::store {

using nlohmann::json;
using sql::Stmt;
using sql::unix_now;

namespace {

constexpr const char* kRolloutCols =
    "id, channel, from_release, to_release, waves_spec, wave_count, max_failures, health_timeout_s, state, "
    "current_wave, wave_started_at, wave_deadline, created_at, created_by, finished_at, reason, gate";

Rollout rollout_row(const Stmt& s) {
    Rollout r;
    r.id = s.integer(0);
    r.channel = s.text(1);
    r.from_release = s.text(2);
    r.to_release = s.text(3);
    r.waves_spec = s.text(4);
    r.wave_count = static_cast<int>(s.integer(5));
    r.max_failures = static_cast<int>(s.integer(6));
    r.health_timeout_s = s.integer(7);
    r.state = parse_rollout_state(s.text(8)).value_or(RolloutState::aborted);
    r.current_wave = static_cast<int>(s.integer(9));
    r.wave_started_at = s.integer(10);
    r.wave_deadline = s.integer(11);
    r.created_at = s.integer(12);
    r.created_by = s.text(13);
    r.finished_at = s.integer(14);
    r.reason = s.text(15);
    r.gate = parse_health_gate(s.text(16)).value_or(HealthGate::boot);
    return r;
}

std::string id_text(std::int64_t id) { return std::to_string(id); }

}  // namespace

Result<std::optional<Rollout>> SqliteState::read_rollout(std::int64_t id, bool with_nodes) {
    const std::string q = std::string("SELECT ") + kRolloutCols + " FROM rollouts WHERE id = ?1";
    Stmt s(db_.handle(), q.c_str());
    if (!s.ok()) return db_.error(q);
    s.args(id);
    const int rc = s.step();
    if (rc == SQLITE_DONE) return std::optional<Rollout>();
    if (rc != SQLITE_ROW) return db_.error("rollout");
    Rollout r = rollout_row(s);
    if (with_nodes) {
        Stmt n(db_.handle(),
               "SELECT node, wave, progress, changed_at FROM rollout_nodes WHERE rollout_id = ?1 ORDER BY wave, node");
        if (!n.ok()) return db_.error("rollout nodes");
        n.args(id);
        PIB_TRY(db_.each(n, [&](const Stmt& row) -> Status {
            r.nodes.push_back(RolloutNode{row.text(0), static_cast<int>(row.integer(1)),
                                          parse_node_progress(row.text(2)).value_or(NodeProgress::pending),
                                          row.integer(3)});
            return {};
        }));
    }
    return std::optional<Rollout>(std::move(r));
}

Result<std::optional<std::int64_t>> SqliteState::active_rollout_id(std::string_view channel) {
    auto id = db_.scalar("SELECT id FROM rollouts WHERE channel = ?1 AND state IN ('running', 'paused')", channel);
    if (!id) return id.error();
    return *id ? std::optional<std::int64_t>(*id) : std::nullopt;
}

Error SqliteState::active_rollout_error(std::string_view channel, std::int64_t id) {
    auto r = read_rollout(id, false);
    std::string what = "rollout " + id_text(id);
    if (r && *r) what += " (" + std::string(rollout_state_name((*r)->state)) + ", to " + (*r)->to_release + ")";
    return fail(Errc::exists, "channel " + std::string(channel) + " already has an active " + what +
                                  "; see it with `pibuild rollout status " + id_text(id) +
                                  "`, stop it with `pibuild rollout abort " + id_text(id) + "`");
}

Result<std::optional<Rollout>> SqliteState::rollout(std::int64_t id) {
    return db_.read<std::optional<Rollout>>([&] { return read_rollout(id, true); });
}

Result<std::optional<Rollout>> SqliteState::active_rollout(std::string_view channel) {
    return db_.read<std::optional<Rollout>>([&]() -> Result<std::optional<Rollout>> {
        auto id = active_rollout_id(channel);
        if (!id) return id.error();
        if (!*id) return std::optional<Rollout>();
        return read_rollout(**id, true);
    });
}

Result<std::vector<Rollout>> SqliteState::rollouts(std::size_t limit) {
    return db_.read<std::vector<Rollout>>([&]() -> Result<std::vector<Rollout>> {
        Stmt s(db_.handle(), "SELECT id FROM rollouts ORDER BY id DESC LIMIT ?1");
        if (!s.ok()) return db_.error("rollouts");
        s.args(limit ? static_cast<std::int64_t>(limit) : std::int64_t{-1});
        std::vector<std::int64_t> ids;
        PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
            ids.push_back(row.integer(0));
            return {};
        }));
        std::vector<Rollout> out;
        for (auto id : ids) {
            auto r = read_rollout(id, true);
            if (!r) return r.error();
            if (*r) out.push_back(std::move(**r));
        }
        return out;
    });
}

Result<std::int64_t> SqliteState::start_rollout(const RolloutPlan& plan, std::string_view who) {
    if (plan.waves.empty()) return fail(Errc::invalid, "a rollout needs at least one wave of nodes");
    if (plan.max_failures < 0) return fail(Errc::invalid, "max failures must not be negative");
    if (plan.health_timeout_s <= 0) return fail(Errc::invalid, "the health timeout must be positive");
    std::set<std::string> seen;
    for (std::size_t w = 0; w < plan.waves.size(); ++w) {
        if (plan.waves[w].empty()) return fail(Errc::invalid, "wave " + std::to_string(w + 1) + " has no nodes");
        for (const auto& n : plan.waves[w])
            if (!seen.insert(n).second) return fail(Errc::invalid, "node " + n + " is in more than one wave");
    }
    return db_.write<std::int64_t>([&]() -> Result<std::int64_t> {
        auto active = active_rollout_id(plan.channel);
        if (!active) return active.error();
        if (*active) return active_rollout_error(plan.channel, **active);
        auto from = channel_release(plan.channel);
        if (!from) return from.error();
        if (!*from)
            return fail(Errc::invalid, "channel " + plan.channel +
                                           " is not set: point it at a release first (pibuild channel set)");
        if (**from == plan.to_release)
            return fail(Errc::invalid, "channel " + plan.channel + " already points at " + plan.to_release);
        for (const auto& n : seen) {
            auto other = db_.scalar(
                "SELECT r.id FROM rollout_nodes n JOIN rollouts r ON r.id = n.rollout_id "
                "WHERE n.node = ?1 AND r.state IN ('running', 'paused')",
                n);
            if (!other) return other.error();
            if (*other)
                return fail(Errc::invalid, "node " + n + " is already in active rollout " + id_text(*other));
        }
        const auto now = unix_now();
        Stmt ins(db_.handle(),
                 "INSERT INTO rollouts(channel, from_release, to_release, waves_spec, wave_count, max_failures, "
                 "health_timeout_s, state, current_wave, wave_started_at, wave_deadline, created_at, created_by, gate) "
                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', 0, ?8, ?9, ?8, ?10, ?11)");
        if (!ins.ok()) return db_.error("insert rollout");
        ins.args(plan.channel, **from, plan.to_release, plan.waves_spec, static_cast<int>(plan.waves.size()),
                 plan.max_failures, plan.health_timeout_s, now, now + plan.health_timeout_s, who,
                 health_gate_name(plan.gate));
        if (ins.step() != SQLITE_DONE) {
            // The partial unique index: another writer won a race we could not see.
            if (sqlite3_errcode(db_.handle()) == SQLITE_CONSTRAINT) {
                auto again = active_rollout_id(plan.channel);
                if (again && *again) return active_rollout_error(plan.channel, **again);
            }
            return db_.error("insert rollout");
        }
        const std::int64_t id = sqlite3_last_insert_rowid(db_.handle());
        for (std::size_t w = 0; w < plan.waves.size(); ++w)
            for (const auto& n : plan.waves[w])
                PIB_TRY(db_.run("INSERT INTO rollout_nodes(rollout_id, node, wave, progress, changed_at) "
                                "VALUES(?1, ?2, ?3, ?4, ?5)",
                                id, n, static_cast<int>(w), w == 0 ? "updating" : "pending", now));
        json d = {{"rollout", id},          {"channel", plan.channel},   {"from", **from},
                  {"to", plan.to_release},  {"waves", plan.waves_spec},  {"nodes", seen.size()},
                  {"max_failures", plan.max_failures}, {"health_timeout_s", plan.health_timeout_s},
                  {"gate", health_gate_name(plan.gate)}};
        PIB_TRY(add_history(now, who, "rollout start", d.dump()));
        return id;
    });
}

Status SqliteState::finish_rollout(const Rollout& r, RolloutState state, std::string_view reason,
                                   std::string_view who, std::int64_t now) {
    PIB_TRY(db_.run("UPDATE rollouts SET state = ?2, finished_at = ?3, reason = ?4 WHERE id = ?1", r.id,
                    rollout_state_name(state), now, reason));
    json d = {{"rollout", r.id}, {"channel", r.channel}, {"from", r.from_release}, {"to", r.to_release}};
    if (!reason.empty()) d["reason"] = reason;
    if (state == RolloutState::completed)
        return move_channel(r.channel, r.to_release, who, "rollout complete", d.dump(), now);
    const char* action = state == RolloutState::halted ? "rollout halt" : "rollout abort";
    return add_history(now, who, action, d.dump());
}

Result<Rollout> SqliteState::rollout_in(std::int64_t id, bool (*accept)(RolloutState), std::string_view wanted) {
    auto r = read_rollout(id, false);
    if (!r) return r.error();
    if (!*r) return fail(Errc::not_found, "no rollout " + id_text(id));
    if (!accept((*r)->state))
        return fail(Errc::invalid, "rollout " + id_text(id) + " is " + rollout_state_name((*r)->state) + ", not " +
                                       std::string(wanted));
    return std::move(**r);
}

Status SqliteState::pause_rollout(std::int64_t id, std::string_view who) {
    return db_.write<void>([&]() -> Status {
        auto r = rollout_in(id, [](RolloutState s) { return s == RolloutState::running; }, "running");
        if (!r) return r.error();
        PIB_TRY(db_.run("UPDATE rollouts SET state = 'paused' WHERE id = ?1", id));
        return add_history(unix_now(), who, "rollout pause", json{{"rollout", id}, {"channel", r->channel}}.dump());
    });
}

Status SqliteState::resume_rollout(std::int64_t id, std::string_view who, std::int64_t now) {
    return db_.write<void>([&]() -> Status {
        auto r = rollout_in(id, [](RolloutState s) { return s == RolloutState::paused; }, "paused");
        if (!r) return r.error();
        // The current wave gets a whole timeout again from now.
        PIB_TRY(db_.run("UPDATE rollouts SET state = 'running', wave_deadline = ?2 WHERE id = ?1", id,
                        now + r->health_timeout_s));
        return add_history(now, who, "rollout resume", json{{"rollout", id}, {"channel", r->channel}}.dump());
    });
}

Status SqliteState::abort_rollout(std::int64_t id, std::string_view reason, std::string_view who) {
    return db_.write<void>([&]() -> Status {
        auto r = rollout_in(id, is_active, "active");
        if (!r) return r.error();
        return finish_rollout(*r, RolloutState::aborted, reason, who, unix_now());
    });
}

Result<std::vector<std::int64_t>> SqliteState::advance_rollouts(std::int64_t now) {
    Stmt s(db_.handle(), "SELECT id FROM rollouts WHERE state = 'running' ORDER BY id");
    if (!s.ok()) return db_.error("advance");
    std::vector<std::int64_t> ids, changed;
    PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
        ids.push_back(row.integer(0));
        return {};
    }));
    for (auto id : ids) {
        // A pass that changes nothing rolls back instead of committing, so
        // that readers polling change_counter() see no change.
        PIB_TRY(db_.begin_write());
        auto c = advance_one(id, now);
        if (!c || !*c) {
            db_.rollback();
            if (!c) return c.error();
            continue;
        }
        if (auto st = db_.commit(); !st) {
            db_.rollback();
            return st.error();
        }
        changed.push_back(id);
    }
    return changed;
}

// One rollout, inside its transaction. Returns whether anything changed.
Result<bool> SqliteState::advance_one(std::int64_t id, std::int64_t now) {
    auto ro = read_rollout(id, true);
    if (!ro) return ro.error();
    if (!*ro || (*ro)->state != RolloutState::running) return false;  // another caller got here first
    const Rollout& r = **ro;
    bool changed = false;
    int bad = 0, timed_out = 0, waiting = 0;
    // The newest boot/health report of the node on the new release since its
    // wave started decides: unhealthy -> failed; healthy -> healthy, except that
    // under the health gate only the agent's report after boot passes (a boot
    // report alone means the root was mounted, not that the services came up).
    Stmt rep(db_.handle(),
             "SELECT healthy, kind FROM reports WHERE node = ?1 AND release = ?2 AND at >= ?3 "
             "AND kind IN ('boot', 'health') ORDER BY at DESC, id DESC LIMIT 1");
    if (!rep.ok()) return db_.error("reports");
    for (const auto& n : r.nodes) {
        NodeProgress p = n.progress;
        if (p == NodeProgress::updating) {
            rep.reset();
            rep.args(n.node, r.to_release, r.wave_started_at);
            const int rc = rep.step();
            if (rc == SQLITE_ROW && !rep.integer(0)) p = NodeProgress::failed;
            else if (rc == SQLITE_ROW && (r.gate == HealthGate::boot || rep.text(1) == "health"))
                p = NodeProgress::healthy;
            else if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_.error("reports");
            else if (now >= r.wave_deadline) p = NodeProgress::timed_out;
            if (p != n.progress) {
                PIB_TRY(db_.run("UPDATE rollout_nodes SET progress = ?3, changed_at = ?4 "
                                "WHERE rollout_id = ?1 AND node = ?2",
                                id, n.node, node_progress_name(p), now));
                changed = true;
            }
        }
        if (p == NodeProgress::failed || p == NodeProgress::timed_out) ++bad;
        if (p == NodeProgress::timed_out) ++timed_out;
        if (p == NodeProgress::updating) ++waiting;
    }
    // Halting returns every node to the old release: the rollout stops
    // deciding, so they follow the channel, which still names the old one.
    if (bad > r.max_failures || timed_out > 0) {
        std::string reason = std::to_string(bad) + " node(s) failed or timed out";
        if (timed_out) reason += " (" + std::to_string(timed_out) + " missed the health timeout)";
        reason += bad > r.max_failures ? ", more than max failures " + std::to_string(r.max_failures) : "";
        PIB_TRY(finish_rollout(r, RolloutState::halted, reason, "rollout engine", now));
        return true;
    }
    if (waiting > 0) return changed;
    if (r.current_wave + 1 >= r.wave_count) {
        PIB_TRY(finish_rollout(r, RolloutState::completed, "", "rollout engine", now));
        return true;
    }
    const int next = r.current_wave + 1;
    PIB_TRY(db_.run("UPDATE rollouts SET current_wave = ?2, wave_started_at = ?3, wave_deadline = ?4 WHERE id = ?1",
                    id, next, now, now + r.health_timeout_s));
    PIB_TRY(db_.run("UPDATE rollout_nodes SET progress = 'updating', changed_at = ?3 "
                    "WHERE rollout_id = ?1 AND wave = ?2",
                    id, next, now));
    json d = {{"rollout", id}, {"channel", r.channel}, {"wave", next + 1}, {"of", r.wave_count}};
    PIB_TRY(add_history(now, "rollout engine", "rollout wave", d.dump()));
    return true;
}

Result<std::string> SqliteState::rollback(std::string_view channel, const std::optional<std::string>& to,
                                          std::string_view who) {
    if (to && to->empty()) return fail(Errc::invalid, "the release to roll back to must not be empty");
    return db_.write<std::string>([&]() -> Result<std::string> {
        const auto now = unix_now();
        auto ch = read_channel(channel);
        if (!ch) return ch.error();
        if (!*ch) return fail(Errc::not_found, "channel " + std::string(channel) + " is not set");
        auto active = active_rollout_id(channel);
        if (!active) return active.error();
        std::string target;
        if (*active) {
            // Undoing a rollout in progress: its nodes go back to the release
            // the channel still names (the rollout's from release).
            auto r = read_rollout(**active, false);
            if (!r) return r.error();
            PIB_TRY(finish_rollout(**r, RolloutState::aborted, "rollback", who, now));
            target = to.value_or((*ch)->release);
        } else if (to) {
            target = *to;
        } else if (!(*ch)->previous.empty()) {
            target = (*ch)->previous;
        } else {
            return fail(Errc::not_found, "channel " + std::string(channel) + " has no previous release to go back to;" +
                                             " name one with --to RELEASE");
        }
        if (target == (*ch)->release && !*active)
            return fail(Errc::invalid, "channel " + std::string(channel) + " already points at " + target);
        json d = {{"channel", channel}, {"from", (*ch)->release}, {"to", target}};
        if (*active) d["aborted_rollout"] = **active;
        if (target != (*ch)->release) PIB_TRY(move_channel(channel, target, who, "rollback", d.dump(), now));
        else PIB_TRY(add_history(now, who, "rollback", d.dump()));
        return target;
    });
}

}  // namespace pib::store
