// Ed25519 keys and signatures: RFC 8032 vectors, key files, and the openssl
// command-line tool as an independent peer in both directions.
#include "crypto/ed25519.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/hex.hpp"
#include "crypto/sha256.hpp"
#include "release_fixture.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

using test::TempDir;

unsigned file_mode(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

std::string bytes(const std::string& hex) {
    auto v = from_hex(hex);
    EXPECT_TRUE(v.has_value()) << hex;
    return std::string(v->begin(), v->end());
}

// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte).
TEST(Ed25519, Rfc8032Vectors) {
    SigningKey key = test::test_key();
    EXPECT_EQ(to_hex(key.public_key().raw()),
              "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    auto sig = key.sign("");
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(to_hex(std::span(reinterpret_cast<const std::uint8_t*>(sig->data()), sig->size())),
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
              "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");

    auto seed2 = from_hex("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb");
    auto key2 = SigningKey::from_seed(*seed2);
    ASSERT_TRUE(key2.ok());
    auto pub2 = PublicKey::from_raw(
        *from_hex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c"));
    ASSERT_TRUE(pub2.ok());
    std::string sig2 = bytes(
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0"
        "f1"
        "1d8c387b2eaeb4302aeeb00d291612bb0c00");
    EXPECT_TRUE(pub2->verify(bytes("72"), sig2));
    EXPECT_EQ(*key2->sign(bytes("72")), sig2);
}

TEST(Ed25519, SignAndVerify) {
    auto key = SigningKey::generate();
    ASSERT_TRUE(key.ok());
    auto sig = key->sign("release manifest bytes");
    ASSERT_TRUE(sig.ok());
    EXPECT_EQ(sig->size(), 64u);
    PublicKey pub = key->public_key();
    EXPECT_TRUE(pub.verify("release manifest bytes", *sig));
    EXPECT_FALSE(pub.verify("release manifest bytes ", *sig));
    std::string bad = *sig;
    bad[10] ^= 0x01;
    EXPECT_FALSE(pub.verify("release manifest bytes", bad));
    EXPECT_FALSE(pub.verify("release manifest bytes", sig->substr(0, 63)));
    EXPECT_FALSE(pub.verify("release manifest bytes", *sig + "x"));

    auto other = SigningKey::generate();
    EXPECT_FALSE(other->public_key().verify("release manifest bytes", *sig));
    EXPECT_NE(other->public_key().fingerprint(), pub.fingerprint());
}

TEST(Ed25519, DefaultConstructedKeysDoNothing) {
    SigningKey none;
    EXPECT_FALSE(none.sign("x").ok());
    EXPECT_EQ(none.sign("x").error().code, Errc::invalid);
    PublicKey zero;
    // An all-zero key is a small-order point; it must not accept anything.
    EXPECT_FALSE(zero.verify("", std::string(64, '\0')));
}

TEST(Ed25519, Fingerprint) {
    PublicKey pub = test::test_key().public_key();
    auto raw = pub.raw();
    std::string expected =
        "ed25519:" + sha256_hex(std::string(raw.begin(), raw.end())).substr(0, 16);
    EXPECT_EQ(pub.fingerprint(), expected);
    EXPECT_EQ(pub.fingerprint().size(), 8u + 16u);
}

TEST(Ed25519, PemRoundTrip) {
    SigningKey key = test::test_key();
    std::string pem = key.to_pem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);
    auto back = SigningKey::from_pem(pem);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->public_key().raw(), key.public_key().raw());

    std::string pub_pem = key.public_key().to_pem();
    EXPECT_NE(pub_pem.find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
    auto pub = PublicKey::from_pem(pub_pem);
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(pub->raw(), key.public_key().raw());
}

TEST(Ed25519, RejectsGarbageAndWrongSizes) {
    EXPECT_EQ(SigningKey::from_pem("hello").error().code, Errc::corrupted);
    EXPECT_EQ(PublicKey::from_pem("hello").error().code, Errc::corrupted);
    // A private key is not a public key file.
    EXPECT_FALSE(PublicKey::from_pem(test::test_key().to_pem()).ok());
    std::array<std::uint8_t, 31> short_key{};
    EXPECT_EQ(PublicKey::from_raw(short_key).error().code, Errc::invalid);
    EXPECT_EQ(SigningKey::from_seed(short_key).error().code, Errc::invalid);
    EXPECT_EQ(SigningKey::load("/nonexistent/key").error().code, Errc::not_found);
}

TEST(Ed25519, RefusesOtherKeyTypes) {
    TempDir tmp;
    for (const char* alg : {"ED448", "X25519", "EC"}) {
        auto path = tmp / (std::string(alg) + ".pem");
        std::vector<std::string> argv = {"openssl", "genpkey", "-algorithm", alg, "-out", path};
        if (std::string(alg) == "EC") {
            argv.insert(argv.end(), {"-pkeyopt", "ec_paramgen_curve:P-256"});
        }
        std::string out;
        ASSERT_EQ(test::run(argv, &out), 0) << out;
        auto key = SigningKey::load(path);
        ASSERT_FALSE(key.ok()) << alg;
        EXPECT_EQ(key.error().code, Errc::unsupported);
        EXPECT_NE(key.error().message.find("not an Ed25519 key"), std::string::npos)
            << key.error().message;
        EXPECT_NE(key.error().message.find(path.string()), std::string::npos);
    }
}

TEST(Ed25519, RefusesEncryptedKeyWithoutPrompting) {
    TempDir tmp;
    std::string out;
    ASSERT_EQ(test::run({"openssl", "genpkey", "-algorithm", "ED25519", "-aes-256-cbc", "-pass",
                         "pass:secret", "-out", tmp / "enc.pem"},
                        &out),
              0)
        << out;
    auto key = SigningKey::load(tmp / "enc.pem");
    ASSERT_FALSE(key.ok());
    EXPECT_EQ(key.error().code, Errc::unsupported);
    EXPECT_NE(key.error().message.find("encrypted"), std::string::npos);
}

TEST(Ed25519, WriteKeyPairModesAndReload) {
    TempDir tmp;
    auto key = SigningKey::generate();
    ASSERT_TRUE(key.ok());
    ::umask(0);  // the modes must not depend on the caller's umask
    auto st = write_key_pair(tmp / "release", *key);
    ::umask(022);
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(file_mode(tmp / "release.key"), 0600u);
    EXPECT_EQ(file_mode(tmp / "release.pub"), 0644u);

    auto loaded = SigningKey::load(tmp / "release.key");
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    EXPECT_EQ(loaded->public_key().raw(), key->public_key().raw());
    auto pub = PublicKey::load(tmp / "release.pub");
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(pub->raw(), key->public_key().raw());

    // Only the two key files are left: no temporary directory behind.
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path())) ++n;
    EXPECT_EQ(n, 2u);
}

