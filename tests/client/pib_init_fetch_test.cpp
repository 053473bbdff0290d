// pib-init's fetch and verification end to end: the static binary in its
// --fetch / --verify-release test modes against a local HTTP server with
// scripted faults (503, early close, chunked), and the arm64 build under
// qemu-aarch64-static.
#include <gtest/gtest.h>

#include "client/overlay_doc.hpp"
#include "crypto/sha256.hpp"
#include "lib/release_fixture.hpp"
#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using pib::test::make_release;
using pib::test::random_bytes;
using pib::test::read_text;
using pib::test::TempDir;
using pib::test::test_key;
using pib::test::write_text;

std::string overlay_json(const std::string& node, const std::string& image) {
    return "{\n  \"artifacts\": [\n    {\n      \"path\": \"overlay.squashfs\",\n      \"sha256\": "
           "\"" +
           sha256_hex(image) + "\",\n      \"size\": " + std::to_string(image.size()) +
           "\n    }\n  ],\n  \"format_version\": 1,\n  \"hostname\": \"" + node +
           "\",\n  \"node\": \"" + node + "\",\n  \"ssh_host_keys\": {}\n}\n";
}

class PibInitFetch : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(fs::exists(pib_init())) << pib_init();
        manifest_ = make_release(store_ / "releases/building", test_key());
        kRelease = release_id(manifest_, read_text(store_ / "releases/building/manifest.json"));
        fs::rename(store_ / "releases/building", store_ / ("releases/" + kRelease));
        const std::string image = random_bytes(20000, 9);
        write_text(store_ / "overlays/pc-01/overlay.squashfs", image);
        const std::string doc = overlay_json("pc-01", image);
        write_text(store_ / "overlays/pc-01/overlay.json", doc);
        write_text(store_ / "overlays/pc-01/overlay.json.sig", *test_key().sign(doc));
        write_text(tmp_ / "release.pub", test_key().public_key().to_pem());
        fs::create_directories(tmp_ / "got");
    }

    Ran fetch(const FlakyHttp& http, const std::string& node = "pc-01",
              const std::string& pubkey = "") {
        std::vector<std::string> argv = {pib_init().string(),
                                         "--fetch",
                                         "--server",
                                         http.url(),
                                         "--release",
                                         kRelease,
                                         "--pubkey",
                                         pubkey.empty() ? (tmp_ / "release.pub").string() : pubkey,
                                         "--dir",
                                         (tmp_ / "got").string(),
                                         "--arch",
                                         "arm64",
                                         "--tries",
                                         "4",
                                         "--backoff-ms",
                                         "50",
                                         "--report"};
        if (!node.empty()) {
            argv.push_back("--node");
            argv.push_back(node);
        }
        return run_split(argv, tmp_.path());
    }

    void expect_fetched(const Ran& r) {
        ASSERT_EQ(r.rc, 0) << r.err;
        EXPECT_EQ(read_text(tmp_ / "got/root.squashfs"),
                  read_text(store_ / ("releases/" + kRelease + "/root.squashfs")));
        EXPECT_EQ(read_text(tmp_ / "got/overlay.squashfs"),
                  read_text(store_ / "overlays/pc-01/overlay.squashfs"));
        for (const char* phase : {"\"manifest\"", "\"root_fetch\"", "\"overlay\""})
            EXPECT_NE(r.out.find(phase), std::string::npos) << r.out;
        EXPECT_NE(r.err.find("pib-init: manifest verified: pi4-k3s 2026.11.1 arch=arm64"),
                  std::string::npos)
            << r.err;
    }

    TempDir tmp_;
    TempDir store_;
    Manifest manifest_;
    std::string kRelease;  ///< content-derived, as pibuild names it
};

