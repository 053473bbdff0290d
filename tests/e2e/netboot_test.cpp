// End to end: the bundled demo release (recipes/demo-x86.yaml, `initramfs:
// pib`) and two node overlays network-boot two diskless QEMU x86_64 machines
// (their built-in iPXE ROM, virtio-net, software emulation) from netbootd in
// proxy mode beside dnsmasq, all inside a private network namespace made by
// scripts/netboot-vm.sh. Checked from each node's serial console: its own
// hostname, `/` an overlay over a read-only squashfs with a tmpfs upper, SSH
// host key fingerprints equal to its overlay's, the boot report in
// netbootd's API; a file written is gone after a reboot; an overlay signed by
// another key and a root.squashfs altered by one byte are refused with a
// console message and nothing mounted.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/test_support.hpp"
#include "e2e/e2e_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

using namespace pib::e2e;

TEST(E2eNetboot, TwoNodesBootVerifiedRebootPristineAndTamperingRefused) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root (namespaces, image build)";
    const auto pibuild = pib::test::built_binary("builder/pibuild");
    const auto netbootd = pib::test::built_binary("netbootd/netbootd");
    pib::test::TempDir dir;
    const fs::path store = dir.path() / "store";
    std::string out;

    // ---- the release and the overlays, as a fleet owner makes them
    ASSERT_EQ(run({pibuild.string(), "keygen", "-o", (dir.path() / "other").string()}, &out), 0) << out;
    const std::string id = build_demo_release(dir.path(), out);  // and fleet.key, fleet.pub
    ASSERT_FALSE(id.empty()) << out;
    write_text(dir.path() / "nodes.yaml", "nodes:\n"
                                          "  - name: node-a\n    hostname: node-a.lab\n    mac: 52:54:00:e2:e0:01\n"
                                          "    release: " + id + "\n"
                                          "  - name: node-b\n    mac: 52:54:00:e2:e0:02\n    release: " + id + "\n");
    auto render = [&](const std::string& key, const std::vector<std::string>& extra = {}) {
        std::vector<std::string> argv = {pibuild.string(), "nodes", "render", "--inventory",
                                         (dir.path() / "nodes.yaml").string(), "--store", store.string(),
                                         "--key", (dir.path() / key).string(), "--secrets",
                                         (dir.path() / "secrets").string()};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return run(argv, &out);
    };
    ASSERT_EQ(render("fleet.key"), 0) << out;

    // ---- boot both
    NetbootVms vms;
    vms.workdir = dir.path() / "vm";
    vms.start({"--store", store.string(), "--pubkey", (dir.path() / "fleet.pub").string(), "--inventory",
               (dir.path() / "nodes.yaml").string(), "--vm", "52:54:00:e2:e0:01", "--vm", "52:54:00:e2:e0:02",
               "--netbootd", netbootd.string()});
    const std::string done = "PIB-FACTS done";
    ASSERT_TRUE(wait_for([&] { return count(vms.console(1), done) >= 1 && count(vms.console(2), done) >= 1; }, 420s))
        << "node-a:\n" << vms.console(1) << "\nnode-b:\n" << vms.console(2) << "\nnetbootd:\n"
        << read_text(vms.workdir / "netbootd.log");

    for (int n : {1, 2}) {
        const std::string name = n == 1 ? "node-a" : "node-b";
        SCOPED_TRACE(name);
        const std::string c = vms.console(n);
        EXPECT_NE(c.find("PIB-FACTS hostname=" + std::string(n == 1 ? "node-a.lab" : "node-b") + "\n"),
                  std::string::npos);
        EXPECT_NE(c.find("PIB-FACTS root=overlay rw,"), std::string::npos) << c;
        EXPECT_NE(c.find("lowerdir=/run/pib/node:/run/pib/ro,upperdir=/run/pib/rw/upper"), std::string::npos);
        EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS mount /run/pib/ro=squashfs ro,")));
        EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS mount /run/pib/rw=tmpfs ")));
        // Kernel messages may interleave with the service's lines: check order, not adjacency.
        const auto absent = c.find("PIB-FACTS marker=absent\n");
        ASSERT_NE(absent, std::string::npos) << c;
        EXPECT_NE(c.find("PIB-FACTS marker=written\n", absent), std::string::npos);
        // Host keys are the node's own, from its overlay.
        auto doc = json::parse(read_text(store / "overlays" / name / "overlay.json"), nullptr, false);
        ASSERT_TRUE(doc.is_object());
        for (const char* kind : {"ed25519", "rsa"}) {
            const std::string fp = doc["ssh_host_keys"][kind].get<std::string>();
            std::string upper = kind;
            for (auto& ch : upper) ch = static_cast<char>(std::toupper(ch));
            EXPECT_NE(c.find("PIB-FACTS ssh=" + fp + " (" + upper + ")"), std::string::npos) << kind << "\n" << c;
        }
    }
    EXPECT_NE(vms.console(1).find("ssh=SHA256:"), std::string::npos);
    // The boot reports reached netbootd's API.
    auto nodes = vms.api("/api/v1/nodes", out);
    ASSERT_TRUE(nodes.is_array()) << out;
    for (const auto& n : nodes) {
        EXPECT_EQ(n["last_report"]["release"], id) << n;
        // pib-init's boot report, or the pib-agent health report that follows it.
        const std::string kind = n["last_report"].value("kind", "");
        EXPECT_TRUE(kind == "boot" || kind == "health") << n;
        EXPECT_EQ(n["last_report"]["healthy"], true) << n;
    }

    // ---- node-a reboots: pristine again. node-b's overlay is re-signed by another key.
    const std::string other_overlay_msg = "VERIFICATION FAILED";
    ASSERT_EQ(render("other.key", {"--node", "node-b"}), 0) << out;
    ASSERT_TRUE(monitor(vms.workdir / "monitor-1.sock", "system_reset"));
    ASSERT_TRUE(monitor(vms.workdir / "monitor-2.sock", "system_reset"));
    ASSERT_TRUE(wait_for([&] { return count(vms.console(1), done) >= 2; }, 360s)) << vms.console(1);
    const std::string second = after(vms.console(1), "PIB-FACTS hostname=", 2);
    EXPECT_NE(second.find("PIB-FACTS marker=absent\n"), std::string::npos) << "a file written survived a reboot";
    ASSERT_TRUE(wait_for([&] { return vms.console(2).find(other_overlay_msg) != std::string::npos; }, 360s))
        << vms.console(2);
    {
        const std::string c2 = after(vms.console(2), other_overlay_msg, 1);
        EXPECT_NE(c2.find("overlay"), std::string::npos) << c2.substr(0, 400);
        EXPECT_NE(c2.find("refusing to boot"), std::string::npos) << c2.substr(0, 400);
        EXPECT_EQ(count(vms.console(2), done), 1u) << "node-b booted an overlay signed by another key";
    }

    // ---- one byte of root.squashfs altered after signing: node-a refuses it.
    {
        std::fstream io(store / "releases" / id / "root.squashfs", std::ios::in | std::ios::out | std::ios::binary);
        io.seekg(4096);
        char ch = 0;
        io.get(ch);
        io.seekp(4096);
        io.put(static_cast<char>(ch ^ 0x01));
    }
    const std::size_t failures_before = count(vms.console(1), other_overlay_msg);
    ASSERT_TRUE(monitor(vms.workdir / "monitor-1.sock", "system_reset"));
    ASSERT_TRUE(wait_for([&] { return count(vms.console(1), other_overlay_msg) > failures_before; }, 360s))
        << vms.console(1);
    const std::string c1 = after(vms.console(1), other_overlay_msg, failures_before + 1);
    EXPECT_NE(c1.find("root.squashfs"), std::string::npos) << c1.substr(0, 400);
    std::this_thread::sleep_for(3s);
    EXPECT_EQ(count(vms.console(1), done), 2u) << "node-a booted a root that fails its hash";
}

}  // namespace
