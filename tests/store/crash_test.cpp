// Crash consistency: the real pibuild binary is killed with SIGKILL at random
// moments during publish, channel set, node pin, rollout start and rollback,
// many times each. Every write transaction sleeps a random time before its
// COMMIT (the PIB_TEST_STATE_DELAY_MS test hook), so that many kills land
// inside transactions. After each kill: PRAGMA integrity_check is ok, the
// invariants hold, and the logical state (channels, pins, rollouts and their
// nodes, channel changes, history actions, the releases directory) equals the
// state before the command or the state after it ran to completion.
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "release/release_store.hpp"
#include "store/fleet_fixture.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using test::fleet::Store;

// Rows of a query, one line per row, columns joined by '|'.
std::string rows(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return std::string("ERROR ") + sqlite3_errmsg(db);
    std::string out;
    while (sqlite3_step(s) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(s); ++c) {
            auto* t = sqlite3_column_text(s, c);
            out += (c ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "NULL");
        }
        out += "\n";
    }
    sqlite3_finalize(s);
    return out;
}

struct Checked {
    std::string dump;      ///< the logical state
    std::string problems;  ///< integrity or invariant failures; empty when fine
};

// Opens the state the way the next pibuild would (so a hot WAL is
// recovered), checks it and dumps what a person would call the state.
Checked check_store(const fs::path& store, const PublicKey& key) {
    Checked c;
    sqlite3* db = nullptr;
    if (sqlite3_open((store / "state.db").c_str(), &db) != SQLITE_OK) {
        c.problems = "open failed";
        sqlite3_close(db);
        return c;
    }
    sqlite3_busy_timeout(db, 5000);
    if (auto ic = rows(db, "PRAGMA integrity_check"); ic != "ok\n") c.problems += "integrity_check: " + ic;
    c.dump += "channels\n" + rows(db, "SELECT name, release, previous, maint_window FROM channels ORDER BY name");
    c.dump += "pins\n" + rows(db, "SELECT node, release FROM pins ORDER BY node");
    c.dump += "rollouts\n" + rows(db,
                                  "SELECT id, channel, from_release, to_release, waves_spec, wave_count, max_failures, "
                                  "state, current_wave, reason FROM rollouts ORDER BY id");
    c.dump += "rollout nodes\n" +
              rows(db, "SELECT rollout_id, node, wave, progress FROM rollout_nodes ORDER BY rollout_id, node");
    c.dump += "channel changes\n" +
              rows(db, "SELECT channel, from_release, to_release FROM channel_changes ORDER BY id");
    // publish records its history line right after the rename that publishes
    // (a file system step and a database step cannot share a transaction):
    // the log, not the state, may miss a publish killed in between.
    c.dump += "history\n" + rows(db, "SELECT action FROM history WHERE action != 'publish' ORDER BY id");

    // Invariants.
    c.problems += rows(db,
                       "SELECT 'two active rollouts on ' || channel FROM rollouts WHERE state IN ('running','paused') "
                       "GROUP BY channel HAVING COUNT(*) > 1");
    c.problems += rows(db,
                       "SELECT 'rollout ' || r.id || ' does not start from its channel' FROM rollouts r "
                       "JOIN channels c ON c.name = r.channel "
                       "WHERE r.state IN ('running','paused') AND c.release != r.from_release");
    c.problems += rows(db,
                       "SELECT 'rollout ' || r.id || ' node ' || n.node || ' is ' || n.progress FROM rollouts r "
                       "JOIN rollout_nodes n ON n.rollout_id = r.id WHERE r.state IN ('running','paused') AND "
                       "((n.wave <= r.current_wave AND n.progress = 'pending') OR "
                       "(n.wave > r.current_wave AND n.progress != 'pending'))");
    c.problems += rows(db,
                       "SELECT 'rollout ' || id || ' has no nodes' FROM rollouts r WHERE NOT EXISTS "
                       "(SELECT 1 FROM rollout_nodes n WHERE n.rollout_id = r.id)");
    auto releases = list_releases(store);
    std::string listing;
    for (const auto& id : releases ? *releases : std::vector<std::string>{}) {
        listing += id + "\n";
        VerifyReport report;
        if (!verify_release(store / "releases" / id, key, report))
            c.problems += "release " + id + " is published but does not verify\n";
    }
    for (const auto& line : {rows(db, "SELECT release FROM channels"), rows(db, "SELECT release FROM pins")}) {
        std::size_t start = 0;
        for (auto nl = line.find('\n'); nl != std::string::npos; start = nl + 1, nl = line.find('\n', start)) {
            const std::string id = line.substr(start, nl - start);
            if (!fs::exists(store / "releases" / id)) c.problems += "state names unpublished release " + id + "\n";
        }
    }
    c.dump += "releases\n" + listing;
    sqlite3_close(db);
    return c;
}

void copy_store(const fs::path& from, const fs::path& to) {
    fs::remove_all(to);
    fs::copy(from, to, fs::copy_options::recursive);
}

// One command killed `runs` times from the same starting store.
struct Scenario {
    const char* name;
    std::vector<std::string> args;  ///< after `pibuild`; --store is appended
};

class CrashTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(fs::exists(test::fleet::pibuild())) << "build pibuild first";
        a_ = s_.published("1.0");
        b_ = s_.published("2.0");
        c_id_ = s_.build("3.0");
        pub_ = s_.signing_key().public_key();
    }
    int pibuild(const fs::path& store, std::vector<std::string> args) {
        args.insert(args.begin(), test::fleet::pibuild());
        args.push_back("--store");
        args.push_back(store.string());
        auto r = test::fleet::run_split(args);
        EXPECT_EQ(r.code, 0) << r.err;
        return r.code;
    }

    // Kills `sc` at random moments `runs` times, starting from a copy of `start` each time.
    void crash(const fs::path& start, const Scenario& sc, int runs) {
        const fs::path work = s_.path("work");
        const std::string before = check_store(start, pub_).dump;
        copy_store(start, work);
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_EQ(pibuild(work, sc.args), 0) << sc.name;
        // Kills are spread over the whole run: start-up, verification, the
        // transaction (stretched by the delay hook) and the exit.
        const int run_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - t0)
                                                .count());
        const auto finished = check_store(work, pub_);
        ASSERT_EQ(finished.problems, "") << sc.name;
        const std::string after = finished.dump;
        ASSERT_NE(before, after) << sc.name << ": the command changed nothing";

        std::mt19937 rng(12345 + static_cast<unsigned>(runs));
        int saw_before = 0, saw_after = 0;
        for (int i = 0; i < runs; ++i) {
            copy_store(start, work);
            const int delay_ms = static_cast<int>(rng() % 120);
            const int kill_ms = static_cast<int>(rng() % static_cast<unsigned>(delay_ms + run_ms + 10));
            std::vector<std::string> argv = {test::fleet::pibuild()};
            argv.insert(argv.end(), sc.args.begin(), sc.args.end());
            argv.push_back("--store");
            argv.push_back(work.string());
            const std::string env = "PIB_TEST_STATE_DELAY_MS=" + std::to_string(delay_ms);
            pid_t pid = fork();
            if (pid == 0) {
                int devnull = ::open("/dev/null", O_WRONLY);
                dup2(devnull, 1);
                dup2(devnull, 2);
                putenv(const_cast<char*>(env.c_str()));
                std::vector<char*> args;
                for (const auto& x : argv) args.push_back(const_cast<char*>(x.c_str()));
                args.push_back(nullptr);
                execv(args[0], args.data());
                _exit(127);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(kill_ms));
            ::kill(pid, SIGKILL);
            int status = 0;
            waitpid(pid, &status, 0);
            auto got = check_store(work, pub_);
            EXPECT_EQ(got.problems, "") << sc.name << " run " << i << " (delay " << delay_ms << " ms, kill at "
                                        << kill_ms << " ms)";
            if (got.dump == before) ++saw_before;
            else if (got.dump == after) ++saw_after;
            else
                ADD_FAILURE() << sc.name << " run " << i << ": neither the old nor the new state:\n"
                              << got.dump << "\nbefore:\n" << before << "\nafter:\n" << after;
        }
        std::printf("%-14s %d runs: %d old state, %d new state\n", sc.name, runs, saw_before, saw_after);
        // The next command cleans up whatever a killed publish left behind.
        copy_store(start, work);
    }

    Store s_{6};
    std::string a_, b_, c_id_;
    PublicKey pub_{};
};

TEST_F(CrashTest, KilledAnywhereLeavesOldOrNewState) {
    // Start: stable -> A (previous none), node-006 follows canary -> A.
    ASSERT_EQ(pibuild(s_.store(), {"channel", "set", "stable", a_}), 0);
    const fs::path start1 = s_.path("start1");
    copy_store(s_.store(), start1);
    crash(start1, {"publish", {"publish", s_.src("3.0").string()}}, 30);
    crash(start1, {"channel set", {"channel", "set", "stable", b_, "--window", "01:00-02:00"}}, 25);
    crash(start1, {"node pin", {"node", "pin", "node-001", b_}}, 25);
    crash(start1, {"rollout start", {"rollout", b_, "--channel", "stable", "--detach", "--waves", "1,50%,100%"}},
          30);

    // Start: stable -> B (previous A) for rollback; then with a rollout running.
    ASSERT_EQ(pibuild(s_.store(), {"channel", "set", "stable", b_}), 0);
    const fs::path start2 = s_.path("start2");
    copy_store(s_.store(), start2);
    crash(start2, {"rollback", {"rollback", "--channel", "stable"}}, 30);
    ASSERT_EQ(pibuild(s_.store(), {"channel", "set", "stable", a_}), 0);
    ASSERT_EQ(pibuild(s_.store(), {"rollout", b_, "--channel", "stable", "--detach"}), 0);
    const fs::path start3 = s_.path("start3");
    copy_store(s_.store(), start3);
    crash(start3, {"rollback+abort", {"rollback", "--channel", "stable", "--to", b_}}, 20);
}

// A killed publish leaves .incoming-<id>-<pid>; the next publish removes it
// and publishes completely.
TEST_F(CrashTest, LeftoversOfAKilledPublishAreRemoved) {
    const fs::path releases = s_.store() / "releases";
    const fs::path stale = releases / (".incoming-" + c_id_ + "-999999999");
    fs::create_directories(stale / "boot");
    test::write_text(stale / "root.squashfs", "half");
    ASSERT_EQ(pibuild(s_.store(), {"publish", s_.src("3.0").string()}), 0);
    EXPECT_FALSE(fs::exists(stale));
    for (const auto& e : fs::directory_iterator(releases))
        EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
    EXPECT_EQ(check_store(s_.store(), pub_).problems, "");
}

}  // namespace
}  // namespace pib
