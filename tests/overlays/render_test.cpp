// `pibuild nodes render` as an operator runs it: a three-node inventory read
// back through unsquashfs and openssl, re-renders that change nothing, one
// node's change touching only its overlay, the secrets directory, bad
// inventories, and renders killed with SIGKILL.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/fs.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/sha256.hpp"
#include "overlays/overlay_files.hpp"
#include "overlays/overlay_fixture.hpp"
#include "overlays/secrets.hpp"
#include "overlays/verify.hpp"

namespace pib::overlays {
namespace {

using namespace pib::overlays::test;
using nlohmann::json;

class RenderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(pib::test::is_root()) << "rendering overlays sets file owners and needs root";
        ASSERT_EQ(pib::test::run({pibuild(), "keygen", "-o", (tmp_ / "k").string()}), 0);
        fs::create_directories(tmp_ / "store");
        pib::test::write_text(tmp_ / "files/secret.conf", "token = s3cr3t\n");
        write_inventory(three_nodes());
    }
    void write_inventory(const std::string& text) {
        pib::test::write_text(tmp_ / "nodes.yaml", text);
    }
    std::vector<std::string> render_args() {
        return {pibuild(),
                "nodes",
                "render",
                "--inventory",
                (tmp_ / "nodes.yaml").string(),
                "--store",
                (tmp_ / "store").string(),
                "--key",
                (tmp_ / "k.key").string(),
                "--secrets",
                (tmp_ / "secrets").string()};
    }
    /// Renders (must succeed) and returns node -> its summary.
    std::map<std::string, json> render(std::vector<std::string> extra = {}) {
        auto args = render_args();
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back("--json");
        std::string out;
        EXPECT_EQ(pib::test::run(args, &out), 0) << out;
        std::map<std::string, json> m;
        auto start = out.find('{');
        if (start == std::string::npos) return m;
        const json doc = json::parse(out.substr(start));  // kept: the loop reads inside it
        for (const auto& n : doc["nodes"]) m[n["node"]] = n;
        return m;
    }
    fs::path overlay(const std::string& node) { return tmp_ / "store/overlays" / node; }
    std::string bytes(const std::string& node, const std::string& file) {
        return pib::test::read_text(overlay(node) / file);
    }
    PublicKey pub() { return *PublicKey::load(tmp_ / "k.pub"); }
    TempDir tmp_;
};

