// The build pipeline on a directory base: layout, contents, reproducibility,
// and that a failed build leaves nothing behind.
#include <gtest/gtest.h>

#include "builder/build.hpp"
#include "builder/fixture.hpp"
#include "crypto/sha256.hpp"
#include "squashfs/tree.hpp"

namespace pib {
namespace {

using test::TempDir;

struct Built {
    BuildResult result;
    std::string squashfs_sha, manifest_sha;
};

class BuildTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(test::is_root()) << "the builder tests need root (owners, device nodes)";
        auto k = SigningKey::generate();
        ASSERT_TRUE(k.ok());
        key_ = std::make_unique<SigningKey>(std::move(*k));
    }

    Built build(const std::filesystem::path& dir, const std::string& out, unsigned workers = 0) {
        Diagnostics diags;
        auto recipe = load_recipe(dir / "recipe.yaml", diags);
        EXPECT_TRUE(recipe.ok()) << diags.str();
        BuildOptions opts;
        opts.output_dir = dir / out;
        opts.work_root = dir / ("work-" + out);
        opts.cache_dir = dir / "cache";
        opts.workers = workers;
        auto r = build_release(*recipe, *key_, opts, Logger{});
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
        Built b{*r, "", ""};
        b.squashfs_sha = sha256_file(r->release_dir / "root.squashfs")->sha256;
        b.manifest_sha = sha256_file(r->release_dir / "manifest.json")->sha256;
        return b;
    }

    std::unique_ptr<SigningKey> key_;
};

using test::find_entry;

TEST_F(BuildTest, ReleaseHasTheDesignLayoutAndVerifies) {
    TempDir tmp;
    test::make_fixture(tmp.path());
    auto b = build(tmp.path(), "out");
    const auto& dir = b.result.release_dir;
    EXPECT_EQ(dir.parent_path(), tmp.path() / "out");
    EXPECT_EQ(dir.filename().string().rfind("fixture-1.0-", 0), 0u) << dir;
    for (const char* f : {"manifest.json", "manifest.json.sig", "root.squashfs", "boot/vmlinuz",
                          "boot/initrd.img", "boot/cmdline.txt"}) {
        EXPECT_TRUE(std::filesystem::is_regular_file(dir / f)) << f;
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "boot/config.txt"));  // pc boards have none
    // World-readable: NFS serves releases with root squashed (docs/nfs.md).
    EXPECT_EQ(std::filesystem::status(dir).permissions(), std::filesystem::perms(0755));
    EXPECT_EQ(test::read_text(dir / "boot/vmlinuz"), std::string(300000, 'K'));
    EXPECT_EQ(test::read_text(dir / "boot/cmdline.txt"), "console=ttyS0\n");

    VerifyReport report;
    auto m = verify_release(dir, key_->public_key(), report);
    ASSERT_TRUE(m.ok()) << (report.problems.empty() ? "" : report.problems.front());
    EXPECT_EQ(m->name, "fixture");
    EXPECT_EQ(m->arch, "amd64");
    EXPECT_EQ(m->board, "pc");
    EXPECT_EQ(m->source_date_epoch, 1700000000);
    EXPECT_EQ(m->boot["kernel"], "boot/vmlinuz");
    EXPECT_EQ(m->boot["kernel_source"], "/boot/vmlinuz-6.1.0-test");
    ASSERT_FALSE(m->inputs.empty());
    EXPECT_EQ(m->inputs.front().kind, "recipe");
    EXPECT_EQ(m->artifacts.size(), 5u);  // root.squashfs, root.verity + 3 boot files, nothing else
    ASSERT_TRUE(m->verity.has_value());
    EXPECT_EQ(m->verity->hash_path, "root.verity");
    EXPECT_EQ(m->verity->data_blocks * 4096, std::filesystem::file_size(dir / "root.squashfs"));

    // Nothing else is left next to the release, and the work tree is gone.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path() / "out")) ++entries;
    EXPECT_EQ(entries, 1);
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path() / "work-out"));
}

