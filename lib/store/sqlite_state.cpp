// FleetState on SQLite: channels, pins, reports, history and the reads
// netbootd makes. The rollout engine is in sqlite_rollouts.cpp.
#include "store/sqlite_state.hpp"

#include <nlohmann/json.hpp>

namespace pib::store {

using nlohmann::json;
using sql::Stmt;
using sql::unix_now;

namespace {

Status check_name(std::string_view what, std::string_view v) {
    if (v.empty()) return fail(Errc::invalid, std::string(what) + " must not be empty");
    for (char c : v)
        if (static_cast<unsigned char>(c) < 0x21 || c == 0x7f)
            return fail(Errc::invalid, std::string(what) + " \"" + std::string(v) +
                                           "\" must not contain spaces or control characters");
    return {};
}

Status check_window(std::string_view window) {
    if (window.empty() || parse_window(window)) return {};
    return fail(Errc::invalid, "window \"" + std::string(window) +
                                   "\": expected HH:MM-HH:MM (24-hour, may wrap midnight), e.g. 02:00-04:30");
}

BootReport report_row(const Stmt& s) {
    BootReport r;
    r.node = s.text(0);
    r.release = s.text(1);
    r.kind = s.text(2);
    r.healthy = s.integer(3) != 0;
    r.at = s.integer(4);
    r.address = s.text(5);
    r.detail_json = s.text(6);
    return r;
}

constexpr const char* kChannelCols = "name, release, maint_window, updated_at, updated_by, previous";

Channel channel_row(const Stmt& s) {
    return Channel{s.text(0), s.text(1), s.text(2), s.integer(3), s.text(4), s.text(5)};
}

}  // namespace

Status SqliteState::add_history(std::int64_t at, std::string_view who, std::string_view action,
                                std::string_view detail) {
    return db_.run("INSERT INTO history(at, who, action, detail) VALUES(?1, ?2, ?3, ?4)", at, who, action, detail);
}

Result<std::optional<Channel>> SqliteState::read_channel(std::string_view channel) {
    const std::string q = std::string("SELECT ") + kChannelCols + " FROM channels WHERE name = ?1";
    Stmt s(db_.handle(), q.c_str());
    if (!s.ok()) return db_.error(q);
    s.args(channel);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return std::optional<Channel>(channel_row(s));
    if (rc == SQLITE_DONE) return std::optional<Channel>();
    return db_.error("read channel");
}

Status SqliteState::move_channel(std::string_view channel, std::string_view release, std::string_view who,
                                 std::string_view action, std::string detail_json, std::int64_t now) {
    auto old = read_channel(channel);
    if (!old) return old.error();
    const std::string from = *old ? (*old)->release : std::string();
    PIB_TRY(db_.run("INSERT INTO channels(name, release, updated_at, updated_by, previous) "
                    "VALUES(?1, ?2, ?3, ?4, '') ON CONFLICT(name) DO UPDATE SET "
                    "previous = CASE WHEN release = excluded.release THEN previous ELSE release END, "
                    "release = excluded.release, updated_at = excluded.updated_at, "
                    "updated_by = excluded.updated_by",
                    channel, release, now, who));
    if (from != release)
        PIB_TRY(db_.run("INSERT INTO channel_changes(channel, from_release, to_release, at, who) "
                        "VALUES(?1, ?2, ?3, ?4, ?5)",
                        channel, from, release, now, who));
    return add_history(now, who, action, detail_json);
}

Result<std::optional<std::string>> SqliteState::channel_release(std::string_view channel) {
    auto c = read_channel(channel);
    if (!c) return c.error();
    if (!*c) return std::optional<std::string>();
    return std::optional<std::string>((*c)->release);
}

Result<std::map<std::string, std::string>> SqliteState::channels() {
    auto list = channel_list();
    if (!list) return list.error();
    std::map<std::string, std::string> out;
    for (auto& c : *list) out.emplace(c.name, c.release);
    return out;
}

Result<std::vector<Channel>> SqliteState::channel_list() {
    const std::string q = std::string("SELECT ") + kChannelCols + " FROM channels ORDER BY name";
    Stmt s(db_.handle(), q.c_str());
    if (!s.ok()) return db_.error(q);
    std::vector<Channel> out;
    PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
        out.push_back(channel_row(row));
        return {};
    }));
    return out;
}

Status SqliteState::set_channel(std::string_view channel, std::string_view release, std::string_view who) {
    return configure_channel(channel, release, std::nullopt, who);
}

