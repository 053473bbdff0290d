// recipes/rpi-os-import.yaml against a Raspberry Pi OS-like disk image made by
// the test: MBR, FAT32 firmware partition, ext4 root whose programs are arm64
// (busybox-static from Debian, run through qemu-user like a real image's
// would be). Checks that the import strips what a netbooted node must not
// carry, and that the bundled recipes all validate.
#include <gtest/gtest.h>

#include "builder/build.hpp"
#include "builder/fixture.hpp"
#include "squashfs/tree.hpp"
#include "support/disk_image.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

using test::find_entry;

const char* kFstab =
    "proc            /proc           proc    defaults          0       0\n"
    "PARTUUID=6c586e13-01  /boot/firmware  vfat    defaults          0       2\n"
    "PARTUUID=6c586e13-02  /               ext4    defaults,noatime  0       1\n"
    "/dev/mmcblk0p3  none            swap    sw                0       0\n";

// An arm64 root with just enough to run the recipe's shell step.
std::string stage_root(const fs::path& stage, const fs::path& scratch) {
    std::string out;
    if (test::run({"mmdebstrap", "--mode=root", "--variant=extract", "--architectures=arm64",
                   "--include=busybox-static", "bookworm", scratch.string()}, &out) != 0) {
        return "mmdebstrap: " + out;
    }
    fs::path busybox;
    for (const char* p : {"bin/busybox", "usr/bin/busybox"}) {
        if (fs::is_regular_file(scratch / p)) busybox = scratch / p;
    }
    if (busybox.empty()) return "busybox not found in the extracted package";
    fs::create_directories(stage / "bin");
    fs::copy_file(busybox, stage / "bin/busybox");
    for (const char* applet : {"sh", "sed", "cat", "ls"}) fs::create_symlink("busybox", stage / "bin" / applet);
    test::write_text(stage / "etc/fstab", kFstab);
    test::write_text(stage / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\npi:x:1000:1000::/home/pi:/bin/sh\n");
    test::write_text(stage / "etc/group", "root:x:0:\npi:x:1000:\n");
    test::write_text(stage / "etc/ssh/ssh_host_ed25519_key", "SERVER PRIVATE KEY\n", 0600);
    test::write_text(stage / "etc/ssh/ssh_host_ed25519_key.pub", "SERVER PUBLIC KEY\n");
    test::write_text(stage / "etc/ssh/sshd_config", "PermitRootLogin no\n");
    test::write_text(stage / "lib/systemd/system/dphys-swapfile.service", "[Unit]\n");
    fs::create_directories(stage / "etc/systemd/system/multi-user.target.wants");
    fs::create_symlink("/lib/systemd/system/dphys-swapfile.service",
                       stage / "etc/systemd/system/multi-user.target.wants/dphys-swapfile.service");
    test::write_text(stage / "var/swap", std::string(4096, '\0'), 0600);
    test::write_text(stage / "boot/vmlinuz-6.6.51+rpt-rpi-v8", std::string(200000, '8'));
    test::write_text(stage / "boot/vmlinuz-6.6.51+rpt-rpi-2712", std::string(200000, '5'));
    return "";
}

TEST(RpiOsImport, BundledRecipeStripsSdCardStateAndTakesFirmwareFromTheImage) {
    ASSERT_TRUE(test::is_root()) << "image staging (owners) and chroot steps need root";
    TempDir tmp;
    ASSERT_EQ(stage_root(tmp / "stage", tmp / "extract"), "");
    test::write_text(tmp / "fat/start4.elf", "start4 placeholder\n");
    test::write_text(tmp / "fat/fixup4.dat", "fixup4 placeholder\n");
    test::write_text(tmp / "fat/bcm2711-rpi-4-b.dtb", "pi4 dtb placeholder\n");
    test::write_text(tmp / "fat/overlays/vc4-kms-v3d.dtbo", "overlay placeholder\n");
    test::write_text(tmp / "fat/config.txt", "dtoverlay=vc4-kms-v3d\n");
    test::write_text(tmp / "fat/cmdline.txt", "console=serial0,115200 root=PARTUUID=6c586e13-02 init=/usr/lib/raspberrypi-sys-mods/firstboot\n");
    ASSERT_EQ(test::make_disk_image(tmp / "raspios.img", tmp / "fat", tmp / "stage"), "");

    auto r = test::build_bundled("rpi-os-import.yaml", tmp.path(),
                                 {{"PIBUILD_RPI_OS_IMAGE", (tmp / "raspios.img").string()}});
    ASSERT_TRUE(r.ok()) << r.error().message;

    const auto img = r->release_dir / "root.squashfs";
    auto fstab = squashfs_read_file(img, "/etc/fstab");
    ASSERT_TRUE(fstab.ok());
    EXPECT_EQ(*fstab, "proc            /proc           proc    defaults          0       0\n");
    auto tree = scan_squashfs(img);
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    EXPECT_EQ(find_entry(*tree, "/etc/ssh/ssh_host_ed25519_key"), nullptr);
    EXPECT_EQ(find_entry(*tree, "/etc/ssh/ssh_host_ed25519_key.pub"), nullptr);
    EXPECT_NE(find_entry(*tree, "/etc/ssh/sshd_config"), nullptr);
    EXPECT_EQ(find_entry(*tree, "/var/swap"), nullptr);
    auto* masked = find_entry(*tree, "/etc/systemd/system/dphys-swapfile.service");
    ASSERT_NE(masked, nullptr);
    EXPECT_EQ(masked->link_target, "/dev/null");
    auto* pi_home_owner = find_entry(*tree, "/etc/passwd");
    ASSERT_NE(pi_home_owner, nullptr);

    const auto boot = r->release_dir / "boot";
    EXPECT_EQ(test::read_text(boot / "kernel8.img"), std::string(200000, '8'));  // the rpi-v8 kernel
    EXPECT_EQ(test::read_text(boot / "start4.elf"), "start4 placeholder\n");
    EXPECT_EQ(test::read_text(boot / "fixup4.dat"), "fixup4 placeholder\n");
    EXPECT_EQ(test::read_text(boot / "bcm2711-rpi-4-b.dtb"), "pi4 dtb placeholder\n");
    EXPECT_EQ(test::read_text(boot / "overlays/vc4-kms-v3d.dtbo"), "overlay placeholder\n");
    auto cfg = test::read_text(boot / "config.txt");
    EXPECT_NE(cfg.find("kernel=kernel8.img\n"), std::string::npos) << cfg;
    EXPECT_NE(cfg.find("enable_uart=1\n"), std::string::npos) << cfg;
    EXPECT_EQ(test::read_text(boot / "cmdline.txt"), "console=serial0,115200 console=tty1\n");
    EXPECT_EQ(r->manifest.inputs.at(1).kind, "image");
    EXPECT_EQ(r->manifest.arch, "arm64");
}

TEST(BundledRecipes, AllValidate) {
    TempDir tmp;
    test::write_text(tmp / "fw/start4.elf", "x");
    test::write_text(tmp / "fw/fixup4.dat", "x");
    test::write_text(tmp / "raspios.img", "x");
    RecipeContext rctx;
    rctx.env["PIBUILD_RPI_FIRMWARE"] = (tmp / "fw").string();
    rctx.env["PIBUILD_RPI_OS_IMAGE"] = (tmp / "raspios.img").string();
    for (const char* name : {"demo-x86.yaml", "rpi4-debian.yaml", "rpi-os-import.yaml"}) {
        Diagnostics diags;
        auto r = load_recipe(fs::path(PIB_SOURCE_DIR) / "recipes" / name, diags, rctx);
        EXPECT_TRUE(r.ok()) << name << "\n" << diags.str();
    }
}

}  // namespace
}  // namespace pib
