// A release directory on disk: hashing, signing, and verification that
// catches every kind of tampering with the files, the manifest or the signature.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "crypto/sha256.hpp"
#include "release_fixture.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

using nlohmann::json;
using test::TempDir;

const std::vector<std::string> kArtifacts = {"boot/config.txt", "boot/vmlinuz", "root.squashfs"};

class ReleaseDir : public testing::Test {
  protected:
    void SetUp() override { manifest_ = test::make_release(dir(), key_); }

    const std::filesystem::path& dir() const { return tmp_.path(); }

    // Verifies with the release key; returns the problems (empty when it verifies).
    std::vector<std::string> problems(const PublicKey* key = nullptr) {
        VerifyReport report;
        auto m = verify_release(dir(), key ? *key : key_.public_key(), report);
        EXPECT_EQ(m.ok(), report.ok());
        if (!m.ok()) {
            EXPECT_EQ(m.error().code, Errc::verification);
            EXPECT_FALSE(report.problems.empty());
        }
        return report.problems;
    }

    // Rewrites manifest.json with one field changed, keeping the old signature.
    void tamper_manifest(const std::function<void(json&)>& change) {
        json j = json::parse(test::read_text(dir() / "manifest.json"));
        change(j);
        test::write_text(dir() / "manifest.json", j.dump(2) + "\n");
    }

    TempDir tmp_;
    SigningKey key_ = test::test_key();
    Manifest manifest_;
};

// Passes when one problem equals `text` (or contains it, when `partial`).
testing::AssertionResult has_problem(const std::vector<std::string>& problems,
                                     const std::string& text, bool partial = false) {
    for (const auto& p : problems) {
        if (partial ? p.find(text) != std::string::npos : p == text) {
            return testing::AssertionSuccess();
        }
    }
    auto r = testing::AssertionFailure() << "no problem " << (partial ? "containing" : "equal to")
                                         << " \"" << text << "\"; problems:";
    for (const auto& p : problems) r << "\n  " << p;
    return r;
}

void flip_byte(const std::filesystem::path& p, std::size_t at) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(at));
    f.put(static_cast<char>(c ^ 0x20));
}

TEST_F(ReleaseDir, IntactReleaseVerifies) {
    VerifyReport report;
    auto m = verify_release(dir(), key_.public_key(), report);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_TRUE(report.ok());
    EXPECT_EQ(*m, manifest_);
    EXPECT_EQ(test::read_text(dir() / "manifest.json"), manifest_.to_json());
    EXPECT_EQ(test::read_text(dir() / "manifest.json.sig").size(), 64u);
}

TEST_F(ReleaseDir, HashArtifactsListsFilesSortedWithoutManifest) {
    auto a = hash_artifacts(dir());
    ASSERT_TRUE(a.ok()) << a.error().message;
    ASSERT_EQ(a->size(), kArtifacts.size());
    for (std::size_t i = 0; i < kArtifacts.size(); ++i) EXPECT_EQ((*a)[i].path, kArtifacts[i]);
    EXPECT_EQ((*a)[2].size, 300u * 1024);
    EXPECT_EQ((*a)[0].sha256, sha256_hex("arm_64bit=1\nkernel=vmlinuz\n"));
    // Only top-level manifest files are left out; a nested one is an artifact.
    test::write_text(dir() / "boot/manifest.json", "{}");
    EXPECT_EQ(hash_artifacts(dir())->size(), kArtifacts.size() + 1);
}

TEST_F(ReleaseDir, HashArtifactsRefusesSymlinksAndSpecialFiles) {
    std::filesystem::create_symlink("vmlinuz", dir() / "boot/vmlinuz.link");
    auto a = hash_artifacts(dir());
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message.find("boot/vmlinuz.link: a symlink"), std::string::npos)
        << a.error().message;
    std::filesystem::remove(dir() / "boot/vmlinuz.link");

    ASSERT_EQ(::mkfifo((dir() / "fifo").c_str(), 0644), 0);
    a = hash_artifacts(dir());
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message.find("fifo: a fifo"), std::string::npos) << a.error().message;
}

TEST_F(ReleaseDir, OpensslVerifiesManifestSignature) {
    ASSERT_TRUE(write_key_pair(tmp_.path() / "release-key", key_).ok());
    std::string out;
    EXPECT_EQ(test::run({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                         dir() / "release-key.pub", "-rawin", "-in", dir() / "manifest.json",
                         "-sigfile", dir() / "manifest.json.sig"},
                        &out),
              0)
        << out;
}

TEST_F(ReleaseDir, FlippedByteInEachArtifact) {
    for (const auto& rel : kArtifacts) {
        TempDir other;
        test::make_release(other.path(), key_);
        flip_byte(other / rel, 5);
        VerifyReport report;
        EXPECT_FALSE(verify_release(other.path(), key_.public_key(), report).ok());
        ASSERT_EQ(report.problems.size(), 1u) << rel;
        EXPECT_EQ(report.problems[0].rfind(rel + ": sha256 mismatch (manifest ", 0), 0u)
            << report.problems[0];
    }
}