TEST_F(RenderTest, ThreeNodesReadBackThroughUnsquashfs) {
    auto r = render();
    ASSERT_EQ(r.size(), 3u);
    for (const auto& [node, j] : r) EXPECT_EQ(j["result"], "created") << node;

    // pi-01: every file's bytes.
    unpack(overlay("pi-01") / "overlay.squashfs", tmp_ / "u1");
    const fs::path u = tmp_ / "u1";
    EXPECT_EQ(pib::test::read_text(u / "etc/hostname"), "pi-01.lab.example.net\n");
    EXPECT_EQ(pib::test::read_text(u / "etc/hosts"),
              "127.0.0.1\tlocalhost\n127.0.1.1\tpi-01.lab.example.net\tpi-01\n\n"
              "# The following lines are desirable for IPv6 capable hosts\n"
              "::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 "
              "ip6-allrouters\n");
    const std::string fstab = pib::test::read_text(u / "etc/fstab");
    EXPECT_NE(fstab.find("nas:/srv/data\t/data\tnfs4\tro,noatime\t0\t0\n"), std::string::npos)
        << fstab;
    EXPECT_NE(fstab.find("LABEL=scratch\t/scratch\text4\tdefaults\t0\t2\n"), std::string::npos)
        << fstab;
    EXPECT_EQ(pib::test::read_text(u / "root/.ssh/authorized_keys"),
              kAdminKey + "\n" + kOpsKey + "\n");
    EXPECT_EQ(pib::test::read_text(u / "etc/motd"), "welcome to pi-01\n");
    EXPECT_EQ(pib::test::read_text(u / "opt/app/run.sh"), "#!/bin/sh\nexec true\n");
    EXPECT_EQ(pib::test::read_text(u / "etc/app/secret.conf"), "token = s3cr3t\n");
    EXPECT_TRUE(valid_machine_id(pib::test::read_text(u / "etc/machine-id")));
    const fs::path sec = tmp_ / "secrets/pi-01";
    for (const char* f : {"ssh_host_ed25519_key", "ssh_host_rsa_key", "machine-id"}) {
        std::string in_image =
            std::string(f) == "machine-id" ? "etc/machine-id" : std::string("etc/ssh/") + f;
        EXPECT_EQ(pib::test::read_text(u / in_image), pib::test::read_text(sec / f)) << f;
    }
    // Public halves as "type base64\n", the comment (empty here) left out.
    for (const char* f : {"ssh_host_ed25519_key.pub", "ssh_host_rsa_key.pub"}) {
        std::string have = pib::test::read_text(sec / f);
        while (have.ends_with("\n") || have.ends_with(" ")) have.pop_back();
        EXPECT_EQ(pib::test::read_text(u / "etc/ssh" / f), have + "\n") << f;
    }

    // Modes and numeric owners, and nothing else in the image.
    std::map<std::string, Listed> want = {
        {"/", {"drwxr-xr-x", "0/0"}},
        {"/etc", {"drwxr-xr-x", "0/0"}},
        {"/etc/app", {"drwxr-xr-x", "0/0"}},
        {"/etc/app/secret.conf", {"-rw-------", "0/0"}},
        {"/etc/fstab", {"-rw-r--r--", "0/0"}},
        {"/etc/hostname", {"-rw-r--r--", "0/0"}},
        {"/etc/hosts", {"-rw-r--r--", "0/0"}},
        {"/etc/machine-id", {"-r--r--r--", "0/0"}},
        {"/etc/motd", {"-rw-r--r--", "0/0"}},
        {"/etc/ssh", {"drwxr-xr-x", "0/0"}},
        {"/etc/ssh/ssh_host_ed25519_key", {"-rw-------", "0/0"}},
        {"/etc/ssh/ssh_host_ed25519_key.pub", {"-rw-r--r--", "0/0"}},
        {"/etc/ssh/ssh_host_rsa_key", {"-rw-------", "0/0"}},
        {"/etc/ssh/ssh_host_rsa_key.pub", {"-rw-r--r--", "0/0"}},
        {"/opt", {"drwxr-xr-x", "0/0"}},
        {"/opt/app", {"drwxr-xr-x", "0/0"}},
        {"/opt/app/run.sh", {"-rwxr-x---", "1000/100"}},
        {"/root", {"drwx------", "0/0"}},
        {"/root/.ssh", {"drwx------", "0/0"}},
        {"/root/.ssh/authorized_keys", {"-rw-------", "0/0"}},
    };
    auto listed = list_image(overlay("pi-01") / "overlay.squashfs");
    ASSERT_EQ(listed.size(), want.size());
    for (const auto& [path, l] : want) {
        ASSERT_TRUE(listed.count(path)) << path;
        EXPECT_EQ(listed[path].perms, l.perms) << path;
        EXPECT_EQ(listed[path].owner, l.owner) << path;
    }
    // Every entry has the fixed epoch as its mtime.
    std::string out;
    ASSERT_EQ(pib::test::run(
                  {"unsquashfs", "-lln", (overlay("pi-01") / "overlay.squashfs").string()}, &out),
              0);
    std::istringstream entries(out);
    for (std::string l; std::getline(entries, l);) {
        if (l.find("squashfs-root") != std::string::npos) {
            EXPECT_NE(l.find(" 1970-01-01 00:00 "), std::string::npos) << l;
        }
    }

    // pi-02: defaults (the admin key), short host name, an fstab that mounts nothing.
    unpack(overlay("pi-02") / "overlay.squashfs", tmp_ / "u2");
    EXPECT_EQ(pib::test::read_text(tmp_ / "u2/etc/hostname"), "pi-02\n");
    EXPECT_NE(pib::test::read_text(tmp_ / "u2/etc/hosts").find("127.0.1.1\tpi-02\n"),
              std::string::npos);
    const std::string fstab2 = pib::test::read_text(tmp_ / "u2/etc/fstab");
    std::istringstream lines(fstab2);
    for (std::string l; std::getline(lines, l);) EXPECT_TRUE(l.starts_with("#")) << l;
    EXPECT_EQ(pib::test::read_text(tmp_ / "u2/root/.ssh/authorized_keys"), kAdminKey + "\n");

    // x86-03: no keys, so no /root at all (the release's /root shows through).
    auto l3 = list_image(overlay("x86-03") / "overlay.squashfs");
    EXPECT_FALSE(l3.count("/root"));
    EXPECT_FALSE(l3.count("/opt"));

    // machine-ids differ between nodes.
    unpack(overlay("x86-03") / "overlay.squashfs", tmp_ / "u3");
    EXPECT_NE(pib::test::read_text(tmp_ / "u2/etc/machine-id"),
              pib::test::read_text(u / "etc/machine-id"));
    EXPECT_NE(pib::test::read_text(tmp_ / "u3/etc/machine-id"),
              pib::test::read_text(u / "etc/machine-id"));
}

