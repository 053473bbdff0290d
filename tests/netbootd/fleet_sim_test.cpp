// 1000 simulated nodes against the real netbootd daemon (in a network
// namespace of its own, HTTP on its loopback) while a rollout moves them from
// release A to B in waves 1,10%,50%,100%: every node asks what to boot as iPXE
// does and reports as pib-init does (sim_fleet.hpp); a node "reboots" when its
// answer changes. One wave fails (10 nodes report unhealthy on B, the limit is
// 5): the rollout halts by itself and every node is served A again. A second
// rollout completes and leaves the channel on B. At no moment is a node served
// anything but A or B, nor B before its wave started.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "netbootd/daemon.hpp"
#include "netns.hpp"
#include "sim_fleet.hpp"
#include "store/fleet_state.hpp"
#include "store/rollout_plan.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using pib::store::RolloutState;
using pib::test::write_text;

namespace {

constexpr std::size_t kNodes = 1000;
constexpr std::uint16_t kHttpPort = 8080;

/// netbootd::Daemon created and run on a thread inside namespace `ns`; keeps
/// the "rollout …" log lines.
class DaemonInNetns {
public:
    DaemonInNetns(const fs::path& config, const std::string& ns)
        : log_([this](pib::Level, const std::string& line) {
              if (!line.starts_with("rollout ")) return;
              std::lock_guard lock(mu_);
              rollout_lines_.push_back(line);
          }) {
        std::promise<std::string> ready;
        auto created = ready.get_future();
        thread_ = std::thread([this, config, ns, ready = std::move(ready)]() mutable {
            if (!netbootd::test::enter_netns(ns)) return ready.set_value("cannot enter " + ns);
            pib::Diagnostics diags;
            netbootd::DaemonOptions o;
            o.drop_privileges = false;
            o.dhcp = false;
            auto d = netbootd::Daemon::create(config, log_, diags, o);
            if (!d) return ready.set_value(d.error().message + " " + diags.str());
            {
                std::lock_guard lock(mu_);
                daemon_ = std::move(*d);
            }
            ready.set_value("");
            (void)daemon_->run();
        });
        error_ = created.get();
    }
    ~DaemonInNetns() {
        {
            std::lock_guard lock(mu_);
            if (daemon_) daemon_->stop();
        }
        thread_.join();
    }
    const std::string& error() const { return error_; }
    std::vector<std::string> rollout_lines() {
        std::lock_guard lock(mu_);
        return rollout_lines_;
    }

private:
    std::mutex mu_;
    std::vector<std::string> rollout_lines_;
    pib::Logger log_;
    std::unique_ptr<netbootd::Daemon> daemon_;
    std::thread thread_;
    std::string error_;
};

struct SimWorld {
    pib::test::TempDir dir;
    netbootd::test::NetnsGuard netns{"pibsim"};
    fs::path store;
    std::string a, b;
    std::vector<netbootd::sim::SimNode> nodes;
    std::unique_ptr<pib::store::FleetState> state;

    explicit SimWorld(std::size_t count = kNodes) : nodes(netbootd::sim::make_nodes(count)) {
        store = dir.path() / "store";
        const fs::path releases = store / "releases";
        fs::create_directories(releases);
        auto key = netbootd::test::fixed_key();
        auto release = [&](const std::string& name) {
            return netbootd::test::make_release(releases, name, "pc",
                                                {{"root.squashfs", "root of " + name},
                                                 {"boot/vmlinuz", "kernel of " + name},
                                                 {"boot/initrd.img", "initrd of " + name},
                                                 {"boot/cmdline.txt", "console=ttyS0\n"}},
                                                key);
        };
        a = release("fleet-a");
        b = release("fleet-b");
        write_text(dir.path() / "release.pub", key.public_key().to_pem());
        write_text(dir.path() / "nodes.yaml", netbootd::sim::inventory_yaml(nodes, "stable"));
        write_text(dir.path() / "netbootd.yaml",
                   "store: " + store.string() + "\ninventory: " + (dir.path() / "nodes.yaml").string() +
                       "\npublic-key: " + (dir.path() / "release.pub").string() +
                       "\nlisten:\n  address: 127.0.0.1\n  tftp-port: 6969\n  http-port: " +
                       std::to_string(kHttpPort) + "\ntftp:\n  root-fallback: refuse\n");
        auto st = pib::store::open_sqlite_state(store / "state.db");
        EXPECT_TRUE(st.ok()) << (st ? "" : st.error().message);
        if (st) state = std::move(*st);
    }