TEST_F(ReleaseDir, TruncatedArtifact) {
    std::filesystem::resize_file(dir() / "boot/vmlinuz", 1000);
    EXPECT_TRUE(has_problem(problems(),
                            "boot/vmlinuz: size mismatch (manifest 71680 bytes, file 1000 bytes)"));
}

TEST_F(ReleaseDir, MissingArtifact) {
    std::filesystem::remove(dir() / "boot/vmlinuz");
    EXPECT_TRUE(has_problem(problems(), "boot/vmlinuz: missing"));
}

TEST_F(ReleaseDir, UnlistedFile) {
    test::write_text(dir() / "boot/extra", "surprise");
    EXPECT_TRUE(has_problem(problems(), "boot/extra: not listed in the manifest"));
}

TEST_F(ReleaseDir, ArtifactReplacedBySymlink) {
    std::filesystem::rename(dir() / "boot/config.txt", dir() / "elsewhere.txt");
    std::filesystem::create_symlink("../elsewhere.txt", dir() / "boot/config.txt");
    auto p = problems();
    EXPECT_TRUE(has_problem(p, "boot/config.txt: a symlink", true));
    EXPECT_TRUE(has_problem(p, "elsewhere.txt: not listed in the manifest"));
}

TEST_F(ReleaseDir, EveryProblemIsReported) {
    flip_byte(dir() / "root.squashfs", 0);
    std::filesystem::remove(dir() / "boot/config.txt");
    test::write_text(dir() / "notes.txt", "x");
    auto p = problems();
    EXPECT_EQ(p.size(), 3u);
    EXPECT_TRUE(has_problem(p, "root.squashfs: sha256 mismatch", true));
    EXPECT_TRUE(has_problem(p, "boot/config.txt: missing"));
    EXPECT_TRUE(has_problem(p, "notes.txt: not listed in the manifest"));
}

// ---- the manifest changed without re-signing -------------------------------

struct FieldChange {
    const char* field;
    std::function<void(json&)> change;
};

class ManifestTamper : public ReleaseDir, public testing::WithParamInterface<FieldChange> {};

TEST_P(ManifestTamper, CaughtBySignature) {
    tamper_manifest(GetParam().change);
    // The change is real and the manifest is still canonical and valid: only the signature is
    // wrong.
    std::string bytes = test::read_text(dir() / "manifest.json");
    ASSERT_NE(bytes, manifest_.to_json());
    ASSERT_TRUE(Manifest::parse(bytes).ok());
    auto p = problems();
    // Nothing in an unverified manifest is trusted, so only the signature is reported.
    ASSERT_EQ(p.size(), 1u) << GetParam().field;
    EXPECT_EQ(p[0], "manifest.json.sig: signature does not verify with key " +
                        key_.public_key().fingerprint());
}

INSTANTIATE_TEST_SUITE_P(
    EachField, ManifestTamper,
    testing::Values(
        FieldChange{"name", [](json& j) { j["name"] = "pi4-k3s-evil"; }},
        FieldChange{"version", [](json& j) { j["version"] = "2026.11.2"; }},
        FieldChange{"arch", [](json& j) { j["arch"] = "amd64"; }},
        FieldChange{"board", [](json& j) { j["board"] = "rpi5"; }},
        FieldChange{"description", [](json& j) { j["description"] = "hello"; }},
        FieldChange{"tool_version", [](json& j) { j["tool_version"] = "0.1.1"; }},
        FieldChange{"recipe_sha256", [](json& j) { j["recipe_sha256"] = std::string(64, 'b'); }},
        FieldChange{"source_date_epoch", [](json& j) { j["source_date_epoch"] = 1767225601; }},
        FieldChange{"input", [](json& j) { j["inputs"][1]["ref"] = "bookworm http://evil/"; }},
        FieldChange{"artifact hash",
                    [](json& j) { j["artifacts"][2]["sha256"] = std::string(64, 'c'); }},
        FieldChange{"artifact size", [](json& j) { j["artifacts"][1]["size"] = 1; }},
        FieldChange{"boot", [](json& j) { j["boot"]["cmdline"] = "init=/bin/sh"; }},
        FieldChange{"root", [](json& j) { j["root"]["inodes"] = 1; }}),
    [](const testing::TestParamInfo<FieldChange>& info) {
        return "case" + std::to_string(info.index);
    });

TEST_F(ReleaseDir, ManifestReformattedCaught) {
    // Same meaning, other bytes: the signature covers bytes, not meaning.
    std::string compact = json::parse(test::read_text(dir() / "manifest.json")).dump();
    test::write_text(dir() / "manifest.json", compact);
    EXPECT_TRUE(has_problem(problems(), "signature does not verify", true));
}

