// End to end: a rollout and a rollback on two diskless QEMU nodes (issue 5).
// Two releases of the demo, A (recipes/demo-x86.yaml) and B (A's staged root
// plus one file, so B builds without a second Debian bootstrap), are published
// with `pibuild publish`; channel `stable` -> A; both nodes follow it and boot
// A, and pib-agent (shipped in the release) reports their health. Then
// `pibuild rollout B --channel stable --waves 1,100% --detach`: each node is
// reset (QEMU monitor) once netbootd serves it B, boots B, and its reports move
// the rollout on until it completes. `pibuild rollback --channel stable` and a
// reset bring both back to A. netbootd in proxy mode beside dnsmasq, inside a
// private network namespace (scripts/netboot-vm.sh).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <nlohmann/json.hpp>
#include <regex>

#include "e2e/e2e_support.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using namespace pib::e2e;
using pib::test::read_text;

namespace {

const std::string kDone = "PIB-FACTS done";

// The only entry of `dir` that `pred` accepts.
fs::path only_entry(const fs::path& dir, const std::function<bool(const fs::path&)>& pred) {
    fs::path found;
    for (const auto& e : fs::directory_iterator(dir))
        if (pred(e.path())) found = e.path();
    return found;
}

struct Fleet {
    fs::path pibuild = pib::test::built_binary("builder/pibuild");
    pib::test::TempDir dir;
    fs::path store = dir.path() / "store";
    NetbootVms vms;
    std::string api;  ///< http://<netbootd>
    std::string out;

    int pib(std::vector<std::string> args) {
        args.insert(args.begin(), pibuild.string());
        return pib::test::run(args, &out);
    }
    // Builds `recipe` into built/ and returns the new release's id.
    std::string build(const fs::path& recipe) {
        std::set<std::string> before;
        fs::create_directories(dir.path() / "built");
        for (const auto& e : fs::directory_iterator(dir.path() / "built")) before.insert(e.path().filename());
        std::vector<std::string> args = {"build", recipe.string(), "-o", (dir.path() / "built").string(),
                                         "--key", (dir.path() / "fleet.key").string(), "--work-dir",
                                         (dir.path() / "work").string(), "--cache-dir",
                                         (dir.path() / "cache").string(), "--json"};
        if (pib(args) != 0) return "";
        return only_entry(dir.path() / "built", [&](const fs::path& p) {
                   return !before.count(p.filename()) && p.filename().string()[0] != '.';
               }).filename();
    }
    json node(const std::string& name) {
        std::string body;
        pib::test::run({"ip", "netns", "exec", vms.netns(), "curl", "-sS", "--max-time", "10", api + "/api/v1/nodes/" + name},
            &body);
        return json::parse(body, nullptr, false);
    }
    json rollout_status() {
        std::string body;
        pib::test::run({pibuild.string(), "rollout", "status", "--channel", "stable", "--store", store.string(), "--json"}, &body);
        auto j = json::parse(body, nullptr, false);
        return j.is_array() && !j.empty() ? j[0] : json();
    }
    std::string consoles() const {
        return "node-a:\n" + vms.console(1) + "\nnode-b:\n" + vms.console(2) + "\nnetbootd:\n" +
               read_text(vms.workdir / "netbootd.log");
    }
    // The newest report of `name` is the agent's healthy one on `release`.
    bool healthy_on(const std::string& name, const std::string& release) {
        auto n = node(name);
        if (!n.is_object() || !n["last_report"].is_object()) return false;
        const auto& r = n["last_report"];
        return r["release"] == release && r["kind"] == "health" && r["healthy"] == true;
    }
};

TEST(E2eRollout, TwoNodesRollForwardInWavesAndBackInOneStep) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root (namespaces, image build)";
    Fleet f;
    const fs::path d = f.dir.path();

    // ---- releases A (the shared demo build, and its key) and B (A's staged
    // root plus one file, version 1.1)
    auto demo = shared_demo_release(f.out);
    ASSERT_TRUE(demo) << f.out;
    const std::string a = demo->id;
    fs::create_directories(d / "built");
    fs::copy(demo->release, d / "built" / a, fs::copy_options::recursive);
    fs::copy_file(demo->key, d / "fleet.key");
    fs::copy_file(demo->pub, d / "fleet.pub");
    std::string recipe = read_text(kSource / "recipes/demo-x86.yaml");
    const auto base = recipe.find("\nbase:\n"), boot = recipe.find("\nboot:\n");
    ASSERT_TRUE(base != std::string::npos && boot != std::string::npos);
    recipe = recipe.substr(0, base) + "\nbase:\n  directory: " + demo->root.string() +
             "\n\nsteps:\n  - write:\n      path: /etc/pib-variant\n      content: \"B\\n\"\n" + recipe.substr(boot);
    recipe = std::regex_replace(recipe, std::regex("version: \"1.0\""), "version: \"1.1\"");
    pib::test::write_text(d / "demo-b.yaml", recipe);
    const std::string b = f.build(d / "demo-b.yaml");
    ASSERT_FALSE(b.empty()) << f.out;
    ASSERT_NE(a, b);