TEST_F(RenderTest, SignatureVerifiesWithOpensslAndManifestIsCanonical) {
    render();
    for (const char* node : {"pi-01", "pi-02", "x86-03"}) {
        std::string out;
        EXPECT_EQ(pib::test::run({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                                  (tmp_ / "k.pub").string(), "-rawin", "-in",
                                  (overlay(node) / "overlay.json").string(), "-sigfile",
                                  (overlay(node) / "overlay.json.sig").string()},
                                 &out),
                  0)
            << out;
        const std::string doc = bytes(node, "overlay.json");
        auto j = json::parse(doc);
        EXPECT_EQ(j.dump(2) + "\n", doc);  // sorted keys, two spaces, trailing newline
        EXPECT_EQ(j["format_version"], 1);
        EXPECT_EQ(j["node"], node);
        ASSERT_EQ(j["artifacts"].size(), 1u);
        EXPECT_EQ(j["artifacts"][0]["path"], "overlay.squashfs");
        auto d = sha256_file(overlay(node) / "overlay.squashfs");
        EXPECT_EQ(j["artifacts"][0]["sha256"], d->sha256);
        EXPECT_EQ(j["artifacts"][0]["size"], d->size);
        EXPECT_EQ(bytes(node, "overlay.json.sig").size(), 64u);
        EXPECT_TRUE(verify_overlay(overlay(node), pub(), node).ok());
    }
    std::string out;
    EXPECT_EQ(pib::test::run({pibuild(), "nodes", "verify", "--store", (tmp_ / "store").string(),
                              "--pubkey", (tmp_ / "k.pub").string()},
                             &out),
              0)
        << out;
}

TEST_F(RenderTest, HostKeyFingerprintsMatchSshKeygen) {
    auto r = render();
    for (const char* node : {"pi-01", "pi-02", "x86-03"}) {
        auto j = json::parse(bytes(node, "overlay.json"));
        for (const char* type : {"ed25519", "rsa"}) {
            std::string out;
            const fs::path pubfile =
                tmp_ / "secrets" / node / (std::string("ssh_host_") + type + "_key.pub");
            ASSERT_EQ(pib::test::run({"ssh-keygen", "-l", "-f", pubfile.string()}, &out), 0) << out;
            // "256 SHA256:... no comment (ED25519)"
            std::istringstream f(out);
            std::string bits, fp;
            f >> bits >> fp;
            EXPECT_EQ(j["ssh_host_keys"][type], fp) << node << " " << type;
            EXPECT_EQ(r[node]["ssh_host_keys"][type], fp);
        }
        EXPECT_NE(j["ssh_host_keys"]["ed25519"],
                  json::parse(bytes(node == std::string("pi-01") ? "pi-02" : "pi-01",
                                    "overlay.json"))["ssh_host_keys"]["ed25519"]);
    }
    // The rsa key has 3072 bits.
    std::string out;
    ASSERT_EQ(pib::test::run({"ssh-keygen", "-l", "-f",
                              (tmp_ / "secrets/pi-01/ssh_host_rsa_key.pub").string()},
                             &out),
              0);
    EXPECT_TRUE(out.starts_with("3072 ")) << out;
}

