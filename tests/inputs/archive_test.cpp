// extract_tarball and copy_tree against archives and trees made by GNU tar and
// plain syscalls, never by the code under test.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "builder/inputs.hpp"
#include "inputs/sample_tree.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

std::string head_bytes(const fs::path& p, std::size_t n) {
    std::string s = test::read_text(p);
    return s.substr(0, n);
}

bool is_empty_dir(const fs::path& p) {
    return !fs::exists(p) || fs::directory_iterator(p) == fs::directory_iterator();
}

// Makes an archive the way a user would: GNU tar with owners, xattrs and ACLs.
void make_archive(const fs::path& src, const fs::path& out, const std::string& compress) {
    std::vector<std::string> argv{"tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
                                  "--acls"};
    if (!compress.empty()) argv.push_back(compress);
    argv.insert(argv.end(), {"-cf", out.string(), "-C", src.string(), "."});
    std::string out_text;
    ASSERT_EQ(test::run(argv, &out_text), 0) << out_text;
}

struct Compression {
    std::string flag;
    std::string suffix;
    std::string magic;  ///< proves the archive really is compressed that way
};
void PrintTo(const Compression& c, std::ostream* os) { *os << (c.flag.empty() ? "none" : c.flag); }

class ExtractTarball : public ::testing::TestWithParam<Compression> {};

TEST_P(ExtractTarball, KeepsOwnersModesLinksDevicesXattrsAcls) {
    ASSERT_TRUE(test::is_root()) << "extracting owners and device nodes needs root";
    TempDir t;
    ASSERT_NO_FATAL_FAILURE(test::make_sample_tree(t / "src"));
    const fs::path archive = t / ("base.tar" + GetParam().suffix);
    ASSERT_NO_FATAL_FAILURE(make_archive(t / "src", archive, GetParam().flag));
    EXPECT_EQ(head_bytes(archive, GetParam().magic.size()), GetParam().magic);

    std::vector<std::string> lines;
    Logger log([&](Level, const std::string& l) { lines.push_back(l); });
    auto st = extract_tarball(archive, t / "root", log);
    ASSERT_TRUE(st.ok()) << st.error().message;
    test::expect_sample_tree(t / "root");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("inputs tar_extracted"), std::string::npos) << lines[0];
}

INSTANTIATE_TEST_SUITE_P(Compressions, ExtractTarball,
                         ::testing::Values(Compression{"--zstd", ".zst", "\x28\xb5\x2f\xfd"},
                                           Compression{"--gzip", ".gz", "\x1f\x8b"},
                                           Compression{"--xz", ".xz",
                                                       "\xfd"
                                                       "7zXZ"},
                                           Compression{"", "", ""}),
                         [](const auto& info) {
                             return info.param.suffix.empty() ? std::string("plain")
                                                              : info.param.suffix.substr(1);
                         });

TEST(ExtractTarballSafety, RefusesDotDotMemberAndExtractsNothing) {
    TempDir t;
    // Member names as stored: "ok.txt" first, then "../evil". -P keeps the "..".
    fs::create_directories(t / "x/src");
    test::write_text(t / "x/src/ok.txt", "fine\n");
    test::write_text(t / "x/evil", "escaped\n");
    std::string out;
    ASSERT_EQ(test::run({"tar", "-C", (t / "x/src").string(), "-P", "-cf",
                         (t / "evil.tar").string(), "ok.txt", "../evil"},
                        &out),
              0)
        << out;
    fs::remove(t / "x/evil");

    const fs::path root = t / "x/root";
    auto st = extract_tarball(t / "evil.tar", root, Logger());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::corrupted);
    EXPECT_NE(st.error().message.find("'../evil'"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("'..' component"), std::string::npos) << st.error().message;
    EXPECT_FALSE(fs::exists(t / "x/evil")) << "member escaped the root";
    EXPECT_TRUE(is_empty_dir(root)) << "nothing may be extracted from a refused archive";
}

TEST(ExtractTarballSafety, RefusesAbsoluteMember) {
    TempDir t;
    test::write_text(t / "abs/file", "x\n");
    std::string out;
    ASSERT_EQ(
        test::run({"tar", "-P", "-cf", (t / "abs.tar").string(), (t / "abs/file").string()}, &out),
        0)
        << out;
    auto st = extract_tarball(t / "abs.tar", t / "root", Logger());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::corrupted);
    EXPECT_NE(st.error().message.find("absolute path"), std::string::npos) << st.error().message;
    EXPECT_TRUE(is_empty_dir(t / "root"));
}

TEST(ExtractTarballSafety, NotAnArchiveOrMissing) {
    TempDir t;
    test::write_text(t / "notes.txt", "this is not a tar archive\n");
    auto st = extract_tarball(t / "notes.txt", t / "root", Logger());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::io);
    EXPECT_NE(st.error().message.find("notes.txt"), std::string::npos) << st.error().message;

    auto missing = extract_tarball(t / "nope.tar.zst", t / "root", Logger());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, Errc::not_found);
}

TEST(UnsafeMemberReason, Names) {
    EXPECT_EQ(unsafe_member_reason("./etc/passwd"), "");
    EXPECT_EQ(unsafe_member_reason("./"), "");
    EXPECT_EQ(unsafe_member_reason("usr/lib/a..b"), "");
    EXPECT_EQ(unsafe_member_reason("..hidden"), "");
    EXPECT_EQ(unsafe_member_reason("/etc/passwd"), "absolute path");
    EXPECT_EQ(unsafe_member_reason(".."), "'..' component");
    EXPECT_EQ(unsafe_member_reason("../x"), "'..' component");
    EXPECT_EQ(unsafe_member_reason("./a/../../x"), "'..' component");
    EXPECT_EQ(unsafe_member_reason("a/.."), "'..' component");
}

TEST(CopyTree, KeepsEverythingAndMergesIntoExistingRoot) {
    ASSERT_TRUE(test::is_root()) << "copying owners and device nodes needs root";
    TempDir t;
    ASSERT_NO_FATAL_FAILURE(test::make_sample_tree(t / "src"));
    test::write_text(t / "root/already-there", "kept\n");
    auto st = copy_tree(t / "src", t / "root", Logger());
    ASSERT_TRUE(st.ok()) << st.error().message;
    test::expect_sample_tree(t / "root");
    EXPECT_EQ(test::read_text(t / "root/already-there"), "kept\n");
    EXPECT_FALSE(fs::exists(t / "root/src")) << "the source directory itself must not be nested";
}

TEST(CopyTree, MissingSource) {
    TempDir t;
    auto st = copy_tree(t / "nope", t / "root", Logger());
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, Errc::not_found);
}

}  // namespace
}  // namespace pib
