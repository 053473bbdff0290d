// The SQLite fleet state without rollouts: channels, windows, pins, reports,
// history, change_counter across connections, gc references, migration from
// the original schema, and the pure desired_release decision.
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "store/sqlite_state.hpp"
#include "store/state_fixture.hpp"

namespace pib::store {
namespace {

using test::StateTest;

TEST_F(StateTest, ChannelSetListAndHistory) {
    EXPECT_FALSE(state_->channel_release("stable")->has_value());
    ASSERT_TRUE(state_->set_channel("stable", "rel-a", "alice").ok());
    ASSERT_TRUE(state_->set_channel("stable", "rel-b", "bob").ok());
    ASSERT_TRUE(state_->set_channel("canary", "rel-c", "bob").ok());
    EXPECT_EQ(**state_->channel_release("stable"), "rel-b");
    auto list = state_->channel_list();
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[1].name, "stable");
    EXPECT_EQ((*list)[1].previous, "rel-a");
    EXPECT_EQ((*list)[1].updated_by, "bob");
    EXPECT_EQ((*list)[0].previous, "");
    EXPECT_EQ(state_->channels()->at("canary"), "rel-c");

    auto h = state_->history(2);
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h->size(), 2u);
    EXPECT_EQ((*h)[0].action, "channel set");
    auto d = nlohmann::json::parse((*h)[0].detail_json);
    EXPECT_EQ(d["channel"], "canary");
    EXPECT_EQ(d["to"], "rel-c");
    EXPECT_EQ(nlohmann::json::parse((*h)[1].detail_json)["from"], "rel-a");
    EXPECT_EQ(state_->history(0)->size(), 3u);

    EXPECT_EQ(state_->set_channel("", "x", "a").error().code, Errc::invalid);
    EXPECT_EQ(state_->set_channel("stable", "two words", "a").error().code, Errc::invalid);
}

TEST_F(StateTest, Window) {
    EXPECT_EQ(state_->set_channel_window("stable", "02:00-04:00", "a").error().code, Errc::not_found);
    ASSERT_TRUE(state_->set_channel("stable", "rel-a", "a").ok());
    ASSERT_TRUE(state_->set_channel_window("stable", "23:30-01:15", "a").ok());
    EXPECT_EQ(state_->channel_list()->at(0).window, "23:30-01:15");
    auto bad = state_->set_channel_window("stable", "25:00-01:00", "a");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("HH:MM-HH:MM"), std::string::npos);
    ASSERT_TRUE(state_->set_channel_window("stable", "", "a").ok());
    EXPECT_EQ(state_->channel_list()->at(0).window, "");

    auto w = parse_window("23:30-01:15");
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->contains(23 * 60 + 45));
    EXPECT_TRUE(w->contains(0));
    EXPECT_FALSE(w->contains(1 * 60 + 15));
    EXPECT_FALSE(w->contains(12 * 60));
    EXPECT_TRUE(parse_window("02:00-04:00")->contains(3 * 60));
    EXPECT_FALSE(parse_window("02:00-02:00"));
    EXPECT_FALSE(parse_window("2:00-04:00"));
    EXPECT_FALSE(parse_window("02:00"));
}

TEST_F(StateTest, PinsAndUnpin) {
    ASSERT_TRUE(state_->pin("node-1", "rel-a", "alice").ok());
    ASSERT_TRUE(state_->pin("node-1", "rel-b", "alice").ok());
    auto pins = state_->pins();
    ASSERT_TRUE(pins.ok());
    ASSERT_EQ(pins->size(), 1u);
    EXPECT_EQ(pins->at("node-1").release, "rel-b");
    EXPECT_EQ(pins->at("node-1").by, "alice");
    ASSERT_TRUE(state_->unpin("node-1", "alice").ok());
    EXPECT_TRUE(state_->pins()->empty());
    auto again = state_->unpin("node-1", "alice");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, Errc::not_found);
    auto h = state_->history(0);
    ASSERT_EQ(h->size(), 3u);
    EXPECT_EQ((*h)[0].action, "unpin");
    EXPECT_EQ((*h)[1].action, "pin");
    EXPECT_EQ(nlohmann::json::parse((*h)[1].detail_json)["from"], "rel-a");
}