TEST_F(RenderTest, RerenderIsUnchangedByteForByte) {
    render();
    std::map<std::string, std::string> before;
    struct stat st {};
    ASSERT_EQ(::stat(overlay("pi-01").c_str(), &st), 0);
    const ino_t ino = st.st_ino;
    for (const char* node : {"pi-01", "pi-02", "x86-03"})
        for (const char* f : {"overlay.squashfs", "overlay.json", "overlay.json.sig"})
            before[std::string(node) + "/" + f] = bytes(node, f);
    auto r = render();
    for (const auto& [node, j] : r) {
        EXPECT_EQ(j["result"], "unchanged") << node;
        EXPECT_EQ(j["secrets_created"], false);
    }
    for (const auto& [k, v] : before)
        EXPECT_EQ(pib::test::read_text(tmp_ / "store/overlays" / k), v) << k;
    // Nothing was written: the directory is the same one.
    ASSERT_EQ(::stat(overlay("pi-01").c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, ino);

    // A fresh store with the same secrets renders the same bytes too.
    fs::create_directories(tmp_ / "store2");
    auto args = render_args();
    args[6] = (tmp_ / "store2").string();
    ASSERT_EQ(pib::test::run(args), 0);
    for (const auto& [k, v] : before)
        EXPECT_EQ(pib::test::read_text(tmp_ / "store2/overlays" / k), v) << k;
}

TEST_F(RenderTest, ChangingOneHostnameChangesOnlyThatOverlayAndKeepsItsKeys) {
    auto first = render();
    const std::string pi02 = bytes("pi-02", "overlay.json"), x86 = bytes("x86-03", "overlay.json");
    const std::string old_image = bytes("pi-01", "overlay.squashfs");
    write_inventory(three_nodes("pi-01.site2.example.net"));
    auto r = render();
    EXPECT_EQ(r["pi-01"]["result"], "updated");
    EXPECT_EQ(r["pi-02"]["result"], "unchanged");
    EXPECT_EQ(r["x86-03"]["result"], "unchanged");
    EXPECT_EQ(bytes("pi-02", "overlay.json"), pi02);
    EXPECT_EQ(bytes("x86-03", "overlay.json"), x86);
    EXPECT_NE(bytes("pi-01", "overlay.squashfs"), old_image);
    EXPECT_EQ(r["pi-01"]["ssh_host_keys"], first["pi-01"]["ssh_host_keys"]);
    EXPECT_EQ(r["pi-01"]["hostname"], "pi-01.site2.example.net");
    auto m = verify_overlay(overlay("pi-01"), pub(), "pi-01");
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->hostname, "pi-01.site2.example.net");
    unpack(overlay("pi-01") / "overlay.squashfs", tmp_ / "u");
    EXPECT_EQ(pib::test::read_text(tmp_ / "u/etc/hostname"), "pi-01.site2.example.net\n");
    EXPECT_EQ(pib::test::read_text(tmp_ / "u/etc/machine-id"),
              pib::test::read_text(tmp_ / "secrets/pi-01/machine-id"));
    EXPECT_TRUE(temporaries(tmp_ / "store").empty());
}

TEST_F(RenderTest, SecretsDirectoryModesAndReuse) {
    render();
    EXPECT_EQ(mode_of(tmp_ / "secrets"), 0700u);
    for (const char* node : {"pi-01", "pi-02", "x86-03"}) {
        const fs::path d = tmp_ / "secrets" / node;
        EXPECT_EQ(mode_of(d), 0700u) << node;
        EXPECT_EQ(mode_of(d / "ssh_host_ed25519_key"), 0600u);
        EXPECT_EQ(mode_of(d / "ssh_host_rsa_key"), 0600u);
        EXPECT_EQ(mode_of(d / "ssh_host_ed25519_key.pub"), 0644u);
        EXPECT_EQ(mode_of(d / "ssh_host_rsa_key.pub"), 0644u);
        EXPECT_EQ(mode_of(d / "machine-id"), 0600u);
    }
    // A node removed from the inventory loses its overlay, never its secrets;
    // back in the inventory it has its old identity.
    const std::string key = pib::test::read_text(tmp_ / "secrets/pi-02/ssh_host_ed25519_key");
    const std::string json_before = bytes("pi-02", "overlay.json");
    std::string inv = three_nodes();
    auto at = inv.find("  - name: pi-02\n");
    write_inventory(inv.substr(0, at) + inv.substr(inv.find("  - name: x86-03")));
    auto r = render();
    EXPECT_EQ(r["pi-02"]["result"], "removed");
    EXPECT_FALSE(fs::exists(overlay("pi-02")));
    EXPECT_EQ(pib::test::read_text(tmp_ / "secrets/pi-02/ssh_host_ed25519_key"), key);
    write_inventory(inv);
    r = render();
    EXPECT_EQ(r["pi-02"]["result"], "created");
    EXPECT_EQ(bytes("pi-02", "overlay.json"), json_before);

    // A lost public half comes back from the private key.
    fs::remove(tmp_ / "secrets/x86-03/ssh_host_rsa_key.pub");
    const std::string x86 = bytes("x86-03", "overlay.json");
    r = render();
    EXPECT_EQ(r["x86-03"]["result"], "unchanged");
    EXPECT_EQ(bytes("x86-03", "overlay.json"), x86);
}

