// Thin RAII wrappers over the SQLite C API for the state implementation:
// prepared statements with typed binds and columns, and a connection that
// runs write transactions (BEGIN IMMEDIATE ... COMMIT) and counts its own
// commits. Private to lib/store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pib::store::sql {

/// One prepared statement; finalized in the destructor.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql);
    ~Stmt();
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;

    bool ok() const { return rc_ == SQLITE_OK; }
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, std::int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    /// Binds the arguments to ?1, ?2, ... in order.
    template <class... A>
    Stmt& args(const A&... a) {
        int i = 0;
        (bind(++i, a), ...);
        return *this;
    }
    /// Makes the statement ready to run again with new arguments.
    void reset();
    /// SQLITE_ROW, SQLITE_DONE or an error code.
    int step();
    std::string text(int col) const;
    std::int64_t integer(int col) const;
    bool is_null(int col) const;

private:
    sqlite3_stmt* s_ = nullptr;
    int rc_ = SQLITE_ERROR;
};

/// The connection. Not thread-safe: one per thread (netbootd keeps one).
class Db {
public:
    explicit Db(sqlite3* h);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    sqlite3* handle() const { return h_; }
    /// Runs SQL text without results (several statements allowed).
    Status exec(const char* sql);
    /// An Errc::io error with SQLite's message for the last failure.
    Error error(std::string_view what) const;
    /// Runs one statement that returns no rows, with arguments bound.
    template <class... A>
    Status run(const char* sql, const A&... a) {
        Stmt s(h_, sql);
        if (!s.ok()) return error(sql);
        s.args(a...);
        if (s.step() != SQLITE_DONE) return error(sql);
        return {};
    }
    /// The single integer a query returns (0 when it returns no row).
    template <class... A>
    Result<std::int64_t> scalar(const char* sql, const A&... a) {
        Stmt s(h_, sql);
        if (!s.ok()) return error(sql);
        s.args(a...);
        const int rc = s.step();
        if (rc == SQLITE_ROW) return s.integer(0);
        if (rc == SQLITE_DONE) return std::int64_t{0};
        return error(sql);
    }
    /// Calls `row` for every row of a query; stops at the first error `row` returns.
    Status each(Stmt& s, const std::function<Status(const Stmt&)>& row);

    /// BEGIN IMMEDIATE (takes the write lock up front, waiting on the busy
    /// timeout, so a transaction never fails half way on a lock upgrade).
    Status begin_write();
    /// COMMIT. With the test hook set (PIB_TEST_STATE_DELAY_MS), sleeps first,
    /// so a kill -9 lands inside the transaction.
    Status commit();
    /// ROLLBACK, ignoring errors (used on failure paths).
    void rollback();
    /// Commits made through this connection.
    std::uint64_t local_commits() const { return local_commits_; }

    /// Runs `body` in one write transaction: committed when it succeeds,
    /// rolled back when it (or the commit) fails.
    template <class T>
    Result<T> write(const std::function<Result<T>()>& body) {
        PIB_TRY(begin_write());
        Result<T> r = body();
        if (!r) {
            rollback();
            return r;
        }
        if (auto c = commit(); !c) {
            rollback();
            return c.error();
        }
        return r;
    }

    /// Runs `body` in one read transaction (a consistent snapshot).
    template <class T>
    Result<T> read(const std::function<Result<T>()>& body) {
        PIB_TRY(exec("BEGIN"));
        Result<T> r = body();
        rollback();
        return r;
    }

private:
    sqlite3* h_;
    std::uint64_t local_commits_ = 0;
    unsigned delay_ms_ = 0;  ///< PIB_TEST_STATE_DELAY_MS
};

/// Seconds since the epoch.
std::int64_t unix_now();

}  // namespace pib::store::sql
