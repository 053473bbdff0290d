// netbootd as a whole (Daemon: config -> store -> inventory -> servers) on
// loopback, with DHCP off: TFTP per-client paths and rendering with curl and
// tftp-hpa, HTTP files and the API with curl, live reloads. The binary itself
// (--check-config, privilege drop, SIGHUP) runs in a network namespace.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sqlite3.h>
#include <regex>
#include <thread>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"
#include "netbootd/daemon.hpp"
#include "netns.hpp"
#include "running_daemon.hpp"
#include "store/fleet_state.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

std::uint16_t test_port(int offset) { return static_cast<std::uint16_t>(20000 + (getpid() % 5000) * 4 + offset); }

struct Fleet {
    pib::test::TempDir dir;
    fs::path store, releases, inventory, config, pubkey;
    std::string pc_id, pi_id, pc2_id;
    std::string pc_kernel = netbootd::test::random_bytes(300 * 1024, 11);
    std::string pi_start = netbootd::test::random_bytes(200 * 1024, 12);
    std::uint16_t tftp_port = test_port(0), http_port = test_port(1);

    Fleet() {
        store = dir.path() / "store";
        releases = store / "releases";
        fs::create_directories(releases);
        auto key = netbootd::test::fixed_key();
        pubkey = dir.path() / "release.pub";
        write_text(pubkey, key.public_key().to_pem());
        pc_id = netbootd::test::make_release(releases, "demo-pc", "pc",
                                             {{"root.squashfs", "squashfs-bytes-pc"},
                                              {"boot/vmlinuz", pc_kernel},
                                              {"boot/initrd.img", "initrd-pc"},
                                              {"boot/cmdline.txt", "console=ttyS0 node=@NODE@ srv=@SERVER@\n"}},
                                             key);
        pi_id = netbootd::test::make_release(releases, "demo-pi", "rpi4",
                                             {{"root.squashfs", "squashfs-bytes-pi"},
                                              {"boot/start4.elf", pi_start},
                                              {"boot/fixup4.dat", "fixup"},
                                              {"boot/kernel8.img", "kernel8"},
                                              {"boot/initrd.img", "initrd-pi"},
                                              {"boot/config.txt", "[all]\narm_64bit=1\n# for @HOSTNAME@\n"},
                                              {"boot/cmdline.txt", "console=serial0,115200\n"}},
                                             key);
        pc2_id = netbootd::test::make_release(releases, "demo-pc2", "pc",
                                              {{"root.squashfs", "squashfs-bytes-pc2"},
                                               {"boot/vmlinuz", "kernel-two"},
                                               {"boot/initrd.img", "initrd-two"},
                                               {"boot/cmdline.txt", "console=ttyS0\n"}},
                                              key);
        inventory = dir.path() / "nodes.yaml";
        write_inventory("");
        config = dir.path() / "netbootd.yaml";
        write_config("refuse");
        auto state = pib::store::open_sqlite_state(store / "state.db");
        EXPECT_TRUE(state.ok());
        EXPECT_TRUE((*state)->set_channel("stable", pc_id, "test").ok());
    }

    void write_inventory(const std::string& extra) {
        write_text(inventory,
                   "nodes:\n"
                   "  - name: pi-01\n"
                   "    hostname: pi-01.lab\n"
                   "    serial: 1a2b3c4d\n"
                   "    release: " + pi_id + "\n"
                   "  - name: pc-01\n"
                   "    mac: 52:54:00:12:34:56\n"
                   "    channel: stable\n"
                   "    network: {address: 10.9.0.50/24, gateway: 10.9.0.1}\n"
                   "    kernel-args: quiet\n" + extra);
    }

    std::string extra_config;

    void write_config(const std::string& fallback) {
        write_text(config, extra_config + "store: " + store.string() + "\ninventory: " + inventory.string() +
                               "\npublic-key: " + pubkey.string() +
                               "\nlisten:\n  address: 127.0.0.1\n  tftp-port: " + std::to_string(tftp_port) +
                               "\n  http-port: " + std::to_string(http_port) +
                               "\ntftp:\n  root-fallback: " + fallback + "\nuser: nobody\ngroup: nogroup\n");
    }
};