TEST_F(RenderTest, OverlayFilesTakeTheGroupOfTheOverlaysDirectory) {
    // netbootd reads overlays through their group; nobody else may (host keys).
    fs::create_directories(tmp_ / "store/overlays");
    ASSERT_EQ(::chown((tmp_ / "store/overlays").c_str(), static_cast<uid_t>(-1), 4242), 0);
    render({"--node", "pi-02"});
    struct stat st {};
    for (const char* f : {"", "overlay.squashfs", "overlay.json", "overlay.json.sig"}) {
        const fs::path p = overlay("pi-02") / f;
        ASSERT_EQ(::stat(p.c_str(), &st), 0) << p;
        EXPECT_EQ(st.st_gid, 4242u) << p;
        EXPECT_EQ(st.st_uid, 0u) << p;
        EXPECT_EQ(st.st_mode & 07777, std::string(f).empty() ? 0750u : 0640u) << p;
    }
}

TEST_F(RenderTest, OnlyOneNode) {
    auto r = render({"--node", "pi-02"});
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r["pi-02"]["result"], "created");
    EXPECT_FALSE(fs::exists(overlay("pi-01")));
    std::string out;
    auto args = render_args();
    args.insert(args.end(), {"--node", "nope"});
    EXPECT_EQ(pib::test::run(args, &out), 2) << out;
    EXPECT_NE(out.find("no node named 'nope'"), std::string::npos) << out;
}