TEST_F(StateTest, ReportsNewestPerNode) {
    report("n1", "rel-a", true, 100);
    report("n1", "rel-b", false, 200, "health");
    report("n2", "rel-a", true, 150);
    auto last = state_->last_report("n1");
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->release, "rel-b");
    EXPECT_EQ((*last)->kind, "health");
    EXPECT_FALSE((*last)->healthy);
    EXPECT_EQ((*last)->at, 200);
    EXPECT_FALSE(state_->last_report("n3")->has_value());
    auto all = state_->last_reports();
    ASSERT_EQ(all->size(), 2u);
    EXPECT_EQ(all->at("n2").release, "rel-a");
    BootReport bad;
    bad.node = "n1";
    bad.kind = "reboot";
    EXPECT_EQ(state_->add_report(bad).error().code, Errc::invalid);
}

TEST_F(StateTest, ChangeCounterSeesOwnAndOtherCommits) {
    auto other = test::open_state(db());
    ASSERT_TRUE(other);
    const auto mine0 = *state_->change_counter();
    const auto theirs0 = *other->change_counter();
    EXPECT_EQ(*state_->change_counter(), mine0);  // stable without changes
    ASSERT_TRUE(state_->set_channel("stable", "rel-a", "a").ok());
    const auto mine1 = *state_->change_counter();
    const auto theirs1 = *other->change_counter();
    EXPECT_NE(mine1, mine0);
    EXPECT_NE(theirs1, theirs0);
    ASSERT_TRUE(other->pin("n1", "rel-a", "b").ok());
    EXPECT_NE(*state_->change_counter(), mine1);
    EXPECT_NE(*other->change_counter(), theirs1);
    // The view carries the counter it was read at and sees the other's pin.
    auto v = state_->view();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->version, *state_->change_counter());
    EXPECT_EQ(v->pins.at("n1").release, "rel-a");
}

TEST_F(StateTest, RecordAndReferencedReleases) {
    ASSERT_TRUE(state_->record("publish", R"({"release":"rel-a"})", "alice").ok());
    EXPECT_EQ(state_->history(1)->at(0).action, "publish");
    for (const char* r : {"rel-1", "rel-2", "rel-3", "rel-4"}) ASSERT_TRUE(state_->set_channel("stable", r, "a").ok());
    ASSERT_TRUE(state_->pin("n1", "rel-p", "a").ok());
    // keep 0: the current and the previous release of the channel, and pins.
    EXPECT_EQ(*state_->referenced_releases(0), (std::set<std::string>{"rel-3", "rel-4", "rel-p"}));
    // keep 2: the newest two channel changes name rel-2..rel-4.
    EXPECT_EQ(*state_->referenced_releases(2), (std::set<std::string>{"rel-2", "rel-3", "rel-4", "rel-p"}));
    EXPECT_EQ(state_->referenced_releases(100)->size(), 5u);
}