TEST(Ed25519, WriteKeyPairRefusesToOverwrite) {
    TempDir tmp;
    auto first = SigningKey::generate();
    ASSERT_TRUE(write_key_pair(tmp / "k", *first).ok());
    std::string key_before = test::read_text(tmp / "k.key");
    std::string pub_before = test::read_text(tmp / "k.pub");

    auto second = SigningKey::generate();
    auto st = write_key_pair(tmp / "k", *second);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::exists);
    EXPECT_NE(st.error().message.find("k.key"), std::string::npos);
    EXPECT_EQ(test::read_text(tmp / "k.key"), key_before);
    EXPECT_EQ(test::read_text(tmp / "k.pub"), pub_before);

    // A dangling symlink at NAME.key counts as existing too.
    std::filesystem::create_symlink(tmp / "elsewhere", tmp / "s.key");
    EXPECT_EQ(write_key_pair(tmp / "s", *second).error().code, Errc::exists);
    EXPECT_FALSE(std::filesystem::exists(tmp / "elsewhere"));
}

// ---- openssl(1) as the peer ----------------------------------------------

TEST(Ed25519Peer, OpensslParsesOurKeys) {
    TempDir tmp;
    ASSERT_TRUE(write_key_pair(tmp / "k", test::test_key()).ok());
    std::string out;
    EXPECT_EQ(test::run({"openssl", "pkey", "-in", tmp / "k.key", "-noout"}, &out), 0) << out;
    EXPECT_EQ(test::run({"openssl", "pkey", "-pubin", "-in", tmp / "k.pub", "-noout"}, &out), 0)
        << out;
    // openssl derives the same public key from our private key file.
    ASSERT_EQ(test::run({"openssl", "pkey", "-in", tmp / "k.key", "-pubout", "-out", tmp / "d.pub"},
                        &out),
              0)
        << out;
    EXPECT_EQ(test::read_text(tmp / "d.pub"), test::read_text(tmp / "k.pub"));
}

TEST(Ed25519Peer, OpensslVerifiesOurSignature) {
    TempDir tmp;
    SigningKey key = test::test_key();
    ASSERT_TRUE(write_key_pair(tmp / "k", key).ok());
    std::string message = test::random_bytes(5000, 3);
    test::write_text(tmp / "msg", message);
    test::write_text(tmp / "msg.sig", *key.sign(message));
    std::string out;
    EXPECT_EQ(test::run({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp / "k.pub",
                         "-rawin", "-in", tmp / "msg", "-sigfile", tmp / "msg.sig"},
                        &out),
              0)
        << out;
    EXPECT_NE(out.find("Signature Verified Successfully"), std::string::npos) << out;

    // And the peer rejects it for other bytes: the check above is not vacuous.
    test::write_text(tmp / "msg", message + "!");
    EXPECT_NE(test::run({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp / "k.pub",
                         "-rawin", "-in", tmp / "msg", "-sigfile", tmp / "msg.sig"},
                        &out),
              0);
}

TEST(Ed25519Peer, WeVerifyOpensslSignature) {
    TempDir tmp;
    ASSERT_TRUE(write_key_pair(tmp / "k", *SigningKey::generate()).ok());
    std::string message = test::random_bytes(4096, 4);
    test::write_text(tmp / "msg", message);
    std::string out;
    ASSERT_EQ(test::run({"openssl", "pkeyutl", "-sign", "-inkey", tmp / "k.key", "-rawin", "-in",
                         tmp / "msg", "-out", tmp / "msg.sig"},
                        &out),
              0)
        << out;
    std::string sig = test::read_text(tmp / "msg.sig");
    ASSERT_EQ(sig.size(), 64u);
    auto pub = PublicKey::load(tmp / "k.pub");
    ASSERT_TRUE(pub.ok());
    EXPECT_TRUE(pub->verify(message, sig));
    EXPECT_FALSE(pub->verify(message.substr(1), sig));
}

TEST(Ed25519Peer, WeLoadOpensslGeneratedKey) {
    TempDir tmp;
    std::string out;
    ASSERT_EQ(
        test::run({"openssl", "genpkey", "-algorithm", "ED25519", "-out", tmp / "o.key"}, &out), 0);
    ASSERT_EQ(test::run({"openssl", "pkey", "-in", tmp / "o.key", "-pubout", "-out", tmp / "o.pub"},
                        &out),
              0);
    auto key = SigningKey::load(tmp / "o.key");
    ASSERT_TRUE(key.ok()) << key.error().message;
    auto pub = PublicKey::load(tmp / "o.pub");
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(key->public_key().raw(), pub->raw());
    EXPECT_TRUE(pub->verify("m", *key->sign("m")));
}

}  // namespace
}  // namespace pib