/// The daemon of the fleet's config on its own thread for the test's lifetime.
class Running : public netbootd::test::RunningDaemon {
public:
    explicit Running(const Fleet& f) : RunningDaemon(f.config) {}
};

std::string url(const Fleet& f, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(f.http_port) + path;
}

/// curl's output (body, or headers with -I), and its exit code in `rc`.
std::string curl(std::vector<std::string> args, int* rc = nullptr) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    int r = run(argv, &out);
    if (rc) *rc = r;
    return out;
}

std::string tftp_get(const Fleet& f, const std::string& path, int* rc = nullptr) {
    return curl({"--tftp-blksize", "1468", "tftp://127.0.0.1:" + std::to_string(f.tftp_port) + "/" + path}, rc);
}

using netbootd::test::eventually;

TEST(Daemon, ServesPiFilesBySerialWithRenderedCmdlineAndConfig) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    int rc = 0;
    EXPECT_EQ(tftp_get(f, "1a2b3c4d/start4.elf", &rc), f.pi_start);
    EXPECT_EQ(rc, 0);
    // One structured line per transfer, naming node and release.
    EXPECT_TRUE(eventually([&] {
        return d.logged("tftp transfer_done client=127.0.0.1:") &&
               d.logged(" node=pi-01 release=" + f.pi_id + " file=1a2b3c4d/start4.elf bytes=" +
                        std::to_string(f.pi_start.size()));
    }));
    const std::string cmdline = tftp_get(f, "1a2b3c4d/cmdline.txt");
    EXPECT_EQ(cmdline, "console=serial0,115200 pib.server=http://127.0.0.1:" + std::to_string(f.http_port) +
                           " pib.release=" + f.pi_id + " pib.node=pi-01\n");
    const std::string config = tftp_get(f, "1a2b3c4d/config.txt");
    EXPECT_EQ(config, "# netbootd: release " + f.pi_id + ", node pi-01\n[all]\narm_64bit=1\n# for pi-01.lab\n");
    // Unknown serial: the Pi then asks the root, which is refused here.
    tftp_get(f, "deadbeef/start4.elf", &rc);
    EXPECT_NE(rc, 0);
    // The address is now learned: root paths from it are pi-01's files.
    EXPECT_EQ(tftp_get(f, "start4.elf"), f.pi_start);
    // Traversal never leaves the release.
    tftp_get(f, "1a2b3c4d/../../manifest.json", &rc);
    EXPECT_NE(rc, 0);
}

TEST(Daemon, RootFallbackServesDefaultReleaseOrRefuses) {
    Fleet f;
    f.write_config("{default-release: " + f.pc2_id + "}");
    {
        Running d(f);
        ASSERT_TRUE(d.ok());
        EXPECT_EQ(tftp_get(f, "vmlinuz"), "kernel-two");
        EXPECT_EQ(tftp_get(f, "cmdline.txt"),
                  "console=ttyS0 pib.server=http://127.0.0.1:" + std::to_string(f.http_port) + " pib.release=" +
                      f.pc2_id + "\n");
    }
    f.write_config("refuse");
    Running d(f);
    ASSERT_TRUE(d.ok());
    int rc = 0;
    tftp_get(f, "vmlinuz", &rc);
    EXPECT_EQ(rc, 68) << "curl: TFTP file not found";
}

TEST(Daemon, TftpHpaClientGetsIpxeBinary) {
    if (!fs::exists("/usr/lib/ipxe/undionly.kpxe")) GTEST_SKIP() << "Debian package ipxe missing";
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    pib::test::TempDir out;
    const fs::path got = out.path() / "undionly.kpxe";
    ASSERT_EQ(run({"tftp", "-m", "binary", "127.0.0.1", std::to_string(f.tftp_port), "-c", "get", "undionly.kpxe",
                   got.string()}),
              0);
    EXPECT_EQ(read_text(got), read_text("/usr/lib/ipxe/undionly.kpxe"));
}