TEST_F(PibInitFetch, FetchesVerifiesAndReports) {
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http);
    expect_fetched(r);
    EXPECT_NE(r.err.find("pib-init: waiting for " + http.url() + "/releases/" + kRelease +
                         "/manifest.json (attempt 1)"),
              std::string::npos)
        << r.err;
    const std::string reports = read_text(store_ / "reports.log");
    EXPECT_NE(reports.find("/api/v1/nodes/pc-01/report {\"healthy\":true,\"kind\":\"boot\""),
              std::string::npos)
        << reports;
    EXPECT_NE(reports.find("\"release\":\"" + kRelease + "\""), std::string::npos);
}

TEST_F(PibInitFetch, ChunkedBodies) {
    FlakyHttp http(store_.path(), {"--chunked"});
    ASSERT_TRUE(http.ok());
    expect_fetched(fetch(http));
}

TEST_F(PibInitFetch, RetriesAfter503) {
    FlakyHttp http(store_.path(), {"--fail-first", "2"});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http);
    expect_fetched(r);
    EXPECT_NE(r.err.find("root.squashfs: HTTP 503; retrying"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("root.squashfs (attempt 3)"), std::string::npos) << r.err;
}

TEST_F(PibInitFetch, RetriesAfterTruncatedBody) {
    FlakyHttp http(store_.path(), {"--truncate-first"});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http);
    expect_fetched(r);
    EXPECT_NE(r.err.find("root.squashfs: http: connection closed"), std::string::npos) << r.err;
}

TEST_F(PibInitFetch, FlippedByteInRootIsRefusedAndDeleted) {
    const fs::path root = store_ / ("releases/" + kRelease + "/root.squashfs");
    std::string bytes = read_text(root);
    bytes[bytes.size() / 2] ^= 0x01;
    write_text(root, bytes);
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http);
    EXPECT_EQ(r.rc, 1);
    const Artifact want =
        *std::find_if(manifest_.artifacts.begin(), manifest_.artifacts.end(),
                      [](const Artifact& a) { return a.path == "root.squashfs"; });
    EXPECT_NE(
        r.err.find("pib-init: VERIFICATION FAILED: root.squashfs sha256 " + sha256_hex(bytes) +
                   " != manifest " + want.sha256 + "; refusing to boot\n"),
        std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "got/root.squashfs"));  // unverified bytes are not left to mount
    EXPECT_EQ(read_text(store_ / "reports.log"), "");
}

TEST_F(PibInitFetch, WrongKeyIsRefused) {
    std::vector<std::uint8_t> seed(32, 3);
    write_text(tmp_ / "other.pub", SigningKey::from_seed(seed)->public_key().to_pem());
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http, "pc-01", (tmp_ / "other.pub").string());
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(
        r.err.find(
            "pib-init: VERIFICATION FAILED: manifest.json signature does not verify with ed25519:"),
        std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "got/root.squashfs"));
}

TEST_F(PibInitFetch, OverlayOfAnotherNodeIsRefused) {
    fs::copy(store_ / "overlays/pc-01", store_ / "overlays/pc-02");
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r = fetch(http, "pc-02");
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(
        r.err.find(
            "VERIFICATION FAILED: overlay.json is for node pc-01, not pc-02; refusing to boot"),
        std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "got/overlay.squashfs"));
}

TEST_F(PibInitFetch, AnotherSignedReleaseUnderTheAskedIdIsRefused) {
    // A validly signed release served under another release's id (a downgrade).
    const std::string other = "pi4-k3s-2026.10.0-aaaaaaaaaaaa";
    fs::rename(store_ / ("releases/" + kRelease), store_ / ("releases/" + other));
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r = run_split(
        {pib_init().string(), "--fetch", "--server", http.url(), "--release", other, "--pubkey",
         (tmp_ / "release.pub").string(), "--dir", (tmp_ / "got").string(), "--arch", "arm64"},
        tmp_.path());
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("pib-init: VERIFICATION FAILED: manifest.json is release " + kRelease +
                         ", not " + other + "; refusing to boot"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(tmp_ / "got/root.squashfs"));
}

