// scan_directory / scan_squashfs / squashfs_info / squashfs_read_file, with
// images from squashfs-tools (mksquashfs) as well as our own writer, and the
// kernel's view of our images.
#include "squashfs/tree.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "squashfs/fixture.hpp"
#include "squashfs/writer.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

using test::TempDir;
namespace fs = std::filesystem;

const TreeEntry* find(const std::vector<TreeEntry>& v, const std::string& path) {
    for (const auto& e : v)
        if (e.path == path) return &e;
    return nullptr;
}

class SquashfsTree : public test::FixtureTest {
  protected:
    fs::path ours() {
        const fs::path img = dir_ / "ours.sqfs";
        if (!fs::exists(img)) {
            SquashfsOptions o;
            o.mtime_clamp = 2000000000;
            auto r = write_squashfs(src(), img, o, Logger{});
            EXPECT_TRUE(r.ok()) << r.error().message;
        }
        return img;
    }
};

TEST_F(SquashfsTree, DirectoryScanDescribesEveryKindOfInode) {
    auto scan = scan_directory(src());
    ASSERT_TRUE(scan.ok()) << scan.error().message;
    const auto& v = *scan;
    ASSERT_FALSE(v.empty());
    EXPECT_EQ(v.front().path, "/");
    EXPECT_TRUE(
        std::is_sorted(v.begin(), v.end(), [](auto& a, auto& b) { return a.path < b.path; }));

    const TreeEntry* small = find(v, "/small.txt");
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(small->mode, S_IFREG | 04755u);
    EXPECT_EQ(small->uid, 1234u);
    EXPECT_EQ(small->gid, 5678u);
    EXPECT_EQ(small->size, 15u);
    EXPECT_EQ(small->xattrs.at("user.comment"), "packed by pibuild");
    EXPECT_EQ(small->sha256.size(), 64u);

    const TreeEntry* dev = find(v, "/dev/big_minor");
    ASSERT_NE(dev, nullptr);
    EXPECT_TRUE(S_ISCHR(dev->mode));
    EXPECT_EQ(dev->rdev_major, 259u);
    EXPECT_EQ(dev->rdev_minor, 70000u);

    EXPECT_EQ(find(v, "/dangling")->link_target, "does/not/exist");
    EXPECT_EQ(find(v, "/d1")->xattrs.at("security.label"), std::string("bin\0ary", 7));
    EXPECT_EQ(find(v, "/one_block.bin")->xattrs.count("system.posix_acl_access"), 1u);

    // Three names of one inode: same group, named by the first sorted path.
    for (const char* p : {"/hl_one", "/d1/hl_two", "/d1/d2/hl_three"}) {
        ASSERT_NE(find(v, p), nullptr) << p;
        EXPECT_EQ(find(v, p)->nlink, 3u) << p;
        EXPECT_EQ(find(v, p)->link_group, "/d1/d2/hl_three") << p;
    }
    EXPECT_EQ(find(v, "/small.txt")->link_group, "");
}

TEST_F(SquashfsTree, OptionsLeaveOutHashesAndTimes) {
    TreeOptions o;
    o.hash_contents = false;
    o.include_mtime = false;
    auto scan = scan_directory(src(), o);
    ASSERT_TRUE(scan.ok());
    for (const auto& e : *scan) {
        EXPECT_EQ(e.sha256, "") << e.path;
        EXPECT_EQ(e.mtime, 0) << e.path;
    }
    auto image = scan_squashfs(ours(), o);
    ASSERT_TRUE(image.ok());
    EXPECT_TRUE(test::without_acls(*scan) == *image);
}

TEST_F(SquashfsTree, ReadsImagesMadeByMksquashfs) {
    const fs::path img = dir_ / "mk.sqfs";
    std::string output;
    ASSERT_EQ(test::run({"mksquashfs", src().string(), img.string(), "-comp", "zstd", "-noappend",
                         "-no-progress", "-quiet"},
                        &output),
              0)
        << output;
    test::expect_same_tree(src(), scan_squashfs(img));
}