    pib::store::RolloutPlan plan(int max_failures) const {
        std::vector<std::string> names;
        for (const auto& n : nodes) names.push_back(n.name);
        auto targets = pib::store::parse_waves("1,10%,50%,100%");
        EXPECT_TRUE(targets.ok());
        auto waves = pib::store::split_waves(*targets, names);
        EXPECT_TRUE(waves.ok()) << (waves ? "" : waves.error().message);
        pib::store::RolloutPlan p;
        p.channel = "stable";
        p.to_release = b;
        p.waves_spec = "1,10%,50%,100%";
        p.waves = *waves;
        p.max_failures = max_failures;
        p.health_timeout_s = 3600;  // no timeouts: reports decide
        return p;
    }
};

/// A SimWorld served by netbootd in its namespace, channel stable -> A.
struct ServedWorld {
    SimWorld w;
    std::unique_ptr<DaemonInNetns> daemon;
    std::unique_ptr<netbootd::sim::Client> client;
    std::string error;  ///< "" when serving

    ServedWorld(std::size_t count, unsigned threads) : w(count) {
        std::string why;
        if (!w.state) error = "no fleet state";
        else if (!w.netns.add("srv", why)) error = why;
        else if (auto st = w.state->set_channel("stable", w.a, "test"); !st) error = st.error().message;
        if (!error.empty()) return;
        daemon = std::make_unique<DaemonInNetns>(w.dir.path() / "netbootd.yaml", w.netns.name("srv"));
        error = daemon->error();
        client = std::make_unique<netbootd::sim::Client>("127.0.0.1", kHttpPort, w.netns.name("srv"), threads);
    }
};

pib::store::Rollout read_rollout(pib::store::FleetState& state, std::int64_t id) {
    auto r = state.rollout(id);
    EXPECT_TRUE(r.ok() && *r) << "rollout " << id;
    return r.ok() && *r ? **r : pib::store::Rollout{};
}

/// Drives a rollout with the simulated fleet until it is no longer active.
/// Nodes in `failing` report unhealthy when they boot B. Checks, at every
/// round, what each node is served against the rollout's state around it.
struct Driver {
    SimWorld& w;
    const netbootd::sim::Client& client;
    std::map<std::string, int> wave_of;
    std::set<std::string> failing;
    int rounds = 0;

    /// One round: everyone asks; whoever got a new answer reboots into it and reports.
    void round(std::int64_t id) {
        ++rounds;
        const auto before = read_rollout(*w.state, id);
        const auto t0 = std::chrono::steady_clock::now();
        const auto answers = client.ask_all(w.nodes);
        const auto t1 = std::chrono::steady_clock::now();
        const auto after = read_rollout(*w.state, id);
        const bool steady = before.state == RolloutState::running && after.state == RolloutState::running &&
                            before.current_wave == after.current_wave;
        std::vector<std::size_t> rebooting;
        for (std::size_t i = 0; i < w.nodes.size(); ++i) {
            const auto& n = w.nodes[i];
            const auto& got = answers[i];
            ASSERT_EQ(got.error, "") << n.name;
            ASSERT_TRUE(got.release == w.a || got.release == w.b)
                << n.name << " was served " << got.release << ", neither A nor B";
            const int wave = wave_of.at(n.name);
            if (got.release == w.b) {
                ASSERT_LE(wave, after.current_wave) << n.name << " was served B before its wave started";
            }
            if (steady) {
                ASSERT_EQ(got.release, wave <= after.current_wave ? w.b : w.a)
                    << n.name << " (wave " << wave << ", current wave " << after.current_wave << ")";
            }
            if (got.release != n.booted) rebooting.push_back(i);
        }
        for (auto i : rebooting) w.nodes[i].booted = answers[i].release;
        std::vector<std::string> errors(rebooting.size());
        client.parallel(rebooting.size(), [&](std::size_t k) {
            const auto& n = w.nodes[rebooting[k]];
            errors[k] = client.report(n, n.booted, !(n.booted == w.b && failing.count(n.name)));
        });
        for (const auto& e : errors) ASSERT_EQ(e, "");
        const auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
        std::cout << "round " << rounds << ": rollout " << id << " " << pib::store::rollout_state_name(after.state)
                  << " wave " << after.current_wave << ", asked " << answers.size() << " in " << ms(t1 - t0)
                  << " ms, " << rebooting.size() << " rebooted and reported in "
                  << ms(std::chrono::steady_clock::now() - t1) << " ms\n";
    }