TEST_F(RenderTest, BadInventoryExits2WithPositionsAndWritesNothing) {
    write_inventory("nodes:\n  - name: pi-01\n    serail: 1a2b3c4d\n");
    std::string out;
    EXPECT_EQ(pib::test::run(render_args(), &out), 2) << out;
    const std::string file = (tmp_ / "nodes.yaml").string();
    EXPECT_NE(out.find(file + ":3:5: nodes[0].serail: unknown key"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(tmp_ / "store/overlays"));
    EXPECT_FALSE(fs::exists(tmp_ / "secrets"));

    // An owner name the overlay cannot turn into a number, and a path under
    // a merged-/usr symlink: refused at the node's position, nothing written.
    write_inventory(
        "nodes:\n  - name: pi-01\n    serial: 1a2b3c4d\n"
        "  - name: pi-02\n    serial: 1a2b3c4e\n    files:\n"
        "      - {path: /etc/app.conf, content: x, owner: app}\n"
        "      - {path: /bin/tool, content: x}\n");
    EXPECT_EQ(pib::test::run(render_args(), &out), 2) << out;
    EXPECT_NE(out.find(file + ":4:5: node 'pi-02': file /etc/app.conf: owner 'app' is a name"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find(file + ":4:5: node 'pi-02': file /bin/tool: is below /bin"),
              std::string::npos)
        << out;
    EXPECT_FALSE(fs::exists(tmp_ / "store/overlays/pi-01"));

    // Secrets inside the store (which netbootd serves) are refused.
    write_inventory(three_nodes());
    auto args = render_args();
    args.back() = (tmp_ / "store/secrets").string();
    EXPECT_EQ(pib::test::run(args, &out), 2) << out;
    EXPECT_NE(out.find("inside the store"), std::string::npos) << out;
}

TEST_F(RenderTest, VerifyFindsTampering) {
    render();
    std::string out;
    auto verify = [&](const std::string& node) {
        return pib::test::run({pibuild(), "nodes", "verify", "--store", (tmp_ / "store").string(),
                               "--pubkey", (tmp_ / "k.pub").string(), "--node", node},
                              &out);
    };
    // Another node's valid overlay in this node's place.
    fs::rename(overlay("pi-02"), tmp_ / "pi-02.save");
    fs::copy(overlay("x86-03"), overlay("pi-02"));
    EXPECT_EQ(verify("pi-02"), 1);
    EXPECT_NE(out.find("node is 'x86-03', expected 'pi-02'"), std::string::npos) << out;
    // A changed image.
    std::string img = bytes("pi-01", "overlay.squashfs");
    img[img.size() / 2] ^= 1;
    pib::test::write_text(overlay("pi-01") / "overlay.squashfs", img);
    EXPECT_EQ(verify("pi-01"), 1);
    EXPECT_NE(out.find("sha256 does not match"), std::string::npos) << out;
    // An extra file, and a changed manifest.
    pib::test::write_text(overlay("x86-03") / "extra", "x");
    EXPECT_EQ(verify("x86-03"), 1);
    EXPECT_NE(out.find("extra: not listed"), std::string::npos) << out;
    std::string doc = bytes("x86-03", "overlay.json");
    doc.replace(doc.find("x86-03"), 6, "x86-04");
    pib::test::write_text(overlay("x86-03") / "overlay.json", doc);
    EXPECT_EQ(verify("x86-03"), 1);
    EXPECT_NE(out.find("signature does not verify"), std::string::npos) << out;
    // The next render repairs all of it.
    fs::remove_all(overlay("pi-02"));
    auto r = render();
    EXPECT_EQ(r["pi-01"]["result"], "updated");
    EXPECT_EQ(r["x86-03"]["result"], "updated");
    EXPECT_EQ(r["pi-02"]["result"], "created");
    EXPECT_EQ(verify("pi-01"), 0) << out;
    EXPECT_EQ(verify("x86-03"), 0) << out;
}

// SIGKILL at many points of renders that replace every overlay (a 48 MiB extra
// file makes each render take a while): every overlay directory is always the
// old or the new one, complete and verifying, and the next render leaves no
// temporary directory behind.
TEST_F(RenderTest, KillNineLeavesOldOrNewNeverHalf) {
    {
        std::string big(48u << 20, '\0');
        std::mt19937_64 rng(7);
        for (std::size_t i = 0; i + 8 <= big.size(); i += 8) {
            std::uint64_t v = rng();
            std::memcpy(big.data() + i, &v, 8);
        }
        pib::test::write_text(tmp_ / "files/big.bin", big);
    }
    auto inventory = [&](int gen) {
        std::string text = "nodes:\n";
        for (int i = 1; i <= 4; ++i) {
            text += "  - name: n" + std::to_string(i) + "\n    serial: 1a2b3c4" +
                    std::to_string(i) + "\n    hostname: n" + std::to_string(i) + "-gen" +
                    std::to_string(gen) +
                    "\n    files:\n      - {path: /srv/big.bin, source: files/big.bin}\n";
        }
        return text;
    };
    write_inventory(inventory(0));
    render();
    const PublicKey key = pub();
    int gen = 0;
    std::mt19937 rng(42);
    for (int round = 0; round < 12; ++round) {
        std::map<std::string, std::string> before;
        for (int i = 1; i <= 4; ++i) {
            const std::string n = "n" + std::to_string(i);
            before[n] = verify_overlay(overlay(n), key, n)->hostname;
        }
        ++gen;
        write_inventory(inventory(gen));
        auto args = render_args();
        pid_t pid = ::fork();
        if (pid == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 2500)(rng)));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        for (int i = 1; i <= 4; ++i) {
            const std::string n = "n" + std::to_string(i);
            VerifyReport report;
            auto m = verify_overlay(overlay(n), key, n, report);
            ASSERT_TRUE(m.ok()) << "round " << round << " " << n << ": "
                                << (report.problems.empty() ? "" : report.problems.front());
            const std::string want_new = n + "-gen" + std::to_string(gen);
            EXPECT_TRUE(m->hostname == before[n] || m->hostname == want_new)
                << "round " << round << " " << n << ": " << m->hostname;
        }
    }
    auto r = render();
    for (const auto& [node, j] : r) EXPECT_NE(j["result"], "removed") << node;
    EXPECT_EQ(temporaries(tmp_ / "store"), std::vector<std::string>{});
    EXPECT_EQ(temporaries(tmp_ / "secrets"), std::vector<std::string>{});
    for (int i = 1; i <= 4; ++i) {
        const std::string n = "n" + std::to_string(i);
        auto m = verify_overlay(overlay(n), key, n);
        ASSERT_TRUE(m.ok()) << m.error().message;
        EXPECT_EQ(m->hostname, n + "-gen" + std::to_string(gen));
    }
}

}  // namespace
}  // namespace pib::overlays
