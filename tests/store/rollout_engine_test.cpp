// The rollout engine on a real state database: waves start as the previous
// ones report healthy on the new release, failures and timeouts halt (the
// nodes follow the channel's old release again), pause/resume/abort, rollback
// semantics, and a second active rollout refused, also from racing processes.
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "store/fleet_json.hpp"
#include "store/state_fixture.hpp"

namespace pib::store {
namespace {

class RolloutTest : public test::StateTest {
protected:
    void SetUp() override {
        StateTest::SetUp();
        ASSERT_TRUE(state_->set_channel("stable", "old", "alice").ok());
    }
    std::int64_t start(std::vector<std::vector<std::string>> waves, int max_failures = 0,
                       std::int64_t timeout = 600) {
        auto id = state_->start_rollout(plan("stable", "new", std::move(waves), max_failures, timeout), "alice");
        EXPECT_TRUE(id.ok()) << id.error().message;
        return id.ok() ? *id : 0;
    }
    Rollout get(std::int64_t id) {
        auto r = state_->rollout(id);
        EXPECT_TRUE(r.ok() && r->has_value());
        return **r;
    }
    std::map<std::string, NodeProgress> progress(std::int64_t id) {
        std::map<std::string, NodeProgress> out;
        for (const auto& n : get(id).nodes) out[n.node] = n.progress;
        return out;
    }
    std::string desired(const std::string& node) {
        auto v = state_->view();
        EXPECT_TRUE(v.ok());
        auto d = desired_release(*v, node, "stable", std::nullopt);
        return d ? d->release : "";
    }
    std::vector<std::int64_t> advance(std::int64_t now) {
        auto c = state_->advance_rollouts(now);
        EXPECT_TRUE(c.ok()) << c.error().message;
        return c.ok() ? *c : std::vector<std::int64_t>{};
    }
};

TEST_F(RolloutTest, WavesCompleteAndChannelMoves) {
    const auto id = start({{"a"}, {"b", "c"}, {"d"}});
    auto r = get(id);
    EXPECT_EQ(r.state, RolloutState::running);
    EXPECT_EQ(r.from_release, "old");
    EXPECT_EQ(r.wave_count, 3);
    EXPECT_EQ(r.wave_deadline, r.wave_started_at + 600);
    EXPECT_EQ(desired("a"), "new");
    EXPECT_EQ(desired("b"), "old");
    auto v = *state_->view();
    EXPECT_EQ(v.rollout_wave.at("d"), std::make_pair(id, 2));
    EXPECT_EQ(v.rollout_release.count("d"), 0u);

    const auto t0 = r.wave_started_at;
    // A healthy boot before the wave started, or on the old release, does not count.
    report("a", "new", true, t0 - 1);
    report("a", "old", true, t0 + 1);
    const auto counter = *state_->change_counter();
    EXPECT_TRUE(advance(t0 + 2).empty());
    EXPECT_EQ(*state_->change_counter(), counter);  // nothing changed, nothing committed
    EXPECT_EQ(progress(id)["a"], NodeProgress::updating);
    report("a", "new", true, t0 + 3);
    EXPECT_EQ(advance(t0 + 4), std::vector<std::int64_t>{id});
    r = get(id);
    EXPECT_EQ(r.current_wave, 1);
    EXPECT_EQ(r.wave_started_at, t0 + 4);
    EXPECT_EQ(progress(id)["a"], NodeProgress::healthy);
    EXPECT_EQ(progress(id)["b"], NodeProgress::updating);
    EXPECT_EQ(desired("c"), "new");
    EXPECT_EQ(desired("d"), "old");

    report("b", "new", true, t0 + 5, "health");
    EXPECT_EQ(advance(t0 + 6), std::vector<std::int64_t>{id});  // b turned healthy; c still updating
    EXPECT_EQ(get(id).current_wave, 1);
    report("c", "new", true, t0 + 7);
    advance(t0 + 8);
    EXPECT_EQ(get(id).current_wave, 2);
    report("d", "new", true, t0 + 9);
    advance(t0 + 10);
    r = get(id);
    EXPECT_EQ(r.state, RolloutState::completed);
    EXPECT_EQ(r.finished_at, t0 + 10);
    EXPECT_EQ(**state_->channel_release("stable"), "new");
    EXPECT_EQ(state_->channel_list()->at(0).previous, "old");
    EXPECT_FALSE(state_->active_rollout("stable")->has_value());
    EXPECT_TRUE(state_->view()->rollout_release.empty());
    EXPECT_EQ(desired("a"), "new");
    EXPECT_EQ(desired("zz"), "new");
    auto h = *state_->history(0);
    EXPECT_EQ(h[0].action, "rollout complete");
    EXPECT_EQ(h[1].action, "rollout wave");
    EXPECT_TRUE(advance(t0 + 11).empty());
}

TEST_F(RolloutTest, FailureHaltsAndNodesGoBack) {
    const auto id = start({{"a", "b"}, {"c"}});
    const auto t0 = get(id).wave_started_at;
    report("a", "new", true, t0);
    report("b", "new", false, t0 + 1, "health");
    advance(t0 + 2);
    auto r = get(id);
    EXPECT_EQ(r.state, RolloutState::halted);
    EXPECT_NE(r.reason.find("1 node(s) failed"), std::string::npos) << r.reason;
    EXPECT_EQ(progress(id)["b"], NodeProgress::failed);
    EXPECT_EQ(desired("a"), "old");
    EXPECT_EQ(desired("b"), "old");
    EXPECT_EQ(**state_->channel_release("stable"), "old");
    EXPECT_EQ(state_->history(1)->at(0).action, "rollout halt");
    // A new rollout can start once the old one is over.
    EXPECT_TRUE(state_->start_rollout(plan("stable", "new", {{"a"}}), "alice").ok());
}

// Under the health gate (the release ships pib-agent) pib-init's boot report
// alone does not pass a node; the agent's healthy report does; an unhealthy
// report of either kind fails it. A reboot's new boot report waits again.
TEST_F(RolloutTest, HealthGateWaitsForTheAgentsReport) {
    auto p = plan("stable", "new", {{"a", "b"}, {"c"}});
    p.gate = HealthGate::health;
    auto id = state_->start_rollout(p, "alice");
    ASSERT_TRUE(id.ok()) << id.error().message;
    auto r = get(*id);
    EXPECT_EQ(r.gate, HealthGate::health);
    const auto t0 = r.wave_started_at;
    report("a", "new", true, t0 + 1);  // boot report
    report("b", "new", true, t0 + 1);
    EXPECT_TRUE(advance(t0 + 2).empty());
    EXPECT_EQ(progress(*id)["a"], NodeProgress::updating);
    report("a", "new", true, t0 + 3, "health");
    advance(t0 + 4);
    EXPECT_EQ(progress(*id)["a"], NodeProgress::healthy);
    EXPECT_EQ(progress(*id)["b"], NodeProgress::updating);
    EXPECT_EQ(get(*id).current_wave, 0);
    report("b", "new", true, t0 + 5, "health");
    report("b", "new", true, t0 + 6);  // it rebooted: waits for the agent again
    advance(t0 + 7);
    EXPECT_EQ(progress(*id)["b"], NodeProgress::updating);
    report("b", "new", true, t0 + 8, "health");
    advance(t0 + 9);
    r = get(*id);
    EXPECT_EQ(r.current_wave, 1);
    report("c", "new", false, t0 + 10);  // a failed boot fails whatever the gate
    advance(t0 + 11);
    EXPECT_EQ(get(*id).state, RolloutState::halted);
    EXPECT_EQ(progress(*id)["c"], NodeProgress::failed);
    EXPECT_EQ(rollout_json(get(*id), false)["gate"], "health");
    // The default gate stays boot.
    const auto second = start({{"a"}});
    EXPECT_EQ(get(second).gate, HealthGate::boot);
}

TEST_F(RolloutTest, FailuresWithinTheLimitDoNotHalt) {
    const auto id = start({{"a", "b"}, {"c"}}, /*max_failures=*/1);
    const auto t0 = get(id).wave_started_at;
    report("a", "new", true, t0);
    report("b", "new", false, t0);
    advance(t0 + 1);
    EXPECT_EQ(get(id).state, RolloutState::running);
    EXPECT_EQ(get(id).current_wave, 1);
    report("c", "new", false, t0 + 2);
    advance(t0 + 3);
    EXPECT_EQ(get(id).state, RolloutState::halted);
    EXPECT_NE(get(id).reason.find("more than max failures 1"), std::string::npos);
}

TEST_F(RolloutTest, TimeoutHalts) {
    const auto id = start({{"a", "b"}}, 5, 60);
    const auto t0 = get(id).wave_started_at;
    report("a", "new", true, t0 + 10);
    advance(t0 + 59);
    EXPECT_EQ(get(id).state, RolloutState::running);
    advance(t0 + 60);
    auto r = get(id);
    EXPECT_EQ(r.state, RolloutState::halted);
    EXPECT_EQ(progress(id)["b"], NodeProgress::timed_out);
    EXPECT_EQ(progress(id)["a"], NodeProgress::healthy);
    EXPECT_NE(r.reason.find("missed the health timeout"), std::string::npos) << r.reason;
    EXPECT_EQ(desired("a"), "old");
}

TEST_F(RolloutTest, PauseResumeAbort) {
    const auto id = start({{"a"}, {"b"}}, 0, 60);
    const auto t0 = get(id).wave_started_at;
    ASSERT_TRUE(state_->pause_rollout(id, "bob").ok());
    EXPECT_EQ(state_->pause_rollout(id, "bob").error().code, Errc::invalid);
    EXPECT_EQ(desired("a"), "new");  // paused keeps started waves on the new release
    report("a", "new", true, t0 + 1);
    EXPECT_TRUE(advance(t0 + 1000).empty());  // no progress and no timeout while paused
    EXPECT_EQ(get(id).state, RolloutState::paused);
    ASSERT_TRUE(state_->resume_rollout(id, "bob", t0 + 1000).ok());
    EXPECT_EQ(get(id).wave_deadline, t0 + 1060);
    EXPECT_EQ(state_->resume_rollout(id, "bob", t0).error().code, Errc::invalid);
    advance(t0 + 1001);
    EXPECT_EQ(get(id).current_wave, 1);
    ASSERT_TRUE(state_->abort_rollout(id, "operator said so", "bob").ok());
    auto r = get(id);
    EXPECT_EQ(r.state, RolloutState::aborted);
    EXPECT_EQ(r.reason, "operator said so");
    EXPECT_EQ(desired("b"), "old");
    EXPECT_EQ(state_->abort_rollout(id, "", "bob").error().code, Errc::invalid);
    EXPECT_EQ(state_->abort_rollout(999, "", "bob").error().code, Errc::not_found);
    auto h = *state_->history(0);
    EXPECT_EQ(h[0].action, "rollout abort");
    EXPECT_EQ(h[0].who, "bob");
}

TEST_F(RolloutTest, SecondActiveRolloutRefusedAndChannelLocked) {
    const auto id = start({{"a"}});
    auto second = state_->start_rollout(plan("stable", "newer", {{"b"}}), "bob");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, Errc::exists);
    const std::string msg = second.error().message;
    EXPECT_NE(msg.find("rollout " + std::to_string(id)), std::string::npos) << msg;
    EXPECT_NE(msg.find("pibuild rollout status " + std::to_string(id)), std::string::npos) << msg;
    EXPECT_NE(msg.find("pibuild rollout abort " + std::to_string(id)), std::string::npos) << msg;
    auto set = state_->set_channel("stable", "other", "bob");
    ASSERT_FALSE(set.ok());
    EXPECT_EQ(set.error().code, Errc::exists);
    // Bad plans.
    ASSERT_TRUE(state_->set_channel("canary", "c1", "bob").ok());
    EXPECT_EQ(state_->start_rollout(plan("canary", "c1", {{"x"}}), "b").error().code, Errc::invalid);
    EXPECT_EQ(state_->start_rollout(plan("nochannel", "c1", {{"x"}}), "b").error().code, Errc::invalid);
    EXPECT_EQ(state_->start_rollout(plan("canary", "c2", {{"x"}, {}}), "b").error().code, Errc::invalid);
    EXPECT_EQ(state_->start_rollout(plan("canary", "c2", {{"x"}, {"x"}}), "b").error().code, Errc::invalid);
    EXPECT_EQ(state_->start_rollout(plan("canary", "c2", {{"a"}}), "b").error().code, Errc::invalid);
}

// Several processes start a rollout on the same channel at the same moment:
// exactly one wins, every time.
TEST_F(RolloutTest, RacingProcessesStartOnlyOne) {
    for (int round = 0; round < 5; ++round) {
        int pipefd[2];
        ASSERT_EQ(pipe(pipefd), 0);
        std::vector<pid_t> kids;
        for (int k = 0; k < 4; ++k) {
            pid_t pid = fork();
            if (pid == 0) {
                close(pipefd[1]);
                char c;
                (void)!read(pipefd[0], &c, 1);  // wait for the start signal (EOF)
                auto st = open_sqlite_state(db());
                if (!st) _exit(3);
                auto id = (*st)->start_rollout(plan("stable", "new-" + std::to_string(k), {{"n"}}), "racer");
                if (id) _exit(0);
                _exit(id.error().code == Errc::exists ? 1 : 2);
            }
            kids.push_back(pid);
        }
        close(pipefd[0]);
        close(pipefd[1]);  // release every child at once
        int won = 0, refused = 0;
        for (pid_t pid : kids) {
            int status = 0;
            waitpid(pid, &status, 0);
            ASSERT_TRUE(WIFEXITED(status));
            if (WEXITSTATUS(status) == 0) ++won;
            else if (WEXITSTATUS(status) == 1) ++refused;
        }
        EXPECT_EQ(won, 1);
        EXPECT_EQ(refused, 3);
        auto active = state_->active_rollout("stable");
        ASSERT_TRUE(active.ok() && active->has_value());
        ASSERT_TRUE(state_->abort_rollout((*active)->id, "next round", "test").ok());
    }
}

TEST_F(RolloutTest, RollbackSemantics) {
    EXPECT_EQ(state_->rollback("stable", std::nullopt, "bob").error().code, Errc::not_found);
    EXPECT_EQ(state_->rollback("nope", std::nullopt, "bob").error().code, Errc::not_found);
    ASSERT_TRUE(state_->set_channel("stable", "mid", "alice").ok());
    auto back = state_->rollback("stable", std::nullopt, "bob");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, "old");
    EXPECT_EQ(**state_->channel_release("stable"), "old");
    EXPECT_EQ(state_->channel_list()->at(0).previous, "mid");
    EXPECT_EQ(state_->history(1)->at(0).action, "rollback");
    EXPECT_EQ(*state_->rollback("stable", std::string("other"), "bob"), "other");
    EXPECT_EQ(state_->rollback("stable", std::string("other"), "bob").error().code, Errc::invalid);