    /// Rounds until the rollout is no longer active (a bounded number).
    pib::store::Rollout run(std::int64_t id) {
        for (int i = 0; i < 40; ++i) {
            round(id);
            if (::testing::Test::HasFatalFailure()) break;
            auto r = read_rollout(*w.state, id);
            if (!pib::store::is_active(r.state)) return r;
        }
        return read_rollout(*w.state, id);
    }
};

bool has_line(const std::vector<std::string>& lines, const std::string& a, const std::string& b = "") {
    for (const auto& l : lines)
        if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
    return false;
}

/// GET `path` from netbootd (inside its namespace); "" on failure.
std::string http_get(const netbootd::sim::Client& client, const std::string& path) {
    std::string body;
    client.parallel(1, [&](std::size_t) {
        auto url = pib::client::parse_url("http://127.0.0.1:" + std::to_string(kHttpPort) + path);
        pib::client::TcpConnector net;
        pib::client::StringSink sink(16 << 20);
        if (url && pib::client::fetch(net, *url, sink, {1, 10, 10}, {})) body = sink.body();
    });
    return body;
}

nlohmann::json api(const netbootd::sim::Client& client, const std::string& path) {
    auto j = nlohmann::json::parse(http_get(client, "/api/v1/" + path), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << path;
    return j;
}

std::uint64_t metric(const netbootd::sim::Client& client, const std::string& name) {
    const std::string body = http_get(client, "/metrics");
    auto at = body.find("\n" + name + " ");
    return at == std::string::npos ? ~std::uint64_t{0} : std::stoull(body.substr(at + name.size() + 2));
}

TEST(FleetSim, ThousandNodesRollOutInWavesHaltOnFailuresThenComplete) {
    if (!pib::test::is_root()) GTEST_FAIL() << "needs root (network namespace)";
    ServedWorld sw(kNodes, 8);
    ASSERT_EQ(sw.error, "");
    SimWorld& w = sw.w;
    DaemonInNetns& d = *sw.daemon;
    const netbootd::sim::Client& client = *sw.client;

    Driver drv{w, client, {}, {}, 0};
    // Everyone boots A first. Asking is cheap: 1000 requests, at most a
    // handful of full reads of the fleet state (one per change, not per request).
    auto plan = w.plan(5);
    ASSERT_EQ(plan.waves.size(), 4u);
    ASSERT_EQ(plan.waves[0].size(), 1u);
    ASSERT_EQ(plan.waves[1].size(), 99u);
    ASSERT_EQ(plan.waves[2].size(), 400u);
    for (std::size_t wv = 0; wv < plan.waves.size(); ++wv)
        for (const auto& n : plan.waves[wv]) drv.wave_of[n] = static_cast<int>(wv);
    const auto reads0 = metric(client, "netbootd_fleet_reads_total");
    for (const auto& a : client.ask_all(w.nodes)) ASSERT_EQ(a.release, w.a) << a.error;
    const auto reads1 = metric(client, "netbootd_fleet_reads_total");
    EXPECT_LT(reads1 - reads0, 10u) << "1000 requests must not each read the whole fleet state";

    // Rollout 1: ten nodes of the 50% wave fail on B, more than max-failures 5.
    for (std::size_t k = 0; k < 10; ++k) drv.failing.insert(plan.waves[2][k * 37]);
    auto id1 = w.state->start_rollout(plan, "sim");
    ASSERT_TRUE(id1.ok()) << id1.error().message;
    // A second rollout on the channel while this one runs is refused.
    auto again = w.state->start_rollout(plan, "sim");
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, pib::Errc::exists);

    auto r1 = drv.run(*id1);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_EQ(r1.state, RolloutState::halted) << r1.reason;
    EXPECT_EQ(r1.current_wave, 2);
    EXPECT_FALSE(r1.reason.empty());
    // Halted: the failed nodes, and everyone else, are served A again.
    for (const auto& a : client.ask_all(w.nodes)) ASSERT_EQ(a.release, w.a) << a.error;
    EXPECT_EQ(*w.state->channel_release("stable"), std::optional<std::string>(w.a));
    drv.round(*id1);  // the nodes on B reboot into A and report
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (const auto& n : w.nodes) ASSERT_EQ(n.booted, w.a) << n.name;
    // The API tells the same story.
    auto rollouts = api(client, "rollouts");
    ASSERT_TRUE(rollouts.is_array() && !rollouts.empty());
    EXPECT_EQ(rollouts[0]["id"], *id1);
    EXPECT_EQ(rollouts[0]["state"], "halted");
    EXPECT_EQ(rollouts[0]["current_wave"], 3);
    EXPECT_GE(rollouts[0]["progress"]["failed"].get<int>(), 6);
    const std::string failed = *drv.failing.begin();
    auto fnode = api(client, "nodes/" + failed);
    EXPECT_EQ(fnode["release"], w.a);
    EXPECT_EQ(fnode["reason"], "channel stable");
    EXPECT_TRUE(fnode["rollout"].is_null());
    EXPECT_EQ(fnode["last_report"]["release"], w.a);
    EXPECT_TRUE(fnode.contains("window"));

    // Rollout 2: the problem is fixed; it completes and moves the channel to B.
    drv.failing.clear();
    auto id2 = w.state->start_rollout(plan, "sim");
    ASSERT_TRUE(id2.ok()) << id2.error().message;
    drv.round(*id2);  // wave 1's node boots B and reports healthy: netbootd starts wave 2
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    for (int i = 0; i < 600 && read_rollout(*w.state, *id2).current_wave < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(read_rollout(*w.state, *id2).current_wave, 1) << "netbootd did not advance the rollout";
    auto first = api(client, "nodes/" + plan.waves[0][0]);
    EXPECT_EQ(first["release"], w.b);
    EXPECT_EQ(first["reason"], "rollout " + std::to_string(*id2) + " wave 1");
    EXPECT_EQ(first["rollout"]["id"], *id2);
    EXPECT_EQ(first["rollout"]["wave"], 1);
    EXPECT_EQ(first["rollout"]["progress"], "healthy");
    auto last = api(client, "nodes/" + plan.waves[3][0]);
    EXPECT_EQ(last["release"], w.a);
    EXPECT_EQ(last["desired_release"], w.a);
    EXPECT_EQ(last["rollout"]["wave"], 4);
    EXPECT_EQ(last["rollout"]["progress"], "pending");
    EXPECT_EQ(api(client, "rollouts/" + std::to_string(*id2))["nodes"].size(), kNodes);
    auto r2 = drv.run(*id2);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    EXPECT_EQ(r2.state, RolloutState::completed) << r2.reason;
    EXPECT_EQ(*w.state->channel_release("stable"), std::optional<std::string>(w.b));
    for (const auto& a : client.ask_all(w.nodes)) ASSERT_EQ(a.release, w.b) << a.error;
    for (const auto& n : w.nodes) ASSERT_EQ(n.booted, w.b) << n.name;
    auto channels = api(client, "channels");
    ASSERT_EQ(channels.size(), 1u);
    EXPECT_EQ(channels[0]["name"], "stable");
    EXPECT_EQ(channels[0]["release"], w.b);
    EXPECT_TRUE(channels[0]["rollout"].is_null());
    auto all = api(client, "nodes");
    ASSERT_EQ(all.size(), kNodes);
    for (const auto& n : all) {
        EXPECT_EQ(n["release"], w.b);
        EXPECT_EQ(n["last_report"]["release"], w.b);
    }

    // One structured line per rollout change, as netbootd saw them.
    const auto lines = d.rollout_lines();
    const std::string i1 = "id=" + std::to_string(*id1) + " ", i2 = "id=" + std::to_string(*id2) + " ";
    // Waves are counted from 1 in log lines (as in the reason "rollout 3 wave 2").
    EXPECT_TRUE(has_line(lines, "rollout started " + i1, " waves=1,10%,50%,100% ")) << ::testing::PrintToString(lines);
    EXPECT_TRUE(has_line(lines, "rollout wave_started " + i1, " wave=3 of=4 "));
    EXPECT_TRUE(has_line(lines, "rollout halted " + i1, " reason="));
    EXPECT_TRUE(has_line(lines, "rollout wave_started " + i2, " wave=1 of=4 nodes=1"));
    EXPECT_TRUE(has_line(lines, "rollout wave_started " + i2, " wave=4 of=4 nodes=500"));
    EXPECT_TRUE(has_line(lines, "rollout completed " + i2));
    std::cout << "fleet sim: " << drv.rounds << " rounds of " << kNodes << " nodes\n";
    for (const auto& l : lines) std::cout << "  " << l << "\n";
}

TEST(FleetSim, NetbootdHaltsARolloutWhoseNodesNeverReport) {
    if (!pib::test::is_root()) GTEST_FAIL() << "needs root (network namespace)";
    ServedWorld sw(10, 2);
    ASSERT_EQ(sw.error, "");
    SimWorld& w = sw.w;
    const netbootd::sim::Client& client = *sw.client;
    pib::store::RolloutPlan plan;
    plan.channel = "stable";
    plan.to_release = w.b;
    plan.waves_spec = "100%";
    plan.waves.emplace_back();
    for (const auto& n : w.nodes) plan.waves[0].push_back(n.name);
    plan.health_timeout_s = 1;
    auto id = w.state->start_rollout(plan, "test");
    ASSERT_TRUE(id.ok()) << id.error().message;
    for (const auto& a : client.ask_all(w.nodes)) ASSERT_EQ(a.release, w.b) << a.error;
    // Nobody reports: with no report to react to, netbootd's once-a-second
    // advance finds the timeout passed and halts the rollout.
    pib::store::Rollout r;
    for (int i = 0; i < 600; ++i) {
        r = read_rollout(*w.state, *id);
        if (!pib::store::is_active(r.state)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(r.state, RolloutState::halted);
    for (const auto& a : client.ask_all(w.nodes)) ASSERT_EQ(a.release, w.a) << a.error;
    const auto lines = sw.daemon->rollout_lines();
    EXPECT_TRUE(has_line(lines, "rollout halted id=" + std::to_string(*id) + " ", " reason="))
        << ::testing::PrintToString(lines);
}

}  // namespace
