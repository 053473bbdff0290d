// The pib-agent binary against the real netbootd in a network namespace: the
// health report (from a scripted systemctl and real check programs) lands in
// the fleet state; the watch reads GET /api/v1/nodes/<node> and reboots (a
// recording systemctl) only inside the channel's maintenance window.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "netbootd/netns.hpp"
#include "netbootd/store_fixture.hpp"
#include "store/fleet_state.hpp"
#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using pib::test::read_text;
using pib::test::write_text;

fs::path pib_agent() { return pib::test::built_binary("client/pib-agent"); }

// netbootd (proxyDHCP mode) serving a store with releases A and B to one node,
// pc-01, that follows channel `stable` -> B with a maintenance window.
struct AgentWorld {
    pib::test::TempDir tmp;
    netbootd::test::NetnsGuard ns{"pibagt"};
    std::unique_ptr<Background> server;
    std::string a, b;
    std::string why;

    bool start(const std::string& window) {
        const fs::path store = tmp / "store";
        fs::create_directories(store / "releases");
        const auto key = netbootd::test::fixed_key();
        write_text(tmp / "release.pub", key.public_key().to_pem());
        auto release = [&](const std::string& name, unsigned seed) {
            return netbootd::test::make_release(
                store / "releases", name, "pc",
                {{"root.squashfs", netbootd::test::random_bytes(4096, seed)},
                 {"boot/vmlinuz", "kernel"},
                 {"boot/initrd.img", "initrd"}},
                key);
        };
        a = release("demo-a", 1);
        b = release("demo-b", 2);
        auto state = pib::store::open_sqlite_state(store / "state.db");
        if (!state || !(*state)->configure_channel("stable", b, window, "test")) {
            why = "fleet state";
            return false;
        }
        write_text(tmp / "nodes.yaml",
                   "nodes:\n  - name: pc-01\n    mac: 52:54:00:aa:bb:07\n    channel: stable\n");
        write_text(tmp / "netbootd.yaml", "store: " + store.string() + "\ninventory: " +
                                              (tmp / "nodes.yaml").string() + "\npublic-key: " +
                                              (tmp / "release.pub").string() +
                                              "\nlisten:\n  interface: agt0\n"
                                              "  address: 10.219.0.1\n  http-port: 8080\n"
                                              "dhcp:\n  mode: proxy\n");
        if (!ns.add("s", why) || !ns.add("n", why) ||
            !ns.link("s", "agt0", "10.219.0.1/24", "n", "eth0", "10.219.0.7/24", why))
            return false;
        server = std::make_unique<Background>(
            std::vector<std::string>{"ip", "netns", "exec", ns.name("s"), "timeout", "120",
                                     pib::test::built_binary("netbootd/netbootd").string(),
                                     "--config", (tmp / "netbootd.yaml").string(),
                                     "--keep-privileges"},
            tmp / "netbootd.log");
        if (!wait_for_listener(ns.name("s"), "tcp", 8080, "netbootd")) {
            why = read_text(tmp / "netbootd.log");
            return false;
        }
        return true;
    }

    // A systemctl that answers is-system-running with `state`, lists
    // `failed` as failed units and records every other call.
    fs::path systemctl(const std::string& state, const std::string& failed) {
        const fs::path p = tmp / "systemctl";
        write_text(p,
                   "#!/bin/sh\ncase \"$1\" in\n"
                   "  is-system-running) echo " + state + "; [ " + state + " = running ];;\n"
                   "  list-units) [ -n \"" + failed + "\" ] && echo \"" + failed +
                       " loaded failed failed Test unit\"; exit 0;;\n"
                   "  *) echo \"$*\" >> " + (tmp / "systemctl.calls").string() + ";;\n"
                   "esac\n",
                   0755);
        return p;
    }