TEST(StateDesired, PriorityPinInventoryRolloutChannel) {
    FleetView v;
    v.channels["stable"] = Channel{"stable", "rel-a", "", 0, "", ""};
    v.rollout_release["n2"] = "rel-b";
    v.rollout_wave["n2"] = {7, 1};
    v.rollout_wave["n3"] = {7, 2};
    v.pins["n4"] = Pin{"n4", "rel-p", 0, ""};
    EXPECT_EQ(desired_release(v, "n1", "stable", std::nullopt)->release, "rel-a");
    EXPECT_EQ(desired_release(v, "n1", "stable", std::nullopt)->reason, "channel stable");
    EXPECT_EQ(desired_release(v, "n2", "stable", std::nullopt)->release, "rel-b");
    EXPECT_EQ(desired_release(v, "n2", "stable", std::nullopt)->reason, "rollout 7 wave 2");
    EXPECT_EQ(desired_release(v, "n3", "stable", std::nullopt)->release, "rel-a");
    EXPECT_EQ(desired_release(v, "n2", "stable", std::string("rel-i"))->release, "rel-i");
    EXPECT_EQ(desired_release(v, "n4", "stable", std::string("rel-i"))->release, "rel-p");
    EXPECT_EQ(desired_release(v, "n4", "stable", std::string("rel-i"))->reason, "pinned");
    EXPECT_FALSE(desired_release(v, "n1", "canary", std::nullopt).has_value());
    EXPECT_STREQ(rollout_state_name(RolloutState::halted), "halted");
    EXPECT_EQ(parse_rollout_state("paused"), RolloutState::paused);
    EXPECT_FALSE(parse_rollout_state("nope"));
    EXPECT_STREQ(node_progress_name(NodeProgress::timed_out), "timed_out");
    EXPECT_EQ(parse_node_progress("failed"), NodeProgress::failed);
}

// A database the first netbootd wrote (no user_version, three tables) opens,
// keeps its channels, reports and history, and gains the new tables.
TEST(StateMigration, OriginalSchemaKeepsItsData) {
    pib::test::TempDir tmp;
    const auto path = tmp / "state.db";
    {
        sqlite3* h = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
        const char* old = R"sql(
            CREATE TABLE channels (name TEXT PRIMARY KEY, release TEXT NOT NULL,
                updated_at INTEGER NOT NULL, updated_by TEXT NOT NULL);
            CREATE TABLE reports (id INTEGER PRIMARY KEY, node TEXT NOT NULL, release TEXT NOT NULL,
                kind TEXT NOT NULL, healthy INTEGER NOT NULL, at INTEGER NOT NULL, address TEXT NOT NULL,
                detail TEXT NOT NULL);
            CREATE INDEX reports_by_node ON reports(node, id);
            CREATE TABLE history (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, who TEXT NOT NULL,
                action TEXT NOT NULL, detail TEXT NOT NULL);
            INSERT INTO channels VALUES ('stable', 'rel-old', 1700000000, 'root');
            INSERT INTO reports VALUES (1, 'n1', 'rel-old', 'boot', 1, 1700000100, '10.0.0.5', '{}');
            INSERT INTO history VALUES (1, 1700000000, 'root', 'channel set', 'stable -> rel-old');
        )sql";
        ASSERT_EQ(sqlite3_exec(h, old, nullptr, nullptr, nullptr), SQLITE_OK);
        sqlite3_close(h);
    }
    auto state = test::open_state(path);
    ASSERT_TRUE(state);
    EXPECT_EQ(**state->channel_release("stable"), "rel-old");
    EXPECT_EQ((*state->last_report("n1"))->address, "10.0.0.5");
    EXPECT_EQ(state->history(0)->size(), 1u);
    ASSERT_TRUE(state->set_channel_window("stable", "01:00-02:00", "a").ok());
    ASSERT_TRUE(state->set_channel("stable", "rel-new", "a").ok());
    EXPECT_EQ(state->channel_list()->at(0).previous, "rel-old");
    ASSERT_TRUE(state->pin("n1", "rel-old", "a").ok());
    state.reset();
    // Opening again is a no-op; the version is recorded.
    state = test::open_state(path);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->channel_list()->at(0).window, "01:00-02:00");
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(s, 0), kSchemaVersion);
    sqlite3_finalize(s);
    // A newer schema than this code knows is refused, not misread.
    ASSERT_EQ(sqlite3_exec(h, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
    state.reset();
    auto newer = open_sqlite_state(path);
    ASSERT_FALSE(newer.ok());
    EXPECT_NE(newer.error().message.find("newer"), std::string::npos) << newer.error().message;
}

}  // namespace
}  // namespace pib::store