TEST_F(PibInitFetch, MissingReleaseIsNotRetried) {
    FlakyHttp http(store_.path(), {});
    ASSERT_TRUE(http.ok());
    Ran r =
        run_split({pib_init().string(), "--fetch", "--server", http.url(), "--release", "nope-1-0",
                   "--pubkey", (tmp_ / "release.pub").string(), "--dir", (tmp_ / "got").string()},
                  tmp_.path());
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("cannot fetch the release: " + http.url() +
                         "/releases/nope-1-0/manifest.json: HTTP 404"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("attempt 2"), std::string::npos);
}

TEST_F(PibInitFetch, VerifyReleaseDirectory) {
    const fs::path dir = store_ / ("releases/" + kRelease);
    const std::string key = (tmp_ / "release.pub").string();
    Ran ok = run_split(
        {pib_init().string(), "--verify-release", dir.string(), "--pubkey", key, "--arch", "arm64"},
        tmp_.path());
    EXPECT_EQ(ok.rc, 0) << ok.err;
    EXPECT_EQ(ok.out, "verified pi4-k3s 2026.11.1 arch=arm64\n");
    Ran arch = run_split({pib_init().string(), "--verify-release", dir.string(), "--pubkey", key},
                         tmp_.path());
    EXPECT_EQ(arch.rc, 1);
    EXPECT_NE(
        arch.err.find("VERIFICATION FAILED: manifest.json arch arm64 != this machine's amd64"),
        std::string::npos)
        << arch.err;
}

// The arm64 build under qemu-user: parses a command line, verifies a release
// for its own arch (arm64, from uname), and refuses a flipped byte.
TEST_F(PibInitFetch, Arm64BinaryUnderQemu) {
    if (!fs::exists(pib_init_arm64())) {
        // ./run deps installs the cross toolchain; only a machine without it may skip.
        ASSERT_FALSE(fs::exists("/usr/bin/aarch64-linux-gnu-g++"))
            << "cross compiler present but no " << pib_init_arm64();
        GTEST_SKIP() << "no arm64 toolchain, no " << pib_init_arm64();
    }
    ASSERT_TRUE(fs::exists("/usr/bin/qemu-aarch64-static"));
    const std::string qemu = "/usr/bin/qemu-aarch64-static", bin = pib_init_arm64().string();
    Ran cmd = run_split({qemu, bin, "--check-cmdline",
                         "console=ttyAMA0 pib.server=http://10.0.0.1:8080 pib.release=" + kRelease +
                             " pib.node=pi-07"},
                        tmp_.path());
    ASSERT_EQ(cmd.rc, 0) << cmd.err;
    EXPECT_NE(cmd.out.find("release=" + kRelease + "\nnode=pi-07\n"), std::string::npos) << cmd.out;
    EXPECT_NE(cmd.out.find("\narch=arm64\n"), std::string::npos) << cmd.out;

    const fs::path dir = store_ / ("releases/" + kRelease);
    const std::string key = (tmp_ / "release.pub").string();
    Ran ok = run_split({qemu, bin, "--verify-release", dir.string(), "--pubkey", key}, tmp_.path());
    EXPECT_EQ(ok.rc, 0) << ok.err;
    EXPECT_EQ(ok.out, "verified pi4-k3s 2026.11.1 arch=arm64\n");
    std::string bytes = read_text(dir / "root.squashfs");
    bytes[0] ^= 0x40;
    write_text(dir / "root.squashfs", bytes);
    Ran bad =
        run_split({qemu, bin, "--verify-release", dir.string(), "--pubkey", key}, tmp_.path());
    EXPECT_EQ(bad.rc, 1);
    EXPECT_NE(
        bad.err.find("pib-init: VERIFICATION FAILED: root.squashfs sha256 " + sha256_hex(bytes)),
        std::string::npos)
        << bad.err;
}

}  // namespace
}  // namespace pib::client::test