    /// Runs pib-agent (`program`: the command before its arguments) in the node's namespace.
    Ran agent(const std::string& release, std::vector<std::string> args,
              const std::vector<std::string>& program = {pib_agent().string()}) {
        write_text(tmp / "cmdline", "console=ttyS0 pib.server=http://10.219.0.1:8080 pib.release=" +
                                        release + " pib.node=pc-01\n");
        std::vector<std::string> argv = {"ip", "netns", "exec", ns.name("n")};
        argv.insert(argv.end(), program.begin(), program.end());
        argv.insert(argv.end(), args.begin(), args.end());
        argv.insert(argv.end(), {"--cmdline", (tmp / "cmdline").string()});
        return run_split(argv, tmp.path());
    }
};

TEST(PibAgent, HealthReportsFailedUnitsAndChecksToNetbootd) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    ASSERT_TRUE(is_static_elf(pib_agent())) << pib_agent();
    AgentWorld w;
    ASSERT_TRUE(w.start("")) << w.why;
    const fs::path checks = w.tmp / "health.d";
    write_text(checks / "10-ok", "#!/bin/sh\nexit 0\n", 0755);
    write_text(checks / "20-disk", "#!/bin/sh\necho checking /data\necho /data is full\nexit 4\n", 0755);
    write_text(checks / ".hidden", "#!/bin/sh\nexit 1\n", 0755);      // skipped: dot file
    write_text(checks / "30-notes", "not a program\n", 0644);        // skipped: not executable
    const fs::path sc = w.systemctl("degraded", "broken.service");
    Ran r = w.agent(w.a, {"health", "--systemctl", sc.string(), "--checks", checks.string()});
    ASSERT_EQ(r.rc, 0) << r.out << r.err << read_text(w.tmp / "netbootd.log");
    EXPECT_NE(r.out.find("failed_unit unit=broken.service"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("check name=20-disk exit=4"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(".hidden"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("30-notes"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("reported url=http://10.219.0.1:8080/api/v1/nodes/pc-01/report attempt=1"),
              std::string::npos)
        << r.out;

    auto state = pib::store::open_sqlite_state(w.tmp / "store/state.db");
    ASSERT_TRUE(state.ok());
    auto last = (*state)->last_report("pc-01");
    ASSERT_TRUE(last.ok() && *last) << "no report in the fleet state";
    EXPECT_EQ((*last)->kind, "health");
    EXPECT_FALSE((*last)->healthy);
    EXPECT_EQ((*last)->release, w.a);
    EXPECT_EQ((*last)->address, "10.219.0.7");
    auto body = nlohmann::json::parse((*last)->detail_json);
    EXPECT_EQ(body["detail"],
              "system degraded: failed units broken.service; check 20-disk exited 4 (/data is full)");
    EXPECT_EQ(body["checks"].size(), 2u);

    // A clean boot: healthy.
    fs::remove(checks / "20-disk");
    const fs::path ok = w.systemctl("running", "");
    Ran good = w.agent(w.a, {"health", "--systemctl", ok.string(), "--checks", checks.string()});
    ASSERT_EQ(good.rc, 0) << good.out << good.err;
    last = (*state)->last_report("pc-01");
    ASSERT_TRUE(last.ok() && *last);
    EXPECT_TRUE((*last)->healthy);
    EXPECT_EQ(nlohmann::json::parse((*last)->detail_json)["detail"],
              "system running; 1 health check passed");
}

TEST(PibAgent, HealthGivesUpAfterItsTriesWhenNoServerAnswers) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    pib::test::TempDir tmp;
    write_text(tmp / "cmdline", "pib.server=http://127.0.0.1:9 pib.release=r1 pib.node=pc-01\n");
    write_text(tmp / "systemctl", "#!/bin/sh\necho running\n", 0755);
    Ran r = run_split({pib_agent().string(), "health", "--cmdline", (tmp / "cmdline").string(),
                       "--systemctl", (tmp / "systemctl").string(), "--checks",
                       (tmp / "none").string(), "--tries", "2"},
                      tmp.path());
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_NE(r.out.find("retry attempt=1 of=2 in_ms=1000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("report_failed"), std::string::npos) << r.out;
    // A command line without pib.server is refused plainly.
    write_text(tmp / "cmdline", "pib.release=r1 pib.node=pc-01\n");
    Ran bad = run_split({pib_agent().string(), "health", "--cmdline", (tmp / "cmdline").string()},
                        tmp.path());
    EXPECT_EQ(bad.rc, 2);
    EXPECT_NE(bad.out.find("pib.server: missing"), std::string::npos) << bad.out;
}

TEST(PibAgent, WatchRebootsOnlyInsideTheWindow) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    AgentWorld w;
    ASSERT_TRUE(w.start("22:00-04:00")) << w.why;
    const fs::path sc = w.systemctl("running", "");
    const fs::path calls = w.tmp / "systemctl.calls";

    Ran outside = w.agent(w.a, {"watch", "--systemctl", sc.string(), "--time", "12:00"});
    ASSERT_EQ(outside.rc, 0) << outside.out << read_text(w.tmp / "netbootd.log");
    EXPECT_NE(outside.out.find("stay node=pc-01 booted=" + w.a + " served=" + w.b +
                               " window=22:00-04:00 time=12:00"),
              std::string::npos)
        << outside.out;
    EXPECT_FALSE(fs::exists(calls));

    Ran dry = w.agent(w.a, {"watch", "--systemctl", sc.string(), "--time", "23:30", "--dry-run"});
    ASSERT_EQ(dry.rc, 0) << dry.out;
    EXPECT_NE(dry.out.find("reboot node=pc-01"), std::string::npos) << dry.out;
    EXPECT_FALSE(fs::exists(calls));

    // Inside the window, across midnight: systemctl reboot.
    Ran inside = w.agent(w.a, {"watch", "--systemctl", sc.string(), "--time", "01:15"});
    ASSERT_EQ(inside.rc, 0) << inside.out;
    EXPECT_NE(inside.out.find("rebooting from " + w.a + " into " + w.b), std::string::npos)
        << inside.out;
    EXPECT_EQ(read_text(calls), "reboot\n");

    // Booted the served release: nothing to do, whatever the time.
    fs::remove(calls);
    Ran current = w.agent(w.b, {"watch", "--systemctl", sc.string(), "--time", "01:15"});
    ASSERT_EQ(current.rc, 0) << current.out;
    EXPECT_NE(current.out.find("up to date on " + w.b), std::string::npos) << current.out;
    EXPECT_FALSE(fs::exists(calls));
}

TEST(PibAgent, Arm64BinaryUnderQemuReports) {
    const fs::path arm = pib::test::built_binary("client-arm64/pib-agent");
    if (!fs::exists(arm)) {
        // ./run deps installs the cross toolchain; only a machine without it may skip.
        ASSERT_FALSE(fs::exists("/usr/bin/aarch64-linux-gnu-g++")) << "cross compiler present but no " << arm;
        GTEST_SKIP() << "no arm64 toolchain, no " << arm;
    }
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    ASSERT_TRUE(is_static_elf(arm)) << arm;
    AgentWorld w;
    ASSERT_TRUE(w.start("")) << w.why;
    const fs::path sc = w.systemctl("running", "");
    Ran r = w.agent(w.b, {"health", "--systemctl", sc.string(), "--checks", (w.tmp / "none").string()},
                    {"/usr/bin/qemu-aarch64-static", arm.string()});
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    auto state = pib::store::open_sqlite_state(w.tmp / "store/state.db");
    ASSERT_TRUE(state.ok());
    auto last = (*state)->last_report("pc-01");
    ASSERT_TRUE(last.ok() && *last);
    EXPECT_TRUE((*last)->healthy);
    EXPECT_EQ((*last)->release, w.b);
}

}  // namespace
}  // namespace pib::client::test