Status SqliteState::configure_channel(std::string_view channel, std::string_view release,
                                      const std::optional<std::string>& window, std::string_view who) {
    PIB_TRY(check_name("channel name", channel));
    PIB_TRY(check_name("release", release));
    if (window) PIB_TRY(check_window(*window));
    return db_.write<void>([&]() -> Status {
        auto active = active_rollout_id(channel);
        if (!active) return active.error();
        if (*active) return active_rollout_error(channel, **active);
        auto old = channel_release(channel);
        if (!old) return old.error();
        json d = {{"channel", channel}, {"from", old->value_or("")}, {"to", release}};
        PIB_TRY(move_channel(channel, release, who, "channel set", d.dump(), unix_now()));
        return window ? write_window(channel, *window, who) : Status{};
    });
}

Status SqliteState::set_channel_window(std::string_view channel, std::string_view window, std::string_view who) {
    PIB_TRY(check_window(window));
    return db_.write<void>([&]() -> Status { return write_window(channel, window, who); });
}

Status SqliteState::write_window(std::string_view channel, std::string_view window, std::string_view who) {
    auto old = read_channel(channel);
    if (!old) return old.error();
    if (!*old)
        return fail(Errc::not_found,
                    "channel " + std::string(channel) + " is not set; give it a release first (pibuild channel set)");
    if ((*old)->window == window) return {};
    const auto now = unix_now();
    PIB_TRY(db_.run("UPDATE channels SET maint_window = ?2, updated_at = ?3, updated_by = ?4 WHERE name = ?1",
                    channel, window, now, who));
    json d = {{"channel", channel}, {"from", (*old)->window}, {"to", window}};
    return add_history(now, who, "channel window", d.dump());
}

Status SqliteState::pin(std::string_view node, std::string_view release, std::string_view who) {
    PIB_TRY(check_name("node name", node));
    PIB_TRY(check_name("release", release));
    return db_.write<void>([&]() -> Status {
        const auto now = unix_now();
        auto old = pins();
        if (!old) return old.error();
        auto it = old->find(std::string(node));
        PIB_TRY(db_.run("INSERT INTO pins(node, release, at, who) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(node) "
                        "DO UPDATE SET release = excluded.release, at = excluded.at, who = excluded.who",
                        node, release, now, who));
        json d = {{"node", node}, {"from", it == old->end() ? "" : it->second.release}, {"to", release}};
        return add_history(now, who, "pin", d.dump());
    });
}

Status SqliteState::unpin(std::string_view node, std::string_view who) {
    return db_.write<void>([&]() -> Status {
        auto old = pins();
        if (!old) return old.error();
        auto it = old->find(std::string(node));
        if (it == old->end()) return fail(Errc::not_found, "node " + std::string(node) + " is not pinned");
        PIB_TRY(db_.run("DELETE FROM pins WHERE node = ?1", node));
        json d = {{"node", node}, {"from", it->second.release}};
        return add_history(unix_now(), who, "unpin", d.dump());
    });
}

Result<std::map<std::string, Pin>> SqliteState::pins() {
    Stmt s(db_.handle(), "SELECT node, release, at, who FROM pins ORDER BY node");
    if (!s.ok()) return db_.error("pins");
    std::map<std::string, Pin> out;
    PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
        out.emplace(row.text(0), Pin{row.text(0), row.text(1), row.integer(2), row.text(3)});
        return {};
    }));
    return out;
}

Result<FleetView> SqliteState::view() {
    return db_.read<FleetView>([&]() -> Result<FleetView> {
        FleetView v;
        auto list = channel_list();
        if (!list) return list.error();
        for (auto& c : *list) v.channels.emplace(c.name, std::move(c));
        auto p = pins();
        if (!p) return p.error();
        v.pins = std::move(*p);
        // Nodes of started waves of active rollouts are served the new release.
        Stmt s(db_.handle(),
               "SELECT n.node, r.id, n.wave, r.current_wave, r.to_release FROM rollout_nodes n "
               "JOIN rollouts r ON r.id = n.rollout_id WHERE r.state IN ('running', 'paused')");
        if (!s.ok()) return db_.error("view");
        PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
            const int wave = static_cast<int>(row.integer(2));
            v.rollout_wave[row.text(0)] = {row.integer(1), wave};
            if (wave <= row.integer(3)) v.rollout_release[row.text(0)] = row.text(4);
            return {};
        }));
        auto counter = change_counter();
        if (!counter) return counter.error();
        v.version = *counter;
        return v;
    });
}

Status SqliteState::add_report(const BootReport& r) {
    PIB_TRY(check_name("node name", r.node));
    if (r.kind != "boot" && r.kind != "health")
        return fail(Errc::invalid, "report kind \"" + r.kind + "\": expected boot or health");
    return db_.write<void>([&]() -> Status {
        return db_.run("INSERT INTO reports(node, release, kind, healthy, at, address, detail) "
                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                       r.node, r.release, r.kind, std::int64_t{r.healthy ? 1 : 0}, r.at ? r.at : unix_now(),
                       r.address, r.detail_json);
    });
}