TEST_F(SquashfsTree, KernelMountShowsTheSourceTree) {
    const fs::path mnt = dir_ / "mnt";
    fs::create_directory(mnt);
    std::string output;
    ASSERT_EQ(test::run({"mount", "-t", "squashfs", "-o", "loop,ro", ours().string(), mnt.string()},
                        &output),
              0)
        << output;
    struct Unmount {
        fs::path dir;
        ~Unmount() { test::run({"umount", dir.string()}); }
    } unmount{mnt};
    test::expect_same_tree(src(), scan_directory(mnt));
}

TEST_F(SquashfsTree, InfoReportsTheSuperblock) {
    auto info = squashfs_info(ours());
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->compressor, "zstd");
    EXPECT_EQ(info->block_size, 131072u);
    EXPECT_EQ(info->mtime, 2000000000);
    EXPECT_TRUE(info->has_xattrs);
    EXPECT_TRUE(info->exportable);
    EXPECT_GT(info->inodes, 20u);
    EXPECT_LE(info->bytes_used, fs::file_size(ours()));
    EXPECT_GT(info->bytes_used + 4096, fs::file_size(ours()));
}

TEST_F(SquashfsTree, ReadFileReturnsExactContents) {
    for (const char* name : {"small.txt", "empty", "one_block.bin", "multi_block.bin", "sparse.img",
                             "d1/d2/d3/deep.txt", "dup_b.bin", "d1/hl_two"}) {
        auto got = squashfs_read_file(ours(), std::string("/") + name);
        ASSERT_TRUE(got.ok()) << name << ": " << got.error().message;
        EXPECT_TRUE(*got == test::read_text(src() / name)) << name;
    }
}

TEST_F(SquashfsTree, ReadFileErrors) {
    auto missing = squashfs_read_file(ours(), "/nope");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    auto through_file = squashfs_read_file(ours(), "/small.txt/x");
    ASSERT_FALSE(through_file.ok());
    EXPECT_EQ(through_file.error().code, Errc::not_found);
    auto dir = squashfs_read_file(ours(), "/d1");
    ASSERT_FALSE(dir.ok());
    EXPECT_EQ(dir.error().code, Errc::invalid);
    auto link = squashfs_read_file(ours(), "/rel_link");
    ASSERT_FALSE(link.ok());
    EXPECT_EQ(link.error().code, Errc::invalid);
}

TEST(SquashfsTreeErrors, MissingAndBrokenImages) {
    TempDir dir;
    auto missing = scan_squashfs(dir / "none.sqfs");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::not_found);
    EXPECT_FALSE(squashfs_info(dir / "none.sqfs").ok());

    test::write_text(dir / "junk.sqfs", std::string(8192, 'j'));
    auto junk = scan_squashfs(dir / "junk.sqfs");
    ASSERT_FALSE(junk.ok());
    EXPECT_EQ(junk.error().code, Errc::corrupted);
    EXPECT_NE(junk.error().message.find("junk.sqfs"), std::string::npos) << junk.error().message;

    auto not_dir = scan_directory(dir / "junk.sqfs");
    ASSERT_FALSE(not_dir.ok());
    EXPECT_EQ(not_dir.error().code, Errc::invalid);
}

TEST(SquashfsTreeErrors, TruncatedImageIsAnErrorNotACrash) {
    ASSERT_TRUE(test::is_root());
    TempDir dir;
    fs::create_directory(dir / "src");
    ASSERT_NO_FATAL_FAILURE(test::make_fixture(dir / "src"));
    SquashfsOptions o;
    o.mtime_clamp = 2000000000;
    ASSERT_TRUE(write_squashfs(dir / "src", dir / "img", o, Logger{}).ok());
    fs::resize_file(dir / "img", fs::file_size(dir / "img") / 2);
    auto r = scan_squashfs(dir / "img");
    EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace pib