TEST(Daemon, HttpReleaseFilesCarryManifestDigestAsEtag) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(curl({url(f, "/releases/" + f.pc_id + "/boot/vmlinuz")}), f.pc_kernel);
    const std::string head = curl({"-I", url(f, "/releases/" + f.pc_id + "/boot/vmlinuz")});
    const std::string digest = pib::sha256_hex(f.pc_kernel);
    EXPECT_NE(head.find("\"" + digest + "\""), std::string::npos) << head;
    // Conditional GET with that ETag: 304.
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \"" + digest + "\"",
                    url(f, "/releases/" + f.pc_id + "/boot/vmlinuz")}),
              "304");
    EXPECT_EQ(curl({"-r", "10-19", url(f, "/releases/" + f.pc_id + "/boot/vmlinuz")}), f.pc_kernel.substr(10, 10));
    // Only files the manifest lists (and the manifest and signature).
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/releases/" + f.pc_id + "/manifest.json.sig")}),
              "200");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/releases/" + f.pc_id + "/nope")}), "404");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "--path-as-is",
                    url(f, "/releases/" + f.pc_id + "/../" + f.pi_id + "/boot/start4.elf")}),
              "403");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/releases/not-a-release/manifest.json")}),
              "404");
    EXPECT_EQ(curl({url(f, "/healthz")}), "ok\n");
}

TEST(Daemon, IpxeScriptBootsTheNodesChannelRelease) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    const std::string base = "http://127.0.0.1:" + std::to_string(f.http_port);
    const std::string script = curl({url(f, "/ipxe/52-54-00-12-34-56.ipxe")});
    EXPECT_EQ(script, "#!ipxe\n# netbootd: release " + f.pc_id + ", node pc-01\nkernel " + base + "/releases/" +
                          f.pc_id + "/boot/vmlinuz initrd=initrd.img console=ttyS0 node=pc-01 srv=" + base +
                          " pib.server=" + base + " pib.release=" + f.pc_id +
                          " pib.node=pc-01 ip=10.9.0.50::10.9.0.1:255.255.255.0:pc-01::off quiet\n"
                          "initrd --name initrd.img " + base + "/releases/" + f.pc_id +
                          "/boot/initrd.img\nboot\n");
    // An unknown MAC with root-fallback refuse: 404.
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/ipxe/52-54-00-99-99-99.ipxe")}), "404");
    // A channel change is seen at once, without a reload.
    auto state = pib::store::open_sqlite_state(f.store / "state.db");
    ASSERT_TRUE(state.ok());
    ASSERT_TRUE((*state)->set_channel("stable", f.pc2_id, "test").ok());
    EXPECT_NE(curl({url(f, "/ipxe/52-54-00-12-34-56.ipxe")}).find("/releases/" + f.pc2_id + "/boot/vmlinuz"),
              std::string::npos);
}

TEST(Daemon, ApiListsNodesAndReleasesAndTakesReports) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    auto nodes = json::parse(curl({url(f, "/api/v1/nodes")}), nullptr, false);
    ASSERT_TRUE(nodes.is_array()) << nodes;
    ASSERT_EQ(nodes.size(), 2u);
    EXPECT_EQ(nodes[0]["name"], "pi-01");
    EXPECT_EQ(nodes[0]["release"], f.pi_id);
    EXPECT_EQ(nodes[0]["pinned"], f.pi_id);
    EXPECT_EQ(nodes[1]["name"], "pc-01");
    EXPECT_EQ(nodes[1]["channel"], "stable");
    EXPECT_EQ(nodes[1]["release"], f.pc_id);
    EXPECT_TRUE(nodes[1]["last_report"].is_null());

    auto rels = json::parse(curl({url(f, "/api/v1/releases")}), nullptr, false);
    ASSERT_TRUE(rels.is_array());
    EXPECT_EQ(rels.size(), 3u);

    const std::string body = R"({"release":")" + f.pc_id + R"(","kind":"boot","phases":{"dhcp":1200,"fetch":3400}})";
    EXPECT_EQ(curl({"-X", "POST", "-H", "Content-Type: application/json", "--data-binary", body,
                    url(f, "/api/v1/nodes/pc-01/report")}),
              "{\"ok\":true}\n");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", "{not json",
                    url(f, "/api/v1/nodes/pc-01/report")}),
              "400");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary", body,
                    url(f, "/api/v1/nodes/nobody/report")}),
              "404");
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/api/v1/nodes/pc-01/report")}), "405");
    auto node = json::parse(curl({url(f, "/api/v1/nodes/pc-01")}), nullptr, false);
    ASSERT_TRUE(node.is_object()) << node;
    EXPECT_EQ(node["last_report"]["release"], f.pc_id);
    EXPECT_EQ(node["last_report"]["address"], "127.0.0.1");
    EXPECT_TRUE(node["address"].is_null()) << "a report does not teach the node's address";
}

