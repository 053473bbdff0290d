// The state's tables and their migrations, versioned by PRAGMA user_version.
// A database written by an older pibuild/netbootd opens and keeps its data:
// each migration only adds columns, tables and indexes.
#include "store/sqlite_state.hpp"

namespace pib::store {

namespace {

// Version 1: the original tables (a database without user_version has these).
constexpr const char* kVersion1 = R"sql(
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

// Version 2: maintenance windows, the channel change log (rollback and gc
// read it), pins, rollouts and their nodes. The partial unique index makes a
// second active rollout on one channel impossible whatever the callers do.
constexpr const char* kVersion2 = R"sql(
ALTER TABLE channels ADD COLUMN maint_window TEXT NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN previous TEXT NOT NULL DEFAULT '';
CREATE TABLE channel_changes (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    from_release TEXT NOT NULL,
    to_release TEXT NOT NULL,
    at INTEGER NOT NULL,
    who TEXT NOT NULL
);
CREATE TABLE pins (
    node TEXT PRIMARY KEY,
    release TEXT NOT NULL,
    at INTEGER NOT NULL,
    who TEXT NOT NULL
);
CREATE TABLE rollouts (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    from_release TEXT NOT NULL,
    to_release TEXT NOT NULL,
    waves_spec TEXT NOT NULL,
    wave_count INTEGER NOT NULL CHECK (wave_count > 0),
    max_failures INTEGER NOT NULL CHECK (max_failures >= 0),
    health_timeout_s INTEGER NOT NULL CHECK (health_timeout_s > 0),
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'halted', 'aborted')),
    current_wave INTEGER NOT NULL,
    wave_started_at INTEGER NOT NULL,
    wave_deadline INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    finished_at INTEGER NOT NULL DEFAULT 0,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX one_active_rollout_per_channel ON rollouts(channel)
    WHERE state IN ('running', 'paused');
CREATE TABLE rollout_nodes (
    rollout_id INTEGER NOT NULL REFERENCES rollouts(id),
    node TEXT NOT NULL,
    wave INTEGER NOT NULL,
    progress TEXT NOT NULL
        CHECK (progress IN ('pending', 'updating', 'healthy', 'failed', 'timed_out')),
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (rollout_id, node)
);
CREATE INDEX rollout_nodes_by_node ON rollout_nodes(node);
CREATE INDEX reports_by_node_release ON reports(node, release, at);
)sql";

// Version 3: which report passes a node through a wave (HealthGate); rollouts
// started before it existed keep the gate they had, a healthy report of any kind.
constexpr const char* kVersion3 = R"sql(
ALTER TABLE rollouts ADD COLUMN gate TEXT NOT NULL DEFAULT 'boot' CHECK (gate IN ('boot', 'health'));
)sql";

}  // namespace

Status migrate_schema(sql::Db& db) {
    auto migrated = db.write<bool>([&]() -> Result<bool> {
        auto version = db.scalar("PRAGMA user_version");
        if (!version) return version.error();
        if (*version > kSchemaVersion)
            return fail(Errc::unsupported, "state schema version " + std::to_string(*version) +
                                               " is newer than this program understands (" +
                                               std::to_string(kSchemaVersion) + "); upgrade it");
        if (*version >= kSchemaVersion) return false;
        PIB_TRY(db.exec(kVersion1));
        if (*version < 2) PIB_TRY(db.exec(kVersion2));
        if (*version < 3) PIB_TRY(db.exec(kVersion3));
        PIB_TRY(db.exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str()));
        return true;
    });
    if (!migrated) return migrated.error();
    return {};
}

}  // namespace pib::store