Result<std::optional<BootReport>> SqliteState::last_report(std::string_view node) {
    Stmt s(db_.handle(),
           "SELECT node, release, kind, healthy, at, address, detail FROM reports "
           "WHERE node = ?1 ORDER BY id DESC LIMIT 1");
    if (!s.ok()) return db_.error("last_report");
    s.args(node);
    const int rc = s.step();
    if (rc == SQLITE_ROW) return std::optional<BootReport>(report_row(s));
    if (rc == SQLITE_DONE) return std::optional<BootReport>();
    return db_.error("last_report");
}

Result<std::map<std::string, BootReport>> SqliteState::last_reports() {
    Stmt s(db_.handle(),
           "SELECT node, release, kind, healthy, at, address, detail FROM reports "
           "WHERE id IN (SELECT MAX(id) FROM reports GROUP BY node)");
    if (!s.ok()) return db_.error("last_reports");
    std::map<std::string, BootReport> out;
    PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
        auto r = report_row(row);
        out.emplace(r.node, std::move(r));
        return {};
    }));
    return out;
}

Result<std::vector<HistoryEntry>> SqliteState::history(std::size_t limit) {
    Stmt s(db_.handle(), "SELECT id, at, who, action, detail FROM history ORDER BY id DESC LIMIT ?1");
    if (!s.ok()) return db_.error("history");
    s.args(limit ? static_cast<std::int64_t>(limit) : std::int64_t{-1});
    std::vector<HistoryEntry> out;
    PIB_TRY(db_.each(s, [&](const Stmt& row) -> Status {
        out.push_back(HistoryEntry{row.integer(0), row.integer(1), row.text(2), row.text(3), row.text(4)});
        return {};
    }));
    return out;
}

Status SqliteState::record(std::string_view action, std::string_view detail_json, std::string_view who) {
    PIB_TRY(check_name("action", action.substr(0, action.find(' '))));
    return db_.write<void>([&]() -> Status { return add_history(unix_now(), who, action, detail_json); });
}

Result<std::set<std::string>> SqliteState::referenced_releases(std::size_t keep_history) {
    return db_.read<std::set<std::string>>([&]() -> Result<std::set<std::string>> {
        std::set<std::string> out;
        auto add = [&](const Stmt& row) -> Status {
            for (int col : {0, 1})
                if (auto t = row.text(col); !t.empty()) out.insert(t);
            return {};
        };
        // The previous release stays too: a rollback without --to goes there.
        Stmt ch(db_.handle(), "SELECT release, previous FROM channels");
        Stmt pn(db_.handle(), "SELECT release, '' FROM pins");
        Stmt ro(db_.handle(),
                "SELECT from_release, to_release FROM rollouts WHERE state IN ('running', 'paused')");
        Stmt hi(db_.handle(),
                "SELECT from_release, to_release FROM channel_changes ORDER BY id DESC LIMIT ?1");
        if (!ch.ok() || !pn.ok() || !ro.ok() || !hi.ok()) return db_.error("referenced_releases");
        hi.args(static_cast<std::int64_t>(keep_history));
        for (Stmt* s : {&ch, &pn, &ro, &hi}) PIB_TRY(db_.each(*s, add));
        return out;
    });
}

Result<std::uint64_t> SqliteState::change_counter() {
    // data_version changes only for other connections' commits; this
    // connection's own commits are counted locally. Both only grow.
    auto v = db_.scalar("PRAGMA data_version");
    if (!v) return v.error();
    return (static_cast<std::uint64_t>(*v) << 32) + db_.local_commits();
}

Result<std::unique_ptr<FleetState>> open_sqlite_state(const std::filesystem::path& db_path,
                                                      std::chrono::milliseconds busy_timeout) {
    sqlite3* h = nullptr;
    const int rc = sqlite3_open_v2(db_path.c_str(), &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                   nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
        sqlite3_close_v2(h);
        return fail(Errc::io, "open " + db_path.string() + ": " + msg);
    }
    auto state = std::make_unique<SqliteState>(h);
    sqlite3_busy_timeout(h, static_cast<int>(busy_timeout.count()));
    auto st = state->db().exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;");
    if (st) st = migrate_schema(state->db());
    if (!st) return fail(st.error().code, db_path.string() + ": " + st.error().message);
    return std::unique_ptr<FleetState>(std::move(state));
}

}  // namespace pib::store