TEST_F(ReleaseDir, ManifestRewrittenToMatchTamperedFileStillCaught) {
    // The attacker changes a file and updates its digest and size in the manifest.
    test::write_text(dir() / "boot/config.txt", "init=/bin/sh\n");
    auto m = manifest_;
    m.artifacts[0] = Artifact{"boot/config.txt", sha256_hex("init=/bin/sh\n"), 13};
    test::write_text(dir() / "manifest.json", m.to_json());
    EXPECT_TRUE(has_problem(problems(), "signature does not verify", true));
}

// ---- the signature itself ----------------------------------------------------

TEST_F(ReleaseDir, CorruptSignatureByte) {
    for (std::size_t at : {0u, 31u, 32u, 63u}) {
        std::string sig = test::read_text(dir() / "manifest.json.sig");
        sig[at] ^= 0x01;
        test::write_text(dir() / "manifest.json.sig", sig);
        EXPECT_TRUE(has_problem(problems(), "signature does not verify", true)) << at;
        sig[at] ^= 0x01;
        test::write_text(dir() / "manifest.json.sig", sig);
        EXPECT_TRUE(problems().empty()) << at;
    }
}

TEST_F(ReleaseDir, TruncatedSignature) {
    std::filesystem::resize_file(dir() / "manifest.json.sig", 63);
    EXPECT_TRUE(has_problem(problems(), "manifest.json.sig: 63 bytes, expected 64"));
    std::filesystem::resize_file(dir() / "manifest.json.sig", 0);
    EXPECT_TRUE(has_problem(problems(), "manifest.json.sig: 0 bytes, expected 64"));
}

TEST_F(ReleaseDir, OverlongSignature) {
    test::write_text(dir() / "manifest.json.sig",
                     test::read_text(dir() / "manifest.json.sig") + "\n");
    EXPECT_TRUE(has_problem(problems(), "manifest.json.sig: 65 bytes, expected 64"));
}

TEST_F(ReleaseDir, MissingSignature) {
    std::filesystem::remove(dir() / "manifest.json.sig");
    EXPECT_TRUE(has_problem(problems(), "manifest.json.sig: missing"));
}

TEST_F(ReleaseDir, MissingManifest) {
    std::filesystem::remove(dir() / "manifest.json");
    EXPECT_TRUE(has_problem(problems(), "manifest.json: missing"));
}

TEST_F(ReleaseDir, SignatureAsSymlinkRefused) {
    std::filesystem::rename(dir() / "manifest.json.sig", dir() / "boot/sig");
    std::filesystem::create_symlink("boot/sig", dir() / "manifest.json.sig");
    EXPECT_TRUE(has_problem(problems(), "manifest.json.sig: a symlink", true));
}

TEST_F(ReleaseDir, WrongKey) {
    auto other = SigningKey::generate();
    PublicKey wrong = other->public_key();
    EXPECT_TRUE(has_problem(problems(&wrong),
                            "manifest.json.sig: signature does not verify with "
                            "key " +
                                wrong.fingerprint()));
}

TEST_F(ReleaseDir, ResignedWithAnotherKey) {
    auto other = SigningKey::generate();
    ASSERT_TRUE(write_signed_manifest(dir(), manifest_, *other).ok());
    EXPECT_TRUE(has_problem(problems(), "signature does not verify", true));
    PublicKey other_pub = other->public_key();
    EXPECT_TRUE(problems(&other_pub).empty());
}

TEST_F(ReleaseDir, SignedButMalformedManifestReported) {
    // A correctly signed manifest that does not parse (older or broken signer).
    std::string bytes = "{\"format_version\": 2}\n";
    test::write_text(dir() / "manifest.json", bytes);
    test::write_text(dir() / "manifest.json.sig", *key_.sign(bytes));
    EXPECT_TRUE(has_problem(problems(), "manifest.json: format_version: 2", true));
}

TEST_F(ReleaseDir, RefusesToSignInvalidManifest) {
    Manifest m = manifest_;
    m.artifacts[0].path = "../escape";
    auto st = write_signed_manifest(dir(), m, key_);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::invalid);
    EXPECT_NE(st.error().message.find("artifacts[0].path"), std::string::npos);
    // The release on disk is untouched and still verifies.
    EXPECT_TRUE(problems().empty());
}

TEST(ReleaseDirMissing, NoSuchDirectory) {
    VerifyReport report;
    auto m = verify_release("/nonexistent/release", test::test_key().public_key(), report);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, Errc::verification);
    EXPECT_EQ(hash_artifacts("/nonexistent/release").error().code, Errc::not_found);
}

}  // namespace
}  // namespace pib
