// import_image against a Raspberry Pi OS-like disk image that the test builds
// itself without libguestfs (sfdisk, mkfs.vfat + mtools, mkfs.ext4 -d, dd), so
// the check does not share a blind spot with the code under test. The image is
// built for the suite; the appliance is launched three times in all (~15 s
// each under TCG): default detection, explicit partitions, out of range.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>

#include "builder/inputs.hpp"
#include "common/process.hpp"
#include "inputs/sample_tree.hpp"
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

// Runs a tool the image is built with; any failure stops the fixture.
void tool(std::vector<std::string> argv, std::string stdin_data = {}) {
    Command c{.argv = std::move(argv), .env_set = {{"MTOOLS_SKIP_CHECK", "1"}}};
    c.stdin_data = std::move(stdin_data);
    auto r = run_checked(c);
    ASSERT_TRUE(r.ok()) << r.error().message;
}

// 300 MiB MBR disk: partition 1 FAT32 (type c) at 1 MiB, 64 MiB; partition 2
// Linux (type 83) from 65 MiB to the end, 235 MiB.
void build_image(const fs::path& dir, const fs::path& image) {
    ASSERT_NO_FATAL_FAILURE(test::make_sample_tree(dir / "stage"));
    const fs::path fat = dir / "fat.img", ext4 = dir / "ext4.img", files = dir / "fat-src";
    test::write_text(files / "config.txt", kConfigTxt);
    test::write_text(files / "cmdline.txt", kCmdlineTxt);
    test::write_text(files / "start4.elf", firmware_bytes());
    test::write_text(files / "overlays/x.dtbo", "dtbo placeholder\n");

    ASSERT_NO_FATAL_FAILURE(tool({"truncate", "-s", "64M", fat.string()}));
    ASSERT_NO_FATAL_FAILURE(tool({"mkfs.vfat", "-F", "32", "-n", "BOOT", fat.string()}));
    ASSERT_NO_FATAL_FAILURE(tool({"mmd", "-i", fat.string(), "::overlays"}));
    ASSERT_NO_FATAL_FAILURE(
        tool({"mcopy", "-i", fat.string(), (files / "config.txt").string(),
              (files / "cmdline.txt").string(), (files / "start4.elf").string(), "::/"}));
    ASSERT_NO_FATAL_FAILURE(
        tool({"mcopy", "-i", fat.string(), (files / "overlays/x.dtbo").string(), "::overlays/"}));

    ASSERT_NO_FATAL_FAILURE(tool({"truncate", "-s", "235M", ext4.string()}));
    ASSERT_NO_FATAL_FAILURE(tool(
        {"mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", (dir / "stage").string(), ext4.string()}));

    ASSERT_NO_FATAL_FAILURE(tool({"truncate", "-s", "300M", image.string()}));
    ASSERT_NO_FATAL_FAILURE(
        tool({"sfdisk", "--quiet", image.string()},
             "label: dos\nstart=2048, size=131072, type=c\nstart=133120, type=83\n"));
    ASSERT_NO_FATAL_FAILURE(tool({"dd", "if=" + fat.string(), "of=" + image.string(), "bs=1M",
                                  "seek=1", "conv=notrunc", "status=none"}));
    ASSERT_NO_FATAL_FAILURE(tool({"dd", "if=" + ext4.string(), "of=" + image.string(), "bs=1M",
                                  "seek=65", "conv=notrunc", "status=none"}));
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
        std::string all;
        for (const auto& l : lines) all += l + "\n";
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
        std::vector<std::string> names;
        for (const auto& e : fs::directory_iterator(out("default")))
            names.push_back(e.path().filename());
        std::sort(names.begin(), names.end());
        EXPECT_EQ(names, (std::vector<std::string>{"boot", "root"}));
    }
}

TEST_F(ImportImage, ExplicitPartitionNumbers) {
    ImageBase spec;
    spec.root_partition = 2;
    spec.boot_partition = 1;
    auto r =
        import_image(image(), spec, out("explicit") / "root", out("explicit") / "boot", Logger());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->root_partition, 2);
    EXPECT_EQ(r->boot_partition, 1);
    EXPECT_EQ(test::read_text(out("explicit") / "root/etc/fstab"), test::kSampleFstab);
    EXPECT_EQ(test::read_text(out("explicit") / "boot/start4.elf"), firmware_bytes());
}

TEST_F(ImportImage, PartitionOutOfRange) {
    ImageBase spec;
    spec.root_partition = 3;
    auto r = import_image(image(), spec, out("range") / "root", out("range") / "boot", Logger());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::not_found);
    EXPECT_NE(r.error().message.find("root_partition 3 is out of range"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("1 (vfat, 64 MiB), 2 (ext4, 235 MiB)"), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(out("range") / "root"));
}

// None of these launches the appliance: the file is checked first.
TEST(ImportImageFile, NotARawDiskImage) {
    TempDir t;
    const fs::path root = t / "out/root", boot = t / "out/boot";
    test::write_text(t / "notes.txt", std::string(4096, 'x'));
    auto r = import_image(t / "notes.txt", ImageBase{}, root, boot, Logger());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unsupported);
    EXPECT_NE(r.error().message.find("not a raw disk image"), std::string::npos)
        << r.error().message;

    test::write_text(t / "disk.qcow2", std::string("QFI\xfb\0\0\0\3", 8) + std::string(1024, '\0'));
    auto q = import_image(t / "disk.qcow2", ImageBase{}, root, boot, Logger());
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.error().code, Errc::unsupported);
    EXPECT_NE(q.error().message.find("is a qcow2 image"), std::string::npos) << q.error().message;

    // Raspberry Pi OS downloads are .img.xz: say so instead of "no partition table".
    std::string out;
    ASSERT_EQ(test::run({"xz", "-k", (t / "notes.txt").string()}, &out), 0) << out;
    auto x = import_image(t / "notes.txt.xz", ImageBase{}, root, boot, Logger());
    ASSERT_FALSE(x.ok());
    EXPECT_NE(x.error().message.find("is xz-compressed"), std::string::npos) << x.error().message;
    EXPECT_NE(x.error().message.find("unxz"), std::string::npos) << x.error().message;

    test::write_text(t / "empty.img", "");
    EXPECT_FALSE(import_image(t / "empty.img", ImageBase{}, root, boot, Logger()).ok());

    auto m = import_image(t / "missing.img", ImageBase{}, root, boot, Logger());
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.error().code, Errc::not_found);
    EXPECT_FALSE(fs::exists(t / "out"));
}

}  // namespace
}  // namespace pib