TEST_F(BuildTest, StepsAndSanitizingShapeTheRoot) {
    TempDir tmp;
    test::make_fixture(tmp.path());
    auto b = build(tmp.path(), "out");
    auto tree = scan_squashfs(b.result.release_dir / "root.squashfs");
    ASSERT_TRUE(tree.ok()) << tree.error().message;

    auto* motd = find_entry(*tree, "/etc/motd");
    ASSERT_NE(motd, nullptr);
    EXPECT_EQ(motd->mode & 07777, 0640u);
    EXPECT_EQ(motd->gid, 1500u);  // group "kiosk" looked up in the image's /etc/group
    auto* hello = find_entry(*tree, "/usr/local/bin/hello");
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ(hello->mode & 07777, 0755u);
    EXPECT_EQ(hello->uid, 0u);
    EXPECT_EQ(find_entry(*tree, "/etc/obsolete.conf"), nullptr);
    // Node identity is removed from the shared root.
    EXPECT_EQ(find_entry(*tree, "/etc/ssh/ssh_host_ed25519_key"), nullptr);
    EXPECT_EQ(find_entry(*tree, "/etc/ssh/ssh_host_ed25519_key.pub"), nullptr);
    auto* mid = find_entry(*tree, "/etc/machine-id");
    ASSERT_NE(mid, nullptr);
    EXPECT_EQ(mid->size, 0u);
    // Base tree kinds survive.
    auto* dev = find_entry(*tree, "/dev/null");
    ASSERT_NE(dev, nullptr);
    EXPECT_EQ(dev->rdev_major, 1u);
    EXPECT_EQ(dev->rdev_minor, 3u);
    auto* link = find_entry(*tree, "/etc/tool-link");
    ASSERT_NE(link, nullptr);
    EXPECT_EQ(link->link_target, "../usr/bin/tool");
    auto* tool = find_entry(*tree, "/usr/bin/tool-again");
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->nlink, 2u);
    EXPECT_EQ(find_entry(*tree, "/usr/bin/tool")->xattrs.at("user.origin"), "fixture");
    // Every mtime is clamped to SOURCE_DATE_EPOCH.
    for (const auto& e : *tree) EXPECT_LE(e.mtime, 1700000000) << e.path;
}

TEST_F(BuildTest, TwoBuildsAreByteIdentical) {
    TempDir tmp;
    test::make_fixture(tmp.path());
    auto a = build(tmp.path(), "a", 2);
    // Touch every file so that only content, not the clock, can matter.
    for (const auto& e : std::filesystem::recursive_directory_iterator(tmp.path() / "rootfs")) {
        if (e.is_regular_file() && !e.is_symlink()) std::filesystem::last_write_time(
            e.path(), std::filesystem::file_time_type::clock::now());
    }
    auto b = build(tmp.path(), "b", 1);
    EXPECT_EQ(a.squashfs_sha, b.squashfs_sha);
    EXPECT_EQ(a.manifest_sha, b.manifest_sha);
    EXPECT_EQ(a.result.release_id, b.result.release_id);
    // A second build into the same output finds the identical release there.
    auto c = build(tmp.path(), "a", 2);
    EXPECT_TRUE(c.result.already_present);
    EXPECT_EQ(c.result.release_id, a.result.release_id);
}

TEST_F(BuildTest, RaspberryPiBootDirectory) {
    TempDir tmp;
    test::make_fixture(tmp.path(), "rpi4");
    auto b = build(tmp.path(), "out");
    const auto& boot = b.result.release_dir / "boot";
    EXPECT_EQ(test::read_text(boot / "kernel8.img"), std::string(300000, 'K'));
    EXPECT_EQ(test::read_text(boot / "start4.elf"), "placeholder start4.elf\n");
    EXPECT_EQ(test::read_text(boot / "fixup4.dat"), "placeholder fixup4.dat\n");
    EXPECT_EQ(test::read_text(boot / "bcm2711-rpi-4-b.dtb"), "DTB\n");
    auto cfg = test::read_text(boot / "config.txt");
    EXPECT_NE(cfg.find("arm_64bit=1\nkernel=kernel8.img\ninitramfs initrd.img followkernel\n"),
              std::string::npos) << cfg;
    EXPECT_NE(cfg.find("enable_uart=1\n"), std::string::npos) << cfg;
    EXPECT_EQ(b.result.manifest.board, "rpi4");
}

TEST_F(BuildTest, FailedBuildLeavesNothing) {
    TempDir tmp;
    test::make_fixture(tmp.path());
    // The kernel glob is checked against the staged root, so this fails late,
    // after the base and the steps have been staged.
    std::string text = test::read_text(tmp.path() / "recipe.yaml");
    text.replace(text.find("/boot/vmlinuz-*"), 15, "/boot/bzImage-*");
    test::write_text(tmp.path() / "recipe.yaml", text);
    Diagnostics diags;
    auto recipe = load_recipe(tmp.path() / "recipe.yaml", diags);
    ASSERT_TRUE(recipe.ok()) << diags.str();
    BuildOptions opts{tmp.path() / "out", tmp.path() / "work", tmp.path() / "cache"};
    auto r = build_release(*recipe, *key_, opts, Logger{});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("configure_boot: boot.kernel: nothing in the image matches /boot/bzImage-*"),
              std::string::npos) << r.error().message;
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path() / "out"));
    EXPECT_TRUE(std::filesystem::is_empty(tmp.path() / "work"));
}

TEST_F(BuildTest, StaleTemporariesOfDeadBuildsAreRemoved) {
    TempDir tmp;
    std::filesystem::create_directories(tmp.path() / "out/.pibuild-999999999-abcdef/boot");
    std::filesystem::create_directories(tmp.path() / ("out/.pibuild-" + std::to_string(::getpid()) + "-live"));
    std::filesystem::create_directories(tmp.path() / "out/keep-me");
    EXPECT_EQ(remove_stale_temporaries(tmp.path() / "out", Logger{}), 1u);
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "out/.pibuild-999999999-abcdef"));
    EXPECT_TRUE(std::filesystem::exists(tmp.path() / "out/keep-me"));
}

}  // namespace
}  // namespace pib
