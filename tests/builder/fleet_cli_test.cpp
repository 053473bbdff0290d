// The fleet commands as a user runs them, with the real pibuild binary on a
// real store: publish (verify, identical again, different content, tampered,
// unsigned), channel set/list, node pin/unpin, rollout start/follow/status/
// pause/resume/abort, a second rollout refused, rollback, status, history, gc;
// tables and --json for each.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "store/fleet_fixture.hpp"
#include "store/fleet_state.hpp"

namespace pib {
namespace {

using nlohmann::json;
using test::fleet::Output;
using test::fleet::Store;

json parse(const Output& r) { return test::fleet::parse_json(r); }

void report(const std::filesystem::path& store, const std::string& node, const std::string& release, bool healthy) {
    auto state = store::open_sqlite_state(store / "state.db");
    ASSERT_TRUE(state.ok()) << state.error().message;
    store::BootReport r;
    r.node = node;
    r.release = release;
    r.healthy = healthy;
    ASSERT_TRUE((*state)->add_report(r).ok());
}

TEST(FleetCli, PublishVerifiesAndIsIdempotent) {
    Store s;
    const std::string id = s.build("1.0");
    const mode_t old_umask = ::umask(077);  // published files stay world-readable anyway (NFS, root squash)
    auto r = s.cli({"publish", s.src("1.0").string()});
    ::umask(old_umask);
    ASSERT_EQ(r.code, 0) << r.err;
    struct stat st{};
    ASSERT_EQ(::stat((s.store() / "releases" / id / "boot").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    ASSERT_EQ(::stat((s.store() / "releases" / id / "root.squashfs").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_NE(r.out.find("published " + id), std::string::npos) << r.out;
    EXPECT_TRUE(std::filesystem::exists(s.store() / "releases" / id / "manifest.json.sig"));
    // Again: identical content, exit 0, said so.
    r = s.cli({"publish", s.src("1.0").string(), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    EXPECT_EQ(j["release"], id);
    EXPECT_EQ(j["already_present"], true);
    // The history records the publish once.
    r = s.cli({"history", "--json"});
    j = parse(r);
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["action"], "publish");
    EXPECT_EQ(j[0]["detail"]["release"], id);

    // Same id, different content in the store: refused, the store untouched.
    test::write_text(s.store() / "releases" / id / "boot/vmlinuz", "replaced");
    r = s.cli({"publish", s.src("1.0").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("different content"), std::string::npos) << r.err;
    EXPECT_EQ(test::read_text(s.store() / "releases" / id / "boot/vmlinuz"), "replaced");
}

TEST(FleetCli, PublishRefusesTamperedUnsignedAndForeignKey) {
    Store s;
    s.build("2.0");
    test::write_text(s.src("2.0") / "boot/vmlinuz", "tampered");
    auto r = s.cli({"publish", s.src("2.0").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("does NOT verify"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("boot/vmlinuz"), std::string::npos) << r.err;

    s.build("2.1");
    std::filesystem::remove(s.src("2.1") / "manifest.json.sig");
    r = s.cli({"publish", s.src("2.1").string()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("does NOT verify"), std::string::npos) << r.err;

    test::fleet::make_release(s.path("foreign"), "2.2", test::fleet::key(99));
    r = s.cli({"publish", s.path("foreign").string()});
    EXPECT_EQ(r.code, 1);
    // Nothing half-published is left behind.
    EXPECT_TRUE(!std::filesystem::exists(s.store() / "releases") ||
                std::filesystem::is_empty(s.store() / "releases"));
    // No key at all: bad input with a hint.
    std::filesystem::remove(s.store() / "fleet.pub");
    r = s.cli({"publish", s.path("foreign").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--pubkey"), std::string::npos) << r.err;
}

TEST(FleetCli, ChannelsPinsAndErrors) {
    Store s;
    const std::string a = s.published("1.0"), b = s.published("1.1");
    auto r = s.cli({"channel", "set", "stable", a});
    ASSERT_EQ(r.code, 0) << r.err;
    r = s.cli({"channel", "set", "stable", b, "--window", "02:00-04:00"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = s.cli({"channel", "list"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("CHANNEL  RELEASE", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("stable   " + b), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("02:00-04:00"), std::string::npos) << r.out;
    auto j = parse(s.cli({"channel", "list", "--json"}));
    ASSERT_EQ(j.size(), 1u);
    EXPECT_EQ(j[0]["release"], b);
    EXPECT_EQ(j[0]["previous"], a);
    EXPECT_EQ(j[0]["window"], "02:00-04:00");

    r = s.cli({"channel", "set", "stable", "fleet-9.9-000000000000"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("not published"), std::string::npos) << r.err;
    r = s.cli({"channel", "set", "stable", b, "--window", "4am"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("HH:MM-HH:MM"), std::string::npos) << r.err;

    r = s.cli({"node", "pin", "node-002", a, "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["release"], a);
    r = s.cli({"node", "pin", "node-999", a});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("not in the inventory"), std::string::npos) << r.err;
    r = s.cli({"status"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("NODE", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("(pin)"), std::string::npos) << r.out;
    j = parse(s.cli({"status", "--json"}));
    ASSERT_EQ(j.size(), 4u);
    // The node objects of `node list --json` and the API (docs/store.md, "JSON").
    EXPECT_EQ(j[1]["schema"], 1);
    EXPECT_EQ(j[1]["name"], "node-002");
    EXPECT_EQ(j[1]["desired_release"], a);
    EXPECT_EQ(j[1]["reason"], "pinned");
    EXPECT_EQ(j[0]["desired_release"], b);
    EXPECT_EQ(j[0]["last_report"], nullptr);
    r = s.cli({"node", "unpin", "node-002"});
    ASSERT_EQ(r.code, 0) << r.err;
    // Unpinning again: nothing to do, not an error (issue 11).
    r = s.cli({"node", "unpin", "node-002"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("not pinned: nothing to do"), std::string::npos) << r.out;
    r = s.cli({"node", "unpin", "node-002", "--json"});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["changed"], false);

    r = s.cli({"history"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("unpin"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("channel set"), std::string::npos) << r.out;
    EXPECT_EQ(parse(s.cli({"history", "--limit", "2", "--json"})).size(), 2u);
}

TEST(FleetCli, RolloutFollowsToCompletionAndStatus) {
    Store s(4);
    const std::string a = s.published("1.0"), b = s.published("2.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    ASSERT_EQ(s.cli({"node", "pin", "node-004", a}).code, 0);  // pinned: not part of the rollout
    // Follow in the background; the nodes report as they boot the new release.
    const std::string out_file = s.path("follow.out").string();
    pid_t pid = fork();
    if (pid == 0) {
        auto r = s.cli({"rollout", b, "--channel", "stable", "--waves", "1,100%"});
        test::write_text(out_file, r.out + "\n--stderr--\n" + r.err);
        _exit(r.code);
    }
    // Wave 1 is node-001 (sorted by name).
    for (;;) {
        auto st = parse(s.cli({"rollout", "status", "--channel", "stable", "--json"}));
        if (!st.empty() && st[0]["waves"][0]["updating"] == 1) break;
        usleep(100 * 1000);
    }
    report(s.store(), "node-001", b, true);
    for (;;) {
        auto st = parse(s.cli({"rollout", "status", "--channel", "stable", "--json"}));
        if (st[0]["current_wave"] == 2) break;
        usleep(100 * 1000);
    }
    auto st = s.cli({"rollout", "status"});
    EXPECT_NE(st.out.find("wave 2 started"), std::string::npos) << st.out;
    EXPECT_NE(st.out.find("WAVE  NODES  PENDING"), std::string::npos) << st.out;
    report(s.store(), "node-002", b, true);
    report(s.store(), "node-003", b, true);
    int status = 0;
    waitpid(pid, &status, 0);
    const std::string followed = test::read_text(out_file);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << followed;
    EXPECT_NE(followed.find("rollout 1 started: channel stable -> " + b + ", 3 nodes in 2 waves (1, 2)"),
              std::string::npos)
        << followed;
    EXPECT_NE(followed.find("completed"), std::string::npos) << followed;
    auto list = parse(s.cli({"channel", "list", "--json"}));
    EXPECT_EQ(list[0]["release"], b);
    auto stat = parse(s.cli({"status", "--json"}));
    EXPECT_EQ(stat[0]["last_report"]["release"], b);
    EXPECT_EQ(stat[0]["last_report"]["healthy"], true);
    EXPECT_EQ(stat[3]["desired_release"], a);
    auto ro = parse(s.cli({"rollout", "status", "1", "--json"}));
    EXPECT_EQ(ro[0]["state"], "completed");
    EXPECT_EQ(ro[0]["nodes"].size(), 3u);
}

TEST(FleetCli, SecondRolloutRefusedPauseResumeAbortRollback) {
    Store s(3);
    const std::string a = s.published("1.0"), b = s.published("2.0"), c = s.published("3.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    auto r = s.cli({"rollout", b, "--channel", "stable", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const auto id = parse(r)["id"].get<int>();
    EXPECT_EQ(parse(r)["waves"].size(), 3u);  // 1, 10% (=1, skipped), 50% (2), 100% (3)
    r = s.cli({"rollout", c, "--channel", "stable", "--detach"});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("already has an active rollout " + std::to_string(id)), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("pibuild rollout abort " + std::to_string(id)), std::string::npos) << r.err;
    r = s.cli({"channel", "set", "stable", c});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("active rollout"), std::string::npos) << r.err;

    r = s.cli({"rollout", "pause", "--channel", "stable"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("paused"), std::string::npos);
    r = s.cli({"rollout", "resume", std::to_string(id), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["state"], "running");
    r = s.cli({"rollout", "resume", std::to_string(id)});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("not paused"), std::string::npos);

    // Rollback aborts the rollout and keeps the channel on the old release.
    r = s.cli({"rollback", "--channel", "stable", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    EXPECT_EQ(j["release"], a);
    EXPECT_EQ(j["aborted_rollout"], id);
    auto status = parse(s.cli({"rollout", "status", std::to_string(id), "--json"}));
    EXPECT_EQ(status[0]["state"], "aborted");
    EXPECT_EQ(status[0]["reason"], "rollback");

    // A rollout that halts: the follower exits 1 and says why.
    r = s.cli({"rollout", c, "--channel", "stable", "--waves", "100%", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    report(s.store(), "node-002", c, false);
    r = s.cli({"rollout", "abort", "--channel", "stable", "--reason", "testing"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = s.cli({"rollout", "abort", "--channel", "stable"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no active rollout"), std::string::npos);

    // Channel moves, then one step back and a named one.
    ASSERT_EQ(s.cli({"channel", "set", "stable", b}).code, 0);
    r = s.cli({"rollback", "--channel", "stable"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("channel stable -> " + a), std::string::npos) << r.out;
    r = s.cli({"rollback", "--channel", "stable", "--to", c});
    ASSERT_EQ(r.code, 0) << r.err;
    r = s.cli({"rollback", "--channel", "stable", "--to", "fleet-0.1-000000000000"});
    EXPECT_EQ(r.code, 2);
    r = s.cli({"rollback", "--channel", "nochannel"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("not set"), std::string::npos) << r.err;
}

// Two operators start a rollout on the same channel at the same moment:
// exactly one starts, the other is told which rollout is running.
// A release whose manifest says it ships pib-agent gets the health gate by
// default; --gate overrides; a bad --gate is refused.
TEST(FleetCli, RolloutGateFollowsTheRelease) {
    Store s(2);
    const std::string a = s.published("1.0");
    const std::string b = test::fleet::make_release(s.path("src-agent"), "2.0", test::fleet::key(), 64 * 1024, true);
    ASSERT_EQ(s.cli({"publish", s.path("src-agent").string()}).code, 0);
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    auto r = s.cli({"rollout", b, "--channel", "stable", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["gate"], "health");
    EXPECT_NE(s.cli({"rollout", "status"}).out.find("gate health"), std::string::npos);
    ASSERT_EQ(s.cli({"rollout", "abort", "--channel", "stable"}).code, 0);
    r = s.cli({"rollout", b, "--channel", "stable", "--detach", "--json", "--gate", "boot"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["gate"], "boot");
    ASSERT_EQ(s.cli({"rollout", "abort", "--channel", "stable"}).code, 0);
    const std::string c = s.published("3.0");  // no agent: boot reports pass
    r = s.cli({"rollout", c, "--channel", "stable", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["gate"], "boot");
    ASSERT_EQ(s.cli({"rollout", "abort", "--channel", "stable"}).code, 0);
    r = s.cli({"rollout", c, "--channel", "stable", "--gate", "sometimes"});
    EXPECT_NE(r.code, 0);
    EXPECT_NE(r.err.find("--gate"), std::string::npos) << r.err;
}

TEST(FleetCli, TwoRolloutsAtOnceOnlyOneStarts) {
    Store s(3);
    const std::string a = s.published("1.0"), b = s.published("2.0"), c = s.published("3.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    std::vector<pid_t> kids;
    const std::vector<std::string> targets = {b, c};
    for (std::size_t i = 0; i < targets.size(); ++i) {
        pid_t pid = fork();
        if (pid == 0) {
            auto r = s.cli({"rollout", targets[i], "--channel", "stable", "--detach"});
            test::write_text(s.path("race-" + std::to_string(i)), r.err);
            _exit(r.code);
        }
        kids.push_back(pid);
    }
    std::vector<int> codes;
    for (pid_t pid : kids) {
        int status = 0;
        waitpid(pid, &status, 0);
        codes.push_back(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    std::sort(codes.begin(), codes.end());
    ASSERT_EQ(codes, (std::vector<int>{0, 1}));
    const std::string err = test::read_text(s.path("race-0")) + test::read_text(s.path("race-1"));
    EXPECT_NE(err.find("already has an active rollout 1"), std::string::npos) << err;
    EXPECT_NE(err.find("pibuild rollout abort 1"), std::string::npos) << err;
    EXPECT_EQ(parse(s.cli({"rollout", "status", "--json"})).size(), 1u);
}

TEST(FleetCli, RolloutHaltsOnFailureAndBadInput) {
    Store s(2);
    const std::string a = s.published("1.0"), b = s.published("2.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    // Counts above the fleet's size cover it.
    auto r = s.cli({"rollout", b, "--channel", "stable", "--waves", "1,3", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["waves"].size(), 2u);
    ASSERT_EQ(s.cli({"rollout", "abort", "--channel", "stable"}).code, 0);
    r = s.cli({"rollout", b, "--channel", "stable", "--waves", "1,40%"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("end the list with 100%"), std::string::npos) << r.err;
    r = s.cli({"rollout", b, "--channel", "stable", "--waves", "10%,5%"});
    EXPECT_EQ(r.code, 2);
    r = s.cli({"rollout", b, "--channel", "stable", "--health-timeout", "soon"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--health-timeout"), std::string::npos) << r.err;
    r = s.cli({"rollout", b, "--channel", "canary"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("follows channel canary"), std::string::npos) << r.err;
    r = s.cli({"rollout", b});
    EXPECT_EQ(r.code, 2);

    // node-001 fails on the new release: the follower reports the halt, exit 1.
    pid_t pid = fork();
    if (pid == 0) {
        auto out = s.cli({"rollout", b, "--channel", "stable", "--waves", "1,100%"});
        _exit(out.code == 1 && out.err.find("halted") != std::string::npos ? 0 : 1);
    }
    for (;;) {
        auto st = parse(s.cli({"rollout", "status", "--channel", "stable", "--json"}));
        if (!st.empty() && st[0]["active"] == true) break;
        usleep(100 * 1000);
    }
    report(s.store(), "node-001", b, false);
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto st = parse(s.cli({"rollout", "status", "--channel", "stable", "--json"}));
    EXPECT_EQ(st[0]["state"], "halted");
    auto nodes = parse(s.cli({"status", "--json"}));
    EXPECT_EQ(nodes[0]["desired_release"], a);  // back on the old release
}

TEST(FleetCli, GcKeepsReferencedReleases) {
    Store s(2);
    const std::string r1 = s.published("1.0"), r2 = s.published("2.0"), r3 = s.published("3.0"),
                      r4 = s.published("4.0"), r5 = s.published("5.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", r1}).code, 0);
    ASSERT_EQ(s.cli({"channel", "set", "stable", r2}).code, 0);
    ASSERT_EQ(s.cli({"channel", "set", "stable", r3}).code, 0);
    ASSERT_EQ(s.cli({"node", "pin", "node-001", r4}).code, 0);
    std::filesystem::create_directories(s.store() / "releases" / ".incoming-x-999999999");
    auto r = s.cli({"gc", "--keep-history", "0", "--dry-run", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    EXPECT_EQ(j["removed"], json({r1, r5}));
    EXPECT_TRUE(std::filesystem::exists(s.store() / "releases" / r1));
    r = s.cli({"gc", "--keep-history", "0"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("removed " + r1), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("removed leftover .incoming-x-999999999"), std::string::npos) << r.out;
    EXPECT_FALSE(std::filesystem::exists(s.store() / "releases" / r1));
    EXPECT_FALSE(std::filesystem::exists(s.store() / "releases" / r5));
    EXPECT_TRUE(std::filesystem::exists(s.store() / "releases" / r2));  // previous: rollback target
    EXPECT_TRUE(std::filesystem::exists(s.store() / "releases" / r4));  // pinned
    EXPECT_EQ(parse(s.cli({"history", "--limit", "1", "--json"}))[0]["action"], "gc");
}

TEST(FleetCli, HelpAndStoreRequired) {
    Store s;
    for (auto verb : {"publish", "release", "channel", "rollout", "rollback", "status", "history", "gc", "node"}) {
        auto r = test::fleet::run_split({test::fleet::pibuild(), verb, "--help"});
        EXPECT_EQ(r.code, 0) << verb << r.err;
        EXPECT_NE(r.out.find("--"), std::string::npos) << verb;
    }
    auto r = test::fleet::run_split({test::fleet::pibuild(), "status", "--store", s.path("missing").string()});
    EXPECT_EQ(r.code, 2);
}

}  // namespace
}  // namespace pib
