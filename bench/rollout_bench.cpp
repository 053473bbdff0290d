// rollout-bench: the client side of bench/rollout_bench.sh. 1000 simulated
// nodes (tests/netbootd/sim_fleet.hpp: iPXE script requests and pib-init
// reports through pib-init's HTTP client) against a running netbootd.
//
//   rollout-bench setup --dir D [--nodes N] [--address A] [--port P]
//       a store with two signed releases A and B, N nodes on channel stable -> A,
//       the key and a netbootd config serving HTTP on A:P
//   rollout-bench run --dir D [--netns NS] [--address A] [--port P] [--runs R] [--threads T] [--pibuild PATH]
//       per run: start a rollout A -> B (waves 1,10%,50%,100%), drive it to its
//       third wave (half the fleet served B), then
//         (b) every node asks what to boot, SWEEPS times: answer latency p50/p99;
//         (a) roll back (`pibuild rollback` when --pibuild is given, else
//             FleetState::rollback) and time, from its return, until every
//             node has been answered A.
//       Prints each run and a markdown table of medians.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "netbootd/store_fixture.hpp"
#include "netbootd/sim_fleet.hpp"
#include "store/fleet_state.hpp"
#include "store/rollout_plan.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using pib::test::write_text;

namespace {

struct Opts {
    fs::path dir;
    std::string netns;
    std::string address = "127.0.0.1";
    std::uint16_t port = 8080;
    std::size_t nodes = 1000;
    int runs = 5;
    int sweeps = 3;
    unsigned threads = 8;
    std::string pibuild;
};

double ms_since(Clock::time_point t0, Clock::time_point t1) {
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double percentile(std::vector<std::int64_t> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]) / 1000.0;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0;
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int setup(const Opts& o) {
    const fs::path releases = o.dir / "store" / "releases";
    fs::create_directories(releases);
    auto key = netbootd::test::fixed_key();
    std::string ids[2];
    const char* names[2] = {"bench-a", "bench-b"};
    for (int i = 0; i < 2; ++i)
        ids[i] = netbootd::test::make_release(releases, names[i], "pc",
                                              {{"root.squashfs", std::string("root of ") + names[i]},
                                               {"boot/vmlinuz", std::string("kernel of ") + names[i]},
                                               {"boot/initrd.img", std::string("initrd of ") + names[i]},
                                               {"boot/cmdline.txt", "console=ttyS0\n"}},
                                              key);
    write_text(o.dir / "release.pub", key.public_key().to_pem());
    write_text(o.dir / "nodes.yaml", netbootd::sim::inventory_yaml(netbootd::sim::make_nodes(o.nodes), "stable"));
    write_text(o.dir / "netbootd.yaml",
               "store: " + (o.dir / "store").string() + "\ninventory: " + (o.dir / "nodes.yaml").string() +
                   "\npublic-key: " + (o.dir / "release.pub").string() +
                   "\nlisten:\n  address: " + o.address + "\n  tftp-port: 6969\n  http-port: " + std::to_string(o.port) +
                   "\ntftp:\n  root-fallback: refuse\nuser: root\ngroup: root\n");
    write_text(o.dir / "releases.txt", ids[0] + "\n" + ids[1] + "\n");
    auto state = pib::store::open_sqlite_state(o.dir / "store" / "state.db");
    if (!state) return std::cerr << "state: " << state.error().message << "\n", 1;
    if (auto st = (*state)->set_channel("stable", ids[0], "bench"); !st)
        return std::cerr << "channel: " << st.error().message << "\n", 1;
    return 0;
}

/// `pibuild rollback --store S --channel stable`; false when it fails.
bool cli_rollback(const Opts& o) {
    pid_t pid = fork();
    if (pid == 0) {
        const std::string store = (o.dir / "store").string();
        execl(o.pibuild.c_str(), o.pibuild.c_str(), "rollback", "--store", store.c_str(), "--channel", "stable",
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct RunResult {
    double p50 = 0, p99 = 0, max = 0, rps = 0;
    double rollback_cmd_ms = 0, all_old_ms = 0, first_old_ms = 0;
    std::size_t new_after_rollback = 0;  ///< answers naming B after the rollback returned
};

class Bench {
public:
    Bench(Opts o, std::unique_ptr<pib::store::FleetState> state, std::string a, std::string b)
        : o_(std::move(o)), state_(std::move(state)), a_(std::move(a)), b_(std::move(b)),
          nodes_(netbootd::sim::make_nodes(o_.nodes)), client_(o_.address, o_.port, o_.netns, o_.threads) {}

    bool wait_ready() {
        for (int i = 0; i < 200; ++i) {
            std::string error = "?";
            client_.parallel(1, [&](std::size_t) { error = client_.ask(nodes_[0]).error; });  // in the namespace
            if (error.empty()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return false;
    }

    /// Everyone asks; who got a new answer reboots into it and reports healthy.
    void round() {
        auto answers = client_.ask_all(nodes_);
        std::vector<std::size_t> changed;
        for (std::size_t i = 0; i < nodes_.size(); ++i)
            if (answers[i].error.empty() && answers[i].release != nodes_[i].booted) {
                nodes_[i].booted = answers[i].release;
                changed.push_back(i);
            }
        client_.parallel(changed.size(), [&](std::size_t k) {
            const auto& n = nodes_[changed[k]];
            (void)client_.report(n, n.booted, true);
        });
    }

    std::optional<RunResult> run() {
        std::vector<std::string> names;
        for (const auto& n : nodes_) names.push_back(n.name);
        auto waves = pib::store::split_waves(*pib::store::parse_waves(pib::store::kDefaultWaves), names);
        pib::store::RolloutPlan plan;
        plan.channel = "stable";
        plan.to_release = b_;
        plan.waves_spec = pib::store::kDefaultWaves;
        plan.waves = *waves;
        plan.max_failures = 5;
        plan.health_timeout_s = 3600;
        auto id = state_->start_rollout(plan, "bench");
        if (!id) return std::cerr << "rollout: " << id.error().message << "\n", std::nullopt;
        // Drive it to its third wave: half the fleet is served B, half A.
        for (int i = 0; i < 60; ++i) {
            round();
            // netbootd advances 50 ms after a burst of reports: let it, then look.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            auto r = state_->rollout(*id);
            if (r && *r && (*r)->current_wave >= 2) break;
        }
        RunResult res;
        std::vector<std::int64_t> lat;
        const auto s0 = Clock::now();
        for (int s = 0; s < o_.sweeps; ++s)
            for (const auto& a : client_.ask_all(nodes_)) lat.push_back(a.micros);
        res.rps = static_cast<double>(lat.size()) / (ms_since(s0, Clock::now()) / 1000.0);
        res.p50 = percentile(lat, 50);
        res.p99 = percentile(lat, 99);
        res.max = percentile(lat, 100);

        const auto c0 = Clock::now();
        if (!o_.pibuild.empty()) {
            if (!cli_rollback(o_)) return std::cerr << "pibuild rollback failed\n", std::nullopt;
        } else if (auto back = state_->rollback("stable", std::nullopt, "bench"); !back) {
            return std::cerr << "rollback: " << back.error().message << "\n", std::nullopt;
        }
        const auto t0 = Clock::now();
        res.rollback_cmd_ms = ms_since(c0, t0);
        // From here on every node must be answered A; time until each has been.
        std::vector<double> served_old(nodes_.size(), -1);
        std::vector<std::size_t> todo(nodes_.size());
        for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
        std::atomic<std::size_t> news{0};
        while (!todo.empty()) {
            client_.parallel(todo.size(), [&](std::size_t k) {
                auto a = client_.ask(nodes_[todo[k]]);
                if (a.release == a_) served_old[todo[k]] = ms_since(t0, Clock::now());
                else if (a.release == b_) ++news;
            });
            std::erase_if(todo, [&](std::size_t i) { return served_old[i] >= 0; });
        }
        res.all_old_ms = *std::max_element(served_old.begin(), served_old.end());
        res.first_old_ms = *std::min_element(served_old.begin(), served_old.end());
        res.new_after_rollback = news;
        round();  // the fleet reboots into A before the next run
        return res;
    }

private:
    Opts o_;
    std::unique_ptr<pib::store::FleetState> state_;
    std::string a_, b_;
    std::vector<netbootd::sim::SimNode> nodes_;
    netbootd::sim::Client client_;
};

int run(const Opts& o) {
    auto ids = pib::read_file(o.dir / "releases.txt");
    if (!ids) return std::cerr << "run setup first: " << ids.error().message << "\n", 1;
    const std::string a = ids->substr(0, ids->find('\n'));
    const std::string b = ids->substr(a.size() + 1, ids->find('\n', a.size() + 1) - a.size() - 1);
    auto state = pib::store::open_sqlite_state(o.dir / "store" / "state.db");
    if (!state) return std::cerr << "state: " << state.error().message << "\n", 1;
    Bench bench(o, std::move(*state), a, b);
    if (!bench.wait_ready()) return std::cerr << "netbootd does not answer on port " << o.port << "\n", 1;
    bench.round();  // first boot: everyone on A
    std::vector<RunResult> all;
    for (int r = 0; r < o.runs; ++r) {
        auto res = bench.run();
        if (!res) return 1;
        std::printf("run %d: answers p50 %.2f ms p99 %.2f ms max %.2f ms (%.0f req/s); rollback returned in %.1f ms, "
                    "then first node served A after %.1f ms, all %zu after %.1f ms, %zu answers of B after it\n",
                    r + 1, res->p50, res->p99, res->max, res->rps, res->rollback_cmd_ms, res->first_old_ms,
                    o.nodes, res->all_old_ms, res->new_after_rollback);
        all.push_back(*res);
    }
    auto med = [&](double RunResult::*f) {
        std::vector<double> v;
        for (const auto& r : all) v.push_back(r.*f);
        return median(v);
    };
    std::size_t news = 0;
    for (const auto& r : all) news += r.new_after_rollback;
    std::printf("\n| %zu nodes, median of %d runs | value |\n|---|---|\n", o.nodes, o.runs);
    std::printf("| answer latency p50 (what to boot, during a rollout) | %.2f ms |\n", med(&RunResult::p50));
    std::printf("| answer latency p99 | %.2f ms |\n", med(&RunResult::p99));
    std::printf("| answers per second (%u client threads) | %.0f |\n", o.threads, med(&RunResult::rps));
    std::printf("| one sweep: all %zu nodes asking once at that rate | %.0f ms |\n", o.nodes,
                1000.0 * static_cast<double>(o.nodes) / med(&RunResult::rps));
    std::printf("| `%s` itself | %.1f ms |\n", o.pibuild.empty() ? "FleetState::rollback" : "pibuild rollback",
                med(&RunResult::rollback_cmd_ms));
    std::printf("| rollback returned -> first node served the old release | %.1f ms |\n", med(&RunResult::first_old_ms));
    std::printf("| rollback returned -> every node served the old release | %.1f ms |\n", med(&RunResult::all_old_ms));
    std::printf("| answers naming the new release after the rollback returned (all runs) | %zu |\n", news);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"rollout-bench: 1000 simulated nodes against netbootd during a rollout and a rollback"};
    app.require_subcommand(1);
    Opts o;
    auto* s = app.add_subcommand("setup", "Write the store, inventory and config");
    s->add_option("--dir", o.dir, "Working directory")->required();
    s->add_option("--nodes", o.nodes, "Nodes in the inventory");
    s->add_option("--address", o.address, "netbootd's address");
    s->add_option("--port", o.port, "netbootd HTTP port");
    auto* r = app.add_subcommand("run", "Measure against a running netbootd");
    r->add_option("--dir", o.dir, "Working directory (from setup)")->required();
    r->add_option("--netns", o.netns, "Network namespace the clients run in");
    r->add_option("--address", o.address, "netbootd's address");
    r->add_option("--port", o.port, "netbootd HTTP port");
    r->add_option("--nodes", o.nodes, "Nodes (as given to setup)");
    r->add_option("--runs", o.runs, "Rollout + rollback runs");
    r->add_option("--sweeps", o.sweeps, "Sweeps of every node for the latency figures");
    r->add_option("--threads", o.threads, "Client threads");
    r->add_option("--pibuild", o.pibuild, "Roll back with this pibuild binary instead of FleetState::rollback");
    CLI11_PARSE(app, argc, argv);
    return s->parsed() ? setup(o) : run(o);
}
