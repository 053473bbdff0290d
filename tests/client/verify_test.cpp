// Release and overlay verification for pib-init.
#include "client/verify.hpp"

#include <gtest/gtest.h>

#include "client/overlay_doc.hpp"
#include "crypto/sha256.hpp"
#include "lib/release_fixture.hpp"

namespace pib::client {
namespace {

using pib::test::sample_manifest;
using pib::test::test_key;

SigningKey other_key() {
    std::vector<std::uint8_t> seed(32, 7);
    return *SigningKey::from_seed(seed);
}

TEST(Verify, GoodManifestPasses) {
    const std::string bytes = sample_manifest().to_json();
    auto sig = test_key().sign(bytes);
    auto m = verify_manifest(bytes, *sig, test_key().public_key(), "arm64");
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(*m, sample_manifest());
    auto root = find_artifact(m->artifacts, "root.squashfs");
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(root->size, 187695104u);
}

TEST(Verify, WrongKeyFlippedManifestByteAndWrongArchAreRefused) {
    const std::string bytes = sample_manifest().to_json();
    auto sig = test_key().sign(bytes);
    auto wrong = verify_manifest(bytes, *sig, other_key().public_key(), "arm64");
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.error().code, Errc::verification);
    EXPECT_EQ(wrong.error().message, "manifest.json signature does not verify with " +
                                         other_key().public_key().fingerprint());
    std::string flipped = bytes;
    flipped[flipped.find("pi4-k3s")] = 'P';
    EXPECT_FALSE(verify_manifest(flipped, *sig, test_key().public_key(), "arm64").ok());
    auto arch = verify_manifest(bytes, *sig, test_key().public_key(), "amd64");
    ASSERT_FALSE(arch.ok());
    EXPECT_EQ(arch.error().message, "manifest.json arch arm64 != this machine's amd64");
    EXPECT_FALSE(verify_manifest(bytes, "", test_key().public_key(), "arm64").ok());
}

TEST(Verify, ReleaseIdBindsTheManifestBytes) {
    const Manifest m = sample_manifest();
    const std::string bytes = m.to_json();
    const std::string id = release_id(m, bytes);
    EXPECT_TRUE(check_release_id(m, bytes, id).ok());
    auto other = check_release_id(m, bytes, "pi4-k3s-2026.11.1-000000000000");
    ASSERT_FALSE(other.ok());
    EXPECT_EQ(other.error().code, Errc::verification);
    EXPECT_EQ(other.error().message,
              "manifest.json is release " + id + ", not pi4-k3s-2026.11.1-000000000000");
}

TEST(Verify, ArtifactMismatchMessage) {
    Artifact want{"root.squashfs", std::string(64, 'a'), 100};
    EXPECT_TRUE(check_artifact(want, std::string(64, 'a'), 100).ok());
    auto bad = check_artifact(want, std::string(64, 'b'), 100);
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(refusal_line(bad.error()), "VERIFICATION FAILED: root.squashfs sha256 " +
                                             std::string(64, 'b') + " != manifest " +
                                             std::string(64, 'a') + "; refusing to boot");
    auto size = check_artifact(want, std::string(64, 'a'), 99);
    ASSERT_FALSE(size.ok());
    EXPECT_NE(size.error().message.find("(size 99 != manifest 100)"), std::string::npos);
}

TEST(Verify, DebianArch) {
    EXPECT_EQ(debian_arch("x86_64"), "amd64");
    EXPECT_EQ(debian_arch("aarch64"), "arm64");
    EXPECT_EQ(debian_arch("armv7l"), "armhf");
    EXPECT_EQ(debian_arch("i686"), "i386");
}

const char* kOverlay = R"({
  "artifacts": [
    {
      "path": "overlay.squashfs",
      "sha256": "1111111111111111111111111111111111111111111111111111111111111111",
      "size": 4096
    }
  ],
  "format_version": 1,
  "hostname": "pc-01.lab",
  "node": "pc-01",
  "ssh_host_keys": {
    "ed25519": "SHA256:abc"
  }
}
)";

TEST(Overlay, ParsesAndVerifies) {
    auto d = parse_overlay(kOverlay);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->node, "pc-01");
    EXPECT_EQ(d->hostname, "pc-01.lab");
    ASSERT_EQ(d->artifacts.size(), 1u);
    EXPECT_EQ(d->artifacts[0].size, 4096u);
    EXPECT_EQ(d->ssh_host_keys.at("ed25519"), "SHA256:abc");
    auto sig = test_key().sign(kOverlay);
    EXPECT_TRUE(verify_overlay(kOverlay, *sig, test_key().public_key(), "pc-01").ok());
    auto other_node = verify_overlay(kOverlay, *sig, test_key().public_key(), "pc-02");
    ASSERT_FALSE(other_node.ok());
    EXPECT_EQ(other_node.error().message, "overlay.json is for node pc-01, not pc-02");
    auto wrong_key = verify_overlay(kOverlay, *sig, other_key().public_key(), "pc-01");
    ASSERT_FALSE(wrong_key.ok());
    EXPECT_EQ(wrong_key.error().code, Errc::verification);
}

TEST(Overlay, UnknownKeysToleratedKnownOnesStrict) {
    std::string extra = kOverlay;
    extra.replace(extra.find("\"format_version\""), 0, "\"future\": {\"x\": [1]},\n  ");
    EXPECT_TRUE(parse_overlay(extra).ok());

    auto bad = parse_overlay(
        R"({"format_version": 2, "node": 5, "artifacts": [{"path": "../x", "sha256": "AB", "size": 1}],
                                 "ssh_host_keys": []})");
    ASSERT_FALSE(bad.ok());
    for (const char* part :
         {"format_version: 2 is not supported", "node: expected a string", "hostname: missing",
          "artifacts[0].path: must be a plain file name", "artifacts[0].sha256",
          "overlay.squashfs is not listed", "ssh_host_keys: expected an object"})
        EXPECT_NE(bad.error().message.find(part), std::string::npos)
            << part << " in " << bad.error().message;

    auto dup = parse_overlay(R"({"node": "a", "node": "b"})");
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().message.find("duplicate key \"node\""), std::string::npos);
    EXPECT_FALSE(parse_overlay("[1]").ok());
    EXPECT_FALSE(parse_overlay("{").ok());
}

}  // namespace
}  // namespace pib::client
