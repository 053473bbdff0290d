// recipes/rpi4-debian.yaml built for real: an arm64 Debian root made on this
// (amd64) host, maintainer scripts running under qemu-user through binfmt,
// Debian's arm64 kernel and Pi 4 device tree, placeholder firmware (the real
// start4.elf is not in Debian main).
#include <gtest/gtest.h>

#include "builder/build.hpp"
#include "builder/fixture.hpp"
#include "squashfs/tree.hpp"

namespace pib {
namespace {

using test::find_entry;
using test::TempDir;
namespace fs = std::filesystem;

TEST(Rpi4Debian, BundledRecipeBuildsAnArm64PiRelease) {
    ASSERT_TRUE(test::is_root()) << "mmdebstrap --mode=root needs root";
    TempDir tmp;
    test::write_text(tmp / "fw/start4.elf", "placeholder start4.elf\n");
    test::write_text(tmp / "fw/fixup4.dat", "placeholder fixup4.dat\n");
    auto r = test::build_bundled("rpi4-debian.yaml", tmp.path(),
                                 {{"PIBUILD_RPI_FIRMWARE", (tmp / "fw").string()}});
    ASSERT_TRUE(r.ok()) << r.error().message;

    EXPECT_EQ(r->manifest.arch, "arm64");
    EXPECT_EQ(r->manifest.board, "rpi4");
    const auto boot = r->release_dir / "boot";
    // An arm64 Linux Image carries "ARM\x64" at offset 0x38.
    auto kernel = test::read_text(boot / "kernel8.img");
    ASSERT_GT(kernel.size(), 0x40u);
    EXPECT_EQ(kernel.substr(0x38, 4), std::string("ARM\x64", 4));
    // The Pi 4 device tree from Debian's kernel package (flattened DT magic d00dfeed).
    auto dtb = test::read_text(boot / "bcm2711-rpi-4-b.dtb");
    ASSERT_GE(dtb.size(), 4u);
    EXPECT_EQ(dtb.substr(0, 4), std::string("\xd0\x0d\xfe\xed", 4));
    EXPECT_EQ(test::read_text(boot / "start4.elf"), "placeholder start4.elf\n");
    EXPECT_FALSE(fs::exists(boot / "initrd.img"));  // initramfs: none
    auto cfg = test::read_text(boot / "config.txt");
    EXPECT_NE(cfg.find("kernel=kernel8.img\n"), std::string::npos) << cfg;
    EXPECT_EQ(cfg.find("initramfs"), std::string::npos) << cfg;

    auto tree = scan_squashfs(r->release_dir / "root.squashfs", {.hash_contents = false});
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    // update-initramfs was diverted only while packages installed: the real
    // script is back and no initramfs was generated under emulation.
    auto* ui = find_entry(*tree, "/usr/sbin/update-initramfs");
    ASSERT_NE(ui, nullptr);
    EXPECT_TRUE(S_ISREG(ui->mode));
    EXPECT_EQ(find_entry(*tree, "/usr/sbin/update-initramfs.distrib"), nullptr);
    for (const auto& e : *tree) EXPECT_EQ(e.path.rfind("/boot/initrd.img-", 0), std::string::npos) << e.path;
    auto diversions = squashfs_read_file(r->release_dir / "root.squashfs", "/var/lib/dpkg/diversions");
    if (diversions.ok()) {
        EXPECT_EQ(diversions->find("update-initramfs"), std::string::npos) << *diversions;
    }
    auto* wants = find_entry(*tree, "/etc/systemd/system/multi-user.target.wants/systemd-networkd.service");
    EXPECT_NE(wants, nullptr);
}

}  // namespace
}  // namespace pib
