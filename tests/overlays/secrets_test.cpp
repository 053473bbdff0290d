// The secrets directory on its own: keys made once by ssh-keygen and then
// only read, machine-ids, and fingerprints as ssh-keygen prints them.
#include "overlays/secrets.hpp"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "overlays/overlay_fixture.hpp"

namespace pib::overlays {
namespace {

using namespace pib::overlays::test;

TEST(Secrets, CreatedOnceThenReused) {
    TempDir tmp;
    bool created = false;
    auto a = load_or_create_secrets(tmp / "secrets", "pi-01", Logger(), created);
    ASSERT_TRUE(a.ok()) << a.error().message;
    EXPECT_TRUE(created);
    EXPECT_EQ(mode_of(tmp / "secrets"), 0700u);
    EXPECT_EQ(mode_of(tmp / "secrets/pi-01"), 0700u);
    EXPECT_TRUE(a->ed25519_pub.starts_with("ssh-ed25519 "));
    EXPECT_TRUE(a->rsa_pub.starts_with("ssh-rsa "));
    EXPECT_TRUE(a->ed25519_key.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    auto b = load_or_create_secrets(tmp / "secrets", "pi-01", Logger(), created);
    ASSERT_TRUE(b.ok());
    EXPECT_FALSE(created);
    EXPECT_EQ(a->ed25519_key, b->ed25519_key);
    EXPECT_EQ(a->rsa_key, b->rsa_key);
    EXPECT_EQ(a->machine_id, b->machine_id);
    // A looser mode is tightened again.
    fs::permissions(tmp / "secrets/pi-01", fs::perms(0755));
    ASSERT_TRUE(load_or_create_secrets(tmp / "secrets", "pi-01", Logger(), created).ok());
    EXPECT_EQ(mode_of(tmp / "secrets/pi-01"), 0700u);
}

TEST(Secrets, CorruptMachineIdIsAnErrorNotReplaced) {
    TempDir tmp;
    pib::test::write_text(tmp / "s/pi-01/machine-id", "not an id\n", 0600);
    bool created = false;
    auto r = load_or_create_secrets(tmp / "s", "pi-01", Logger(), created);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("not a machine-id"), std::string::npos);
    EXPECT_EQ(pib::test::read_text(tmp / "s/pi-01/machine-id"), "not an id\n");
}

TEST(Secrets, MachineIdsAreRandomV4) {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        auto id = new_machine_id();
        ASSERT_TRUE(id.ok());
        EXPECT_TRUE(valid_machine_id(*id)) << *id;
        EXPECT_EQ((*id)[12], '4');
        EXPECT_NE(std::string("89ab").find((*id)[16]), std::string::npos);
        seen.insert(*id);
    }
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_FALSE(valid_machine_id(std::string(32, '0') + "\n"));
    EXPECT_FALSE(valid_machine_id(std::string(32, 'A') + "\n"));
    EXPECT_FALSE(valid_machine_id(std::string(32, 'a')));
}

TEST(Secrets, FingerprintsAsSshKeygenPrintsThem) {
    TempDir tmp;
    for (const char* type : {"ed25519", "rsa", "ecdsa"}) {
        const fs::path key = tmp / type;
        ASSERT_EQ(pib::test::run({"ssh-keygen", "-q", "-t", type, "-N", "", "-C", "c o m", "-f",
                                  key.string()}),
                  0);
        std::string out;
        ASSERT_EQ(pib::test::run({"ssh-keygen", "-l", "-f", key.string() + ".pub"}, &out), 0);
        std::istringstream f(out);
        std::string bits, fp;
        f >> bits >> fp;
        auto ours = ssh_fingerprint(pib::test::read_text(key.string() + ".pub"));
        ASSERT_TRUE(ours.ok());
        EXPECT_EQ(*ours, fp) << type;
    }
    EXPECT_FALSE(ssh_fingerprint("garbage").ok());
    EXPECT_FALSE(ssh_fingerprint("ssh-ed25519 !!!!").ok());
}

}  // namespace
}  // namespace pib::overlays
