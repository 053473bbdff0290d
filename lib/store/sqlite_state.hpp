// FleetState on SQLite (private to lib/store): WAL journal so that the CLI
// writes while netbootd reads, a busy timeout instead of SQLITE_BUSY errors,
// one BEGIN IMMEDIATE transaction per change. The methods are split by
// concern: sqlite_state.cpp (channels, pins, reports, history, reads),
// sqlite_rollouts.cpp (the rollout engine and rollback), sqlite_schema.cpp
// (creation and migration).
#pragma once

#include "store/fleet_state.hpp"
#include "store/sqlite_db.hpp"

namespace pib::store {

/// The schema version this code writes (PRAGMA user_version). 0/1: the
/// original tables (channels, reports, history); 2: windows, channel changes,
/// pins, rollouts.
inline constexpr int kSchemaVersion = 3;

/// Creates the tables or migrates older ones to kSchemaVersion, in one transaction.
Status migrate_schema(sql::Db& db);

class SqliteState final : public FleetState {
public:
    explicit SqliteState(sqlite3* h) : db_(h) {}
    sql::Db& db() { return db_; }

    Result<std::optional<std::string>> channel_release(std::string_view channel) override;
    Result<std::map<std::string, std::string>> channels() override;
    Result<std::vector<Channel>> channel_list() override;
    Status set_channel(std::string_view channel, std::string_view release, std::string_view who) override;
    Status configure_channel(std::string_view channel, std::string_view release,
                             const std::optional<std::string>& window, std::string_view who) override;
    Status set_channel_window(std::string_view channel, std::string_view window, std::string_view who) override;
    Result<std::string> rollback(std::string_view channel, const std::optional<std::string>& to,
                                 std::string_view who) override;

    Status pin(std::string_view node, std::string_view release, std::string_view who) override;
    Status unpin(std::string_view node, std::string_view who) override;
    Result<std::map<std::string, Pin>> pins() override;

    Result<std::int64_t> start_rollout(const RolloutPlan& plan, std::string_view who) override;
    Result<std::optional<Rollout>> rollout(std::int64_t id) override;
    Result<std::optional<Rollout>> active_rollout(std::string_view channel) override;
    Result<std::vector<Rollout>> rollouts(std::size_t limit) override;
    Status pause_rollout(std::int64_t id, std::string_view who) override;
    Status resume_rollout(std::int64_t id, std::string_view who, std::int64_t now) override;
    Status abort_rollout(std::int64_t id, std::string_view reason, std::string_view who) override;
    Result<std::vector<std::int64_t>> advance_rollouts(std::int64_t now) override;

    Result<FleetView> view() override;

    Status add_report(const BootReport& report) override;
    Result<std::optional<BootReport>> last_report(std::string_view node) override;
    Result<std::map<std::string, BootReport>> last_reports() override;

    Result<std::vector<HistoryEntry>> history(std::size_t limit) override;
    Status record(std::string_view action, std::string_view detail_json, std::string_view who) override;
    Result<std::set<std::string>> referenced_releases(std::size_t keep_history) override;
    Result<std::uint64_t> change_counter() override;

private:
    // Helpers that run inside a transaction the caller opened.
    Status add_history(std::int64_t at, std::string_view who, std::string_view action, std::string_view detail);
    /// Points the channel at `release`, remembering the old one as previous,
    /// recording a channel change and a history entry `action`.
    Status move_channel(std::string_view channel, std::string_view release, std::string_view who,
                        std::string_view action, std::string detail_json, std::int64_t now);
    Status write_window(std::string_view channel, std::string_view window, std::string_view who);
    Result<std::optional<Channel>> read_channel(std::string_view channel);
    Result<std::optional<Rollout>> read_rollout(std::int64_t id, bool with_nodes);
    /// Rollout `id` when `accept` takes its state; else not_found, or invalid saying it is not `wanted`.
    Result<Rollout> rollout_in(std::int64_t id, bool (*accept)(RolloutState), std::string_view wanted);
    Result<std::optional<std::int64_t>> active_rollout_id(std::string_view channel);
    /// The Errc::exists error naming the running rollout and how to see or stop it.
    Error active_rollout_error(std::string_view channel, std::int64_t id);
    Status finish_rollout(const Rollout& r, RolloutState state, std::string_view reason, std::string_view who,
                          std::int64_t now);
    Result<bool> advance_one(std::int64_t id, std::int64_t now);

    sql::Db db_;
};

}  // namespace pib::store
