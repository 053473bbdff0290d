// import_image against a Raspberry Pi OS-like disk image built by
// support/disk_image (sfdisk, mkfs.vfat + mtools, mkfs.ext4 -d, dd; no
// libguestfs), so the check does not share a blind spot with the code under
// test. The appliance is launched three times in all (~15-25 s each under
// TCG), and each launch covers one form of the image as well as one selection
// case: raw with detected partitions, xz with explicit partitions (Raspberry Pi
// OS ships .img.xz), zstd with a partition out of range. Refusals that need no
// appliance are in image_file_test.cpp.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "builder/inputs.hpp"
#include "inputs/sample_tree.hpp"
#include "support/disk_image.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

const std::string kConfigTxt = "arm_64bit=1\nenable_uart=1\n";
const std::string kCmdlineTxt = "console=serial0,115200 root=/dev/mmcblk0p2 rootwait\n";

// Placeholder firmware: every byte value, in a pattern that is not a multiple of
// any cluster size, so truncation or padding shows.
std::string firmware_bytes() {
    std::string s;
    for (std::size_t i = 0; i < 300'001; ++i)
        s.push_back(static_cast<char>((i * 7 + i / 251) & 0xff));
    return s;
}

// 300 MiB MBR disk: partition 1 FAT32 (type c) at 1 MiB, 64 MiB; partition 2
// Linux (type 83) from 65 MiB to the end, 235 MiB (DiskLayout's defaults).
void build_image(const fs::path& dir, const fs::path& image) {
    ASSERT_NO_FATAL_FAILURE(test::make_sample_tree(dir / "stage"));
    const fs::path files = dir / "fat-src";
    test::write_text(files / "config.txt", kConfigTxt);
    test::write_text(files / "cmdline.txt", kCmdlineTxt);
    test::write_text(files / "start4.elf", firmware_bytes());
    test::write_text(files / "overlays/x.dtbo", "dtbo placeholder\n");
    ASSERT_EQ(test::make_disk_image(image, files, dir / "stage"), "");
}

// Names of the entries of `dir`, sorted; empty when it does not exist.
std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
}

// ctest runs every test in its own process, so the suite set-up builds the image
// (a few seconds) and each test launches the appliance at most once.
class ImportImage : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        if (!test::is_root()) return;  // SetUp fails every test with the reason
        dir_ = std::make_unique<TempDir>();
        build_image(dir_->path(), image());
        built_ = !::testing::Test::HasFatalFailure();
    }
    static void TearDownTestSuite() { dir_.reset(); }
    void SetUp() override {
        ASSERT_TRUE(test::is_root()) << "building the test image needs root (mknod, chown)";
        ASSERT_TRUE(built_) << "building the test image failed (see the suite set-up)";
    }

    static fs::path image() { return dir_->path() / "disk.img"; }
    // The image compressed with `tool` (by the one test that uses it), under a
    // name that says nothing of it: the format is recognised by content.
    static fs::path compressed(const std::string& tool) {
        return dir_->path() / (tool + "-disk.img");
    }
    static fs::path out(const std::string& name) { return dir_->path() / ("out-" + name); }

    static inline std::unique_ptr<TempDir> dir_;
    static inline bool built_ = false;
};