// A CLI transaction holding the state's write lock stalls netbootd's loop
// at most its 1 s busy timeout: the report gets 503 with Retry-After (pib-init
// and pib-agent retry) and goes through once the lock is released.
TEST(Daemon, ReportWhileTheStateIsLockedGets503) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open((f.store / "state.db").c_str(), &h), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(h, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    const std::string body = R"({"release":")" + f.pc_id + R"(","kind":"health","healthy":true})";
    const std::string locked = curl({"-sS", "-i", "-X", "POST", "--data-binary", body,
                                     url(f, "/api/v1/nodes/pc-01/report")});
    EXPECT_NE(locked.find("HTTP/1.1 503"), std::string::npos) << locked;
    EXPECT_NE(locked.find("Retry-After: 1"), std::string::npos) << locked;
    EXPECT_EQ(curl({url(f, "/healthz")}).empty(), false) << "the daemon keeps serving";
    ASSERT_EQ(sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(h);
    EXPECT_EQ(curl({"-X", "POST", "--data-binary", body, url(f, "/api/v1/nodes/pc-01/report")}), "{\"ok\":true}\n");
    auto node = json::parse(curl({url(f, "/api/v1/nodes/pc-01")}), nullptr, false);
    ASSERT_TRUE(node.is_object()) << node;
    EXPECT_EQ(node["last_report"]["kind"], "health");
}

TEST(Daemon, MetricsCountPerProtocol) {
    Fleet f;
    Running d(f);
    ASSERT_TRUE(d.ok());
    tftp_get(f, "1a2b3c4d/start4.elf");
    curl({url(f, "/releases/" + f.pc_id + "/boot/vmlinuz")});
    const std::string m = curl({url(f, "/metrics")});
    EXPECT_NE(m.find("# TYPE netbootd_requests_total counter"), std::string::npos) << m;
    EXPECT_NE(m.find("netbootd_requests_total{protocol=\"tftp\"} 1\n"), std::string::npos) << m;
    EXPECT_NE(m.find("netbootd_sent_bytes_total{protocol=\"tftp\"} " + std::to_string(f.pi_start.size()) + "\n"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("netbootd_transfers_in_flight{protocol=\"http\"}"), std::string::npos) << m;
    EXPECT_NE(m.find("netbootd_releases{state=\"verified\"} 3\n"), std::string::npos) << m;
    EXPECT_NE(m.find("netbootd_nodes 2\n"), std::string::npos) << m;
}

TEST(Daemon, TamperedReleaseIsRejectedAndNeverServed) {
    Fleet f;
    {
        std::fstream io(f.releases / f.pc2_id / "root.squashfs", std::ios::in | std::ios::out | std::ios::binary);
        io.seekp(3);
        io.put('X');
    }
    Running d(f);
    ASSERT_TRUE(d.ok());
    auto rels = json::parse(curl({url(f, "/api/v1/releases")}), nullptr, false);
    bool found = false;
    for (const auto& r : rels)
        if (r["id"] == f.pc2_id) {
            found = true;
            EXPECT_EQ(r["verified"], false);
            EXPECT_NE(r["problems"].dump().find("root.squashfs"), std::string::npos) << r;
        }
    EXPECT_TRUE(found);
    EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", url(f, "/releases/" + f.pc2_id + "/boot/vmlinuz")}),
              "404");
    EXPECT_TRUE(d.logged("catalog release_rejected release=" + f.pc2_id));
}

TEST(Daemon, NewReleaseAndInventoryEditAreSeenWithoutRestart) {
    Fleet f;
    const fs::path parked = f.dir.path() / "parked";
    fs::rename(f.releases / f.pc2_id, parked);
    Running d(f);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(json::parse(curl({url(f, "/api/v1/releases")}), nullptr, false).size(), 2u);
    // "Publishing": the release appears by rename, as pibuild publish does it.
    fs::rename(parked, f.releases / f.pc2_id);
    EXPECT_TRUE(eventually([&] { return json::parse(curl({url(f, "/api/v1/releases")}), nullptr, false).size() == 3u; }));
    // The inventory is replaced by rename too (editors, config management).
    const fs::path next = f.dir.path() / "nodes.yaml.new";
    f.write_inventory("  - name: pc-02\n    mac: 52:54:00:00:00:02\n    release: " + f.pc2_id + "\n");
    fs::copy_file(f.inventory, next, fs::copy_options::overwrite_existing);
    fs::rename(next, f.inventory);
    EXPECT_TRUE(eventually([&] { return json::parse(curl({url(f, "/api/v1/nodes")}), nullptr, false).size() == 3u; }));
    // A broken inventory is refused and the last good one keeps serving.
    write_text(f.inventory, "nodes:\n  - name: pc-03\n    mac: nonsense\n");
    d->request_reload();
    EXPECT_TRUE(eventually([&] { return d.logged("netbootd reload_failed"); }));
    EXPECT_EQ(json::parse(curl({url(f, "/api/v1/nodes")}), nullptr, false).size(), 3u);
    EXPECT_TRUE(d.logged("nodes.yaml:3:10"));
}

TEST(Daemon, ReloadDoesNotDropATransferInFlight) {
    Fleet f;
    const std::string big = netbootd::test::random_bytes(24 << 20, 5);
    pib::test::TempDir tmp;
    auto key = netbootd::test::fixed_key();
    const std::string id = netbootd::test::make_release(f.releases, "big", "pc",
                                                        {{"root.squashfs", "r"}, {"boot/vmlinuz", big}}, key);
    f.write_config("{default-release: " + id + "}");
    Running d(f);
    ASSERT_TRUE(d.ok());
    const fs::path out = tmp.path() / "got";
    std::thread client([&] { tftp_get(f, "vmlinuz"); });
    std::string got;
    std::thread fetch([&] {
        run({"curl", "-sS", "--max-time", "60", "--tftp-blksize", "512", "-o", out.string(),
             "tftp://127.0.0.1:" + std::to_string(f.tftp_port) + "/vmlinuz"});
    });
    std::this_thread::sleep_for(200ms);
    for (int i = 0; i < 5; ++i) {
        d->request_reload();
        std::this_thread::sleep_for(100ms);
    }
    fetch.join();
    client.join();
    EXPECT_GE(d->reloads(), 1u);
    EXPECT_TRUE(read_text(out) == big) << "transfer broken by reload";
}

TEST(Daemon, PublishesVerifiedReleasesAsNfsExports) {
    Fleet f;
    const fs::path exports = f.dir.path() / "exports" / "netbootd-exports.conf";
    fs::create_directories(exports.parent_path());
    f.extra_config = "nfs:\n  enabled: true\n  server: ganesha\n  subnet: 10.77.0.0/24\n  exports-file: " +
                     exports.string() + "\n  reload-command: [touch, " + (f.dir.path() / "reloaded").string() + "]\n";
    f.write_config("refuse");
    {
        std::fstream io(f.releases / f.pc2_id / "root.squashfs", std::ios::in | std::ios::out | std::ios::binary);
        io.put('X');
    }
    Running d(f);
    ASSERT_TRUE(d.ok());
    std::string text = read_text(exports);
    EXPECT_NE(text.find("Path = \"" + (f.releases / f.pc_id).string() + "\""), std::string::npos) << text;
    EXPECT_NE(text.find("Path = \"" + (f.releases / f.pi_id).string() + "\""), std::string::npos) << text;
    EXPECT_EQ(text.find(f.pc2_id), std::string::npos) << "a release that failed verification is not exported";
    EXPECT_NE(text.find("Clients = 10.77.0.0/24"), std::string::npos) << text;
    EXPECT_TRUE(fs::exists(f.dir.path() / "reloaded"));
    // A new release is exported once the store changes.
    auto key = netbootd::test::fixed_key();
    const std::string id = netbootd::test::make_release(f.releases, "late", "pc", {{"root.squashfs", "late"}}, key);
    EXPECT_TRUE(eventually([&] { return read_text(exports).find(id) != std::string::npos; }));
    EXPECT_TRUE(d.logged("nfs exports_applied"));
}

// ---- the binary ------------------------------------------------------------

TEST(NetbootdBinary, CheckConfigNamesPositionsAndExitCodes) {
    Fleet f;
    const auto bin = pib::test::built_binary("netbootd/netbootd");
    std::string out;
    EXPECT_EQ(run({bin.string(), "--check-config", f.config.string()}, &out), 0) << out;
    EXPECT_NE(out.find(": ok"), std::string::npos);
    write_text(f.config, read_text(f.config) + "tftp-port: 69\n");
    EXPECT_EQ(run({bin.string(), "--check-config", f.config.string()}, &out), 2);
    EXPECT_NE(out.find(f.config.string() + ":12:1: tftp-port: unknown key"),
              std::string::npos)
        << out;
    f.write_config("refuse");
    write_text(f.inventory, "nodes:\n  - name: Bad_Name\n    mac: 52:54:00:00:00:01\n");
    EXPECT_EQ(run({bin.string(), "--check-config", f.config.string()}, &out), 2);
    EXPECT_NE(out.find(f.inventory.string() + ":2:11: nodes[0].name:"), std::string::npos) << out;
}

TEST(NetbootdBinary, DropsPrivilegesAndReloadsOnSighup) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root";
    if (!getpwnam("nobody")) GTEST_SKIP() << "no user nobody";
    netbootd::test::NetnsGuard ns("nbd");
    std::string why;
    ASSERT_TRUE(ns.add("srv", why)) << why;
    Fleet f;
    // NFS exports are written by the root helper: the directory is root's alone.
    const fs::path exports = f.dir.path() / "exports" / "netbootd.exports";
    fs::create_directories(exports.parent_path());
    fs::permissions(exports.parent_path(), fs::perms::owner_all);
    f.extra_config = "nfs:\n  enabled: true\n  server: kernel\n  subnet: 10.77.0.0/24\n  exports-file: " +
                     exports.string() + "\n  reload-command: []\n";
    f.write_config("refuse");
    // The store must be readable by the unprivileged user.
    fs::permissions(f.dir.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::permissions(f.store, fs::perms::all);  // state.db is written after the switch
    const auto bin = pib::test::built_binary("netbootd/netbootd");
    const fs::path log = f.dir.path() / "log";
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        execlp("ip", "ip", "netns", "exec", ns.name("srv").c_str(), bin.c_str(), "--config", f.config.c_str(),
               nullptr);
        _exit(127);
    }
    struct Reap {
        pid_t pid;
        ~Reap() {
            if (pid <= 0) return;
            kill(pid, SIGTERM);
            waitpid(pid, nullptr, 0);
        }
    } reap{pid};
    ASSERT_TRUE(eventually([&] { return read_text(log).find("netbootd ready") != std::string::npos; }, 10000ms))
        << read_text(log);
    EXPECT_NE(read_text(log).find("privileges_dropped user=nobody"), std::string::npos);
    const std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
    const uid_t nobody = getpwnam("nobody")->pw_uid;
    EXPECT_TRUE(std::regex_search(status, std::regex("\nUid:\\s+" + std::to_string(nobody) + "\\s+" +
                                                     std::to_string(nobody) + "\\s+" + std::to_string(nobody))))
        << status;
    EXPECT_NE(read_text(exports).find(f.pc_id), std::string::npos) << read_text(log);
    // A release published while it runs is exported by the root helper after SIGHUP.
    auto key = netbootd::test::fixed_key();
    const std::string id = netbootd::test::make_release(f.releases, "late", "pc", {{"root.squashfs", "late"}}, key);
    kill(pid, SIGHUP);
    EXPECT_TRUE(eventually([&] { return read_text(log).find("netbootd reloaded") != std::string::npos; }))
        << read_text(log);
    EXPECT_TRUE(eventually([&] { return read_text(exports).find(id) != std::string::npos; })) << read_text(log);
    kill(pid, SIGTERM);
    int st = 0;
    waitpid(pid, &st, 0);
    reap.pid = -1;
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st << read_text(log);
}

}  // namespace
