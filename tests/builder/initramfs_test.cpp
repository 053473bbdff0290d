// The pib initramfs pieces: the newc writer read back by GNU cpio (a peer we
// did not write), module resolution through modules.dep with dependencies
// first, and the checks on the pib-init program.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "builder/initramfs.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

TEST(Initramfs, NewcArchiveUnpacksWithGnuCpio) {
    std::vector<pib::CpioEntry> entries = {
        {"etc", S_IFDIR | 0755, {}, 0, 0},
        {"etc/pib-init", S_IFDIR | 0700, {}, 0, 0},
        {"etc/pib-init/modules", S_IFREG | 0644, "kernel/a.ko\nkernel/b.ko\n", 0, 0},
        {"init", S_IFREG | 0755, std::string(1001, 'x'), 0, 0},
        {"empty", S_IFREG | 0600, "", 0, 0},
    };
    const std::string archive = pib::write_newc(entries, 1700000000);
    EXPECT_EQ(archive.size() % 512, 0u);
    EXPECT_EQ(archive.substr(0, 6), "070701");
    pib::test::TempDir dir;
    write_text(dir.path() / "a.cpio", archive);
    std::string out;
    ASSERT_EQ(run({"sh", "-c", "cd " + (dir.path() / "x").string() + " 2>/dev/null || mkdir " +
                                   (dir.path() / "x").string() + " && cd " + (dir.path() / "x").string() +
                                   " && cpio -idm --quiet < ../a.cpio"},
                  &out),
              0)
        << out;
    const fs::path x = dir.path() / "x";
    EXPECT_EQ(read_text(x / "etc/pib-init/modules"), "kernel/a.ko\nkernel/b.ko\n");
    EXPECT_EQ(read_text(x / "init"), std::string(1001, 'x'));
    struct stat st{};
    ASSERT_EQ(stat((x / "init").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    ASSERT_EQ(stat((x / "etc/pib-init").c_str(), &st), 0);
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(stat((x / "empty").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 0);
    // The listing GNU cpio gives matches our order.
    ASSERT_EQ(run({"sh", "-c", "cpio -it --quiet < " + (dir.path() / "a.cpio").string()}, &out), 0);
    EXPECT_EQ(out, "etc\netc/pib-init\netc/pib-init/modules\ninit\nempty\n");
    // Deterministic.
    EXPECT_EQ(pib::write_newc(entries, 1700000000), archive);
}

TEST(Initramfs, ModulesResolveDependenciesFirst) {
    pib::test::TempDir dir;
    const fs::path m = dir.path();
    write_text(m / "modules.dep",
               "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko\n"
               "kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko\n"
               "kernel/net/core/failover.ko:\n"
               "kernel/drivers/block/loop.ko:\n"
               "kernel/fs/nfs/nfsv4.ko.xz: kernel/fs/nfs/nfs.ko.xz kernel/net/sunrpc/sunrpc.ko.xz\n"
               "kernel/fs/nfs/nfs.ko.xz: kernel/net/sunrpc/sunrpc.ko.xz\n"
               "kernel/net/sunrpc/sunrpc.ko.xz:\n");
    write_text(m / "modules.builtin", "kernel/fs/squashfs/squashfs.ko\n");
    auto r = pib::resolve_modules(m, {"virtio-net", "squashfs"}, {"loop", "nfsv4", "not_there"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    const std::vector<std::string> want = {"kernel/net/core/failover.ko", "kernel/drivers/net/net_failover.ko",
                                           "kernel/drivers/net/virtio_net.ko", "kernel/drivers/block/loop.ko",
                                           "kernel/net/sunrpc/sunrpc.ko.xz", "kernel/fs/nfs/nfs.ko.xz",
                                           "kernel/fs/nfs/nfsv4.ko.xz"};
    EXPECT_EQ(*r, want);
    auto missing = pib::resolve_modules(m, {"r8169"}, {});
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message.find("no kernel module 'r8169'"), std::string::npos);
}

TEST(Initramfs, PibInitMustBeAStaticProgramOfTheArchitecture) {
    pib::test::TempDir dir;
    // /bin/sh is dynamically linked on Debian: refused.
    setenv("PIBUILD_INIT_AMD64", "/bin/sh", 1);
    auto dynamic = pib::find_pib_init(pib::Arch::amd64);
    ASSERT_FALSE(dynamic.ok());
    EXPECT_NE(dynamic.error().message.find("not statically linked"), std::string::npos);
    setenv("PIBUILD_INIT_ARM64", "/bin/sh", 1);
    auto wrong = pib::find_pib_init(pib::Arch::arm64);
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.error().message.find("another architecture"), std::string::npos);
    write_text(dir.path() / "text", "#!/bin/sh\n");
    setenv("PIBUILD_INIT_AMD64", (dir.path() / "text").c_str(), 1);
    auto text = pib::find_pib_init(pib::Arch::amd64);
    ASSERT_FALSE(text.ok());
    EXPECT_NE(text.error().message.find("not an ELF program"), std::string::npos);
    unsetenv("PIBUILD_INIT_AMD64");
    unsetenv("PIBUILD_INIT_ARM64");
}

}  // namespace
