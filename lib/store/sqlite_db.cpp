#include "store/sqlite_db.hpp"

#include <chrono>
#include <cstdlib>
#include <thread>

namespace pib::store::sql {

Stmt::Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }

Stmt::~Stmt() { sqlite3_finalize(s_); }

Stmt& Stmt::bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Stmt& Stmt::bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
}

void Stmt::reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
}

int Stmt::step() { return sqlite3_step(s_); }

std::string Stmt::text(int col) const {
    auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
}

std::int64_t Stmt::integer(int col) const { return sqlite3_column_int64(s_, col); }

bool Stmt::is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

Db::Db(sqlite3* h) : h_(h) {
    // Test hook (docs/store.md): every write transaction sleeps this long
    // between its last statement and COMMIT, so that the crash tests' kill -9
    // lands inside transactions. Never set in production.
    if (const char* d = std::getenv("PIB_TEST_STATE_DELAY_MS"); d && *d)
        delay_ms_ = static_cast<unsigned>(std::strtoul(d, nullptr, 10));
}

Db::~Db() { sqlite3_close_v2(h_); }

namespace {

// Another connection's lock is a reason to try again, not an I/O failure.
Errc errc_of(int rc) {
    rc &= 0xff;  // primary code of an extended one
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? Errc::busy : Errc::io;
}

}  // namespace

Status Db::exec(const char* sql) {
    char* err = nullptr;
    if (const int rc = sqlite3_exec(h_, sql, nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(h_);
        sqlite3_free(err);
        return fail(errc_of(rc), "sqlite: " + msg);
    }
    return {};
}

Error Db::error(std::string_view what) const {
    std::string w(what.substr(0, 60));
    return fail(errc_of(sqlite3_errcode(h_)),
                "sqlite (" + w + (what.size() > 60 ? "...)" : ")") + ": " + sqlite3_errmsg(h_));
}

Status Db::each(Stmt& s, const std::function<Status(const Stmt&)>& row) {
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) PIB_TRY(row(s));
    if (rc != SQLITE_DONE) return error("query");
    return {};
}

Status Db::begin_write() { return exec("BEGIN IMMEDIATE"); }

Status Db::commit() {
    if (delay_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    PIB_TRY(exec("COMMIT"));
    ++local_commits_;
    return {};
}

void Db::rollback() {
    if (!sqlite3_get_autocommit(h_)) (void)exec("ROLLBACK");
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace pib::store::sql