    // ---- published, channel stable -> A, two nodes following it. The key and
    // the inventory sit where the fleet commands look by default.
    fs::create_directories(f.store);
    fs::copy_file(d / "fleet.pub", f.store / "fleet.pub");
    for (const auto& id : {a, b})
        ASSERT_EQ(f.pib({"publish", (d / "built" / id).string(), "--store", f.store.string()}), 0) << f.out;
    const fs::path inventory = f.store / "nodes.yaml";
    pib::test::write_text(inventory, "nodes:\n"
                                 "  - name: node-a\n    mac: 52:54:00:e5:00:01\n    channel: stable\n"
                                 "  - name: node-b\n    mac: 52:54:00:e5:00:02\n    channel: stable\n");
    ASSERT_EQ(f.pib({"nodes", "render", "--inventory", inventory.string(), "--store", f.store.string(),
                     "--key", (d / "fleet.key").string(), "--secrets", (d / "secrets").string()}),
              0)
        << f.out;
    ASSERT_EQ(f.pib({"channel", "set", "stable", a, "--store", f.store.string()}), 0) << f.out;

    const auto t0 = std::chrono::steady_clock::now();
    f.vms.workdir = d / "vm";
    f.vms.start({"--store", f.store.string(), "--pubkey", (d / "fleet.pub").string(), "--inventory",
                 inventory.string(), "--vm", "52:54:00:e5:00:01", "--vm", "52:54:00:e5:00:02",
                 "--netbootd", pib::test::built_binary("netbootd/netbootd").string()});
    const std::map<int, std::string> names = {{1, "node-a"}, {2, "node-b"}};
    ASSERT_TRUE(wait_for([&] { return count(f.vms.console(1), kDone) >= 1 && count(f.vms.console(2), kDone) >= 1; },
                         420s))
        << f.consoles();
    std::smatch m;
    const std::string cfg = read_text(f.vms.workdir / "netbootd.yaml");
    ASSERT_TRUE(std::regex_search(cfg, m, std::regex("address: ([0-9.]+)")));
    f.api = "http://" + m[1].str();
    // The release booted, and the agent's health report for it.
    for (const auto& [n, name] : names) {
        EXPECT_NE(f.vms.console(n).find("release=" + a + " node=" + name), std::string::npos) << f.vms.console(n);
        ASSERT_TRUE(wait_for([&] { return f.healthy_on(name, a); }, 180s))
            << name << ": " << f.node(name).dump(2) << "\n" << f.consoles();
    }
    EXPECT_NE(f.vms.console(1).find("pib-agent info agent reported"), std::string::npos) << f.vms.console(1);

    // ---- rollout B in two waves: reset each node once netbootd serves it B
    ASSERT_EQ(f.pib({"rollout", b, "--channel", "stable", "--waves", "1,100%", "--detach", "--store",
                     f.store.string()}),
              0)
        << f.out;
    std::map<int, std::size_t> boots_before;
    ASSERT_TRUE(wait_for(
        [&] {
            for (const auto& [n, name] : names) {
                if (boots_before.count(n)) continue;
                if (f.node(name)["release"] == b) {
                    boots_before[n] = count(f.vms.console(n), kDone);
                    f.vms.reset(n);
                }
            }
            return f.rollout_status()["state"] == "completed";
        },
        600s))
        << f.rollout_status().dump(2) << "\n" << f.consoles();
    const json done = f.rollout_status();
    EXPECT_EQ(done["to"], b);
    EXPECT_EQ(done["from"], a);
    EXPECT_EQ(done["wave_count"], 2);
    for (const auto& [n, name] : names) {
        ASSERT_TRUE(boots_before.count(n)) << name << " was never served B";
        // The rollout may complete on pib-init's boot report, before the root's services ran.
        EXPECT_TRUE(wait_for([&] { return count(f.vms.console(n), kDone) > boots_before[n]; }, 240s)) << name;
        EXPECT_NE(f.vms.console(n).find("release=" + b + " node=" + name), std::string::npos) << name;
        EXPECT_TRUE(wait_for([&] { return f.healthy_on(name, b); }, 120s)) << f.node(name).dump(2);
        EXPECT_EQ(f.node(name)["desired_release"], b);
    }

    // ---- one step back: both on A after a reset
    ASSERT_EQ(f.pib({"rollback", "--channel", "stable", "--store", f.store.string()}), 0) << f.out;
    for (const auto& [n, name] : names) {
        EXPECT_EQ(f.node(name)["release"], a) << f.node(name).dump(2);
        boots_before[n] = count(f.vms.console(n), kDone);
        ASSERT_TRUE(f.vms.reset(n));
    }
    for (const auto& [n, name] : names) {
        ASSERT_TRUE(wait_for([&] { return count(f.vms.console(n), kDone) > boots_before[n]; }, 360s))
            << f.consoles();
        const std::string c = f.vms.console(n);
        ASSERT_NE(c.rfind("pib-init: release="), std::string::npos) << c;
        const std::string last = c.substr(c.rfind("pib-init: release="));
        EXPECT_EQ(last.rfind("pib-init: release=" + a + " node=" + name, 0), 0u) << last.substr(0, 200);
        EXPECT_TRUE(wait_for([&] { return f.healthy_on(name, a); }, 120s)) << f.node(name).dump(2);
    }
    const auto vm_seconds = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0);
    std::printf("rollout e2e: %lld s from the first power-on to both nodes back on A\n",
                static_cast<long long>(vm_seconds.count()));
}

}  // namespace