// One import with detected partitions, checked from every side.
TEST_F(ImportImage, DetectsPartitionsAndKeepsRootAndBoot) {
    std::vector<std::string> lines;
    Logger log([&](Level, const std::string& l) { lines.push_back(l); });
    const fs::path root = out("default") / "root", boot = out("default") / "boot";
    auto r = import_image(image(), ImageBase{}, root, boot, log);
    ASSERT_TRUE(r.ok()) << r.error().message;

    {
        SCOPED_TRACE("partitions detected and logged");
        EXPECT_EQ(r->root_partition, 2);
        EXPECT_EQ(r->root_fstype, "ext4");
        EXPECT_EQ(r->boot_partition, 1);
        EXPECT_EQ(r->boot_fstype, "vfat");
        const std::string all = joined(lines);
        EXPECT_NE(all.find("inputs image_opened"), std::string::npos) << all;
        EXPECT_NE(all.find("partitions=1:vfat:67108864,2:ext4:246415360"), std::string::npos)
            << all;
        EXPECT_NE(all.find("root=2 root_fstype=ext4 boot=1 boot_fstype=vfat"), std::string::npos)
            << all;
    }
    {
        SCOPED_TRACE("root keeps owners, modes, links, devices, xattrs, ACLs");
        // mkfs.ext4 -d (e2fsprogs 1.47) copies xattrs and ACLs, so all are asserted.
        test::expect_sample_tree(root);
        EXPECT_TRUE(fs::is_directory(root / "lost+found"));
    }
    {
        SCOPED_TRACE("boot files exact, root:root 0644, directories 0755");
        EXPECT_EQ(test::read_text(boot / "config.txt"), kConfigTxt);
        EXPECT_EQ(test::read_text(boot / "cmdline.txt"), kCmdlineTxt);
        EXPECT_EQ(test::read_text(boot / "start4.elf"), firmware_bytes());
        EXPECT_EQ(test::read_text(boot / "overlays/x.dtbo"), "dtbo placeholder\n");
        for (const char* f : {"config.txt", "start4.elf", "overlays/x.dtbo"}) {
            auto st = test::lstat_of(boot / f);
            EXPECT_EQ(st.st_mode & 07777, 0644u) << f;
            EXPECT_EQ(st.st_uid, 0u) << f;
            EXPECT_EQ(st.st_gid, 0u) << f;
        }
        EXPECT_EQ(test::lstat_of(boot / "overlays").st_mode & 07777, 0755u);
        EXPECT_FALSE(fs::exists(boot / "etc")) << "root files leaked into boot";
    }
    {
        SCOPED_TRACE("no scratch archives left beside the destination");
        EXPECT_EQ(entries(out("default")), (std::vector<std::string>{"boot", "root"}));
        EXPECT_EQ(joined(lines).find("image_decompressed"), std::string::npos);
    }
}

// Raspberry Pi OS ships .img.xz: decompressed beside the destination, then imported.
TEST_F(ImportImage, XzImageWithExplicitPartitions) {
    const fs::path xz = compressed("xz");
    ASSERT_EQ(test::compress_file(image(), xz, "xz"), "");
    std::vector<std::string> lines;
    Logger log([&](Level, const std::string& l) { lines.push_back(l); });
    ImageBase spec;
    spec.root_partition = 2;
    spec.boot_partition = 1;
    auto r = import_image(xz, spec, out("xz") / "root", out("xz") / "boot", log);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->root_partition, 2);
    EXPECT_EQ(r->boot_partition, 1);
    test::expect_sample_tree(out("xz") / "root");
    EXPECT_EQ(test::read_text(out("xz") / "boot/start4.elf"), firmware_bytes());
    EXPECT_EQ(test::read_text(out("xz") / "boot/config.txt"), kConfigTxt);

    const std::string all = joined(lines);
    EXPECT_NE(
        all.find("inputs image_decompressed path=" + xz.string() + " format=xz bytes=314572800"),
        std::string::npos)
        << all;
    EXPECT_NE(all.find("partitions=1:vfat:67108864,2:ext4:246415360"), std::string::npos) << all;
    EXPECT_EQ(entries(out("xz")), (std::vector<std::string>{"boot", "root"}))
        << "the decompressed image must not be left behind";
}

// Fails after the launch: the scratch directory with the decompressed image,
// and the destination's parent the import created, are gone again. Also takes
// the PIBUILD_GUESTFS_KVM=1 path: here QEMU aborts under KVM within a second
// (MACHINE-NOTES) and the import relaunches under TCG; on a host where KVM
// works the first launch succeeds. The outcome is the same either way.
TEST_F(ImportImage, ZstdImagePartitionOutOfRange) {
    const fs::path zst = compressed("zstd");
    ASSERT_EQ(test::compress_file(image(), zst, "zstd"), "");
    std::vector<std::string> lines;
    Logger log([&](Level, const std::string& l) { lines.push_back(l); });
    ImageBase spec;
    spec.root_partition = 3;
    auto r = import_image(zst, spec, out("range") / "root", out("range") / "boot", log,
                          ImportOptions{.try_kvm = true});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::not_found);
    EXPECT_NE(r.error().message.find("root_partition 3 is out of range"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("1 (vfat, 64 MiB), 2 (ext4, 235 MiB)"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(out("range"))) << testing::PrintToString(entries(out("range")));

    const std::string all = joined(lines);
    EXPECT_NE(all.find("format=zstd bytes=314572800"), std::string::npos) << all;
    const bool kvm_worked =
        all.find("inputs guestfs_backend accel=kvm-or-tcg") != std::string::npos;
    const bool fell_back = all.find("inputs guestfs_kvm_failed") != std::string::npos &&
                           all.find("retry=tcg") != std::string::npos;
    EXPECT_TRUE(kvm_worked != fell_back) << all;
}

}  // namespace
}  // namespace pib
