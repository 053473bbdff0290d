// FleetState on SQLite: WAL journal so the CLI writes while netbootd reads,
// a busy timeout instead of SQLITE_BUSY errors, one transaction per change.
#include <sqlite3.h>

#include <chrono>

#include "store/fleet_state.hpp"

namespace pib::store {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS channels (
    name TEXT PRIMARY KEY,
    release TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS reports (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    release TEXT NOT NULL,
    kind TEXT NOT NULL,
    healthy INTEGER NOT NULL,
    at INTEGER NOT NULL,
    address TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reports_by_node ON reports(node, id);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    who TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);
)sql";

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    bool ok() const { return rc_ == SQLITE_OK; }
    Stmt& bind(int i, std::string_view v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    Stmt& bind(int i, std::int64_t v) {
        sqlite3_bind_int64(s_, i, v);
        return *this;
    }
    int step() { return sqlite3_step(s_); }
    std::string text(int col) const {
        auto* p = sqlite3_column_text(s_, col);
        return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
                 : std::string();
    }
    std::int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

private:
    sqlite3_stmt* s_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

class SqliteState : public FleetState {
public:
    explicit SqliteState(sqlite3* db) : db_(db) {}
    ~SqliteState() override { sqlite3_close_v2(db_); }

    Status exec(const char* sql) {
        char* err = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errmsg(db_);
            sqlite3_free(err);
            return fail(Errc::io, std::string("sqlite: ") + msg);
        }
        return {};
    }
    Error error(std::string_view what) const {
        return fail(Errc::io, "sqlite " + std::string(what) + ": " + sqlite3_errmsg(db_));
    }

    Result<std::optional<std::string>> channel_release(std::string_view channel) override {
        Stmt s(db_, "SELECT release FROM channels WHERE name = ?1");
        if (!s.ok()) return error("prepare");
        s.bind(1, channel);
        int rc = s.step();
        if (rc == SQLITE_ROW) return std::optional<std::string>(s.text(0));
        if (rc == SQLITE_DONE) return std::optional<std::string>();
        return error("channel_release");
    }

    Result<std::map<std::string, std::string>> channels() override {
        Stmt s(db_, "SELECT name, release FROM channels ORDER BY name");
        if (!s.ok()) return error("prepare");
        std::map<std::string, std::string> out;
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) out.emplace(s.text(0), s.text(1));
        if (rc != SQLITE_DONE) return error("channels");
        return out;
    }

    Status set_channel(std::string_view channel, std::string_view release, std::string_view who) override {
        PIB_TRY(exec("BEGIN IMMEDIATE"));
        auto now = unix_now();
        Stmt up(db_,
                "INSERT INTO channels(name, release, updated_at, updated_by) VALUES(?1, ?2, ?3, ?4) "
                "ON CONFLICT(name) DO UPDATE SET release = excluded.release, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by");
        Stmt hist(db_, "INSERT INTO history(at, who, action, detail) VALUES(?1, ?2, 'channel set', ?3)");
        if (!up.ok() || !hist.ok()) {
            (void)exec("ROLLBACK");
            return error("prepare");
        }
        up.bind(1, channel).bind(2, release).bind(3, now).bind(4, who);
        hist.bind(1, now).bind(2, who).bind(3, std::string(channel) + " -> " + std::string(release));
        if (up.step() != SQLITE_DONE || hist.step() != SQLITE_DONE) {
            auto e = error("set_channel");
            (void)exec("ROLLBACK");
            return e;
        }
        return exec("COMMIT");
    }

    Status add_report(const BootReport& r) override {
        Stmt s(db_,
               "INSERT INTO reports(node, release, kind, healthy, at, address, detail) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!s.ok()) return error("prepare");
        s.bind(1, r.node).bind(2, r.release).bind(3, r.kind).bind(4, std::int64_t{r.healthy ? 1 : 0});
        s.bind(5, r.at ? r.at : unix_now()).bind(6, r.address).bind(7, r.detail_json);
        if (s.step() != SQLITE_DONE) return error("add_report");
        return {};
    }

    static BootReport row(const Stmt& s) {
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

    Result<std::optional<BootReport>> last_report(std::string_view node) override {
        Stmt s(db_,
               "SELECT node, release, kind, healthy, at, address, detail FROM reports "
               "WHERE node = ?1 ORDER BY id DESC LIMIT 1");
        if (!s.ok()) return error("prepare");
        s.bind(1, node);
        int rc = s.step();
        if (rc == SQLITE_ROW) return std::optional<BootReport>(row(s));
        if (rc == SQLITE_DONE) return std::optional<BootReport>();
        return error("last_report");
    }

    Result<std::map<std::string, BootReport>> last_reports() override {
        Stmt s(db_,
               "SELECT node, release, kind, healthy, at, address, detail FROM reports "
               "WHERE id IN (SELECT MAX(id) FROM reports GROUP BY node)");
        if (!s.ok()) return error("prepare");
        std::map<std::string, BootReport> out;
        int rc;
        while ((rc = s.step()) == SQLITE_ROW) {
            auto r = row(s);
            out.emplace(r.node, std::move(r));
        }
        if (rc != SQLITE_DONE) return error("last_reports");
        return out;
    }

    Result<std::uint64_t> change_counter() override {
        Stmt s(db_, "PRAGMA data_version");
        if (!s.ok() || s.step() != SQLITE_ROW) return error("data_version");
        return static_cast<std::uint64_t>(s.integer(0));
    }

private:
    sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<FleetState>> open_sqlite_state(const std::filesystem::path& db_path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(db_path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        sqlite3_close_v2(db);
        return fail(Errc::io, "open " + db_path.string() + ": " + msg);
    }
    auto state = std::make_unique<SqliteState>(db);
    sqlite3_busy_timeout(db, 5000);
    PIB_TRY(state->exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"));
    PIB_TRY(state->exec(kSchema));
    return std::unique_ptr<FleetState>(std::move(state));
}

}  // namespace pib::store