    // During a rollout: the rollout is aborted and its nodes follow the
    // channel's release again, in the same transaction.
    ASSERT_TRUE(state_->set_channel("stable", "old", "alice").ok());
    const auto id = start({{"a"}, {"b"}});
    EXPECT_EQ(desired("a"), "new");
    auto undo = state_->rollback("stable", std::nullopt, "bob");
    ASSERT_TRUE(undo.ok()) << undo.error().message;
    EXPECT_EQ(*undo, "old");
    EXPECT_EQ(get(id).state, RolloutState::aborted);
    EXPECT_EQ(get(id).reason, "rollback");
    EXPECT_EQ(desired("a"), "old");
    auto h = *state_->history(2);
    EXPECT_EQ(h[0].action, "rollback");
    EXPECT_EQ(nlohmann::json::parse(h[0].detail_json)["aborted_rollout"], id);
    EXPECT_EQ(h[1].action, "rollout abort");
}

TEST_F(RolloutTest, ReferencedReleasesIncludeActiveRollout) {
    start({{"a"}});
    auto refs = *state_->referenced_releases(0);
    EXPECT_TRUE(refs.count("old"));
    EXPECT_TRUE(refs.count("new"));
    EXPECT_EQ(state_->rollouts(0)->size(), 1u);
    EXPECT_EQ(state_->rollouts(0)->at(0).nodes.size(), 1u);
}

}  // namespace
}  // namespace pib::store
