// The dm-verity tree pibuild writes equals veritysetup's (cryptsetup-bin),
// byte for byte, root hash included, for sizes around each level boundary;
// the same image gives the same tree; veritysetup verify refuses a changed
// image against the root hash we wrote.
#include "builder/verity_tree.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "common/hex.hpp"
#include "crypto/sha256.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;

std::string pseudo_random(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

bool have_veritysetup() { return test::run({"sh", "-c", "command -v veritysetup"}) == 0; }

// veritysetup format with our salt: its root hash and hash file.
std::pair<std::string, std::string> reference(const fs::path& data, const fs::path& hash,
                                              const VerityInfo& ours) {
    std::string out;
    EXPECT_EQ(test::run({"veritysetup", "format", "--no-superblock", "--format=1", "--hash=sha256",
                         "--data-block-size=" + std::to_string(ours.data_block_size),
                         "--hash-block-size=" + std::to_string(ours.hash_block_size),
                         "--salt=" + ours.salt, data.string(), hash.string()},
                        &out),
              0)
        << out;
    std::smatch m;
    std::regex_search(out, m, std::regex("Root hash:\\s+([0-9a-f]+)"));
    return {m.size() > 1 ? m[1].str() : "", test::read_text(hash)};
}

TEST(VerityTree, SameBytesAsVeritysetup) {
    if (!have_veritysetup()) GTEST_SKIP() << "veritysetup (cryptsetup-bin) not installed";
    test::TempDir dir;
    // 1 block (no levels), 2, 128 (one full hash block), 129 (two levels), 16385 (three).
    for (std::size_t blocks : {1u, 2u, 128u, 129u, 16385u}) {
        SCOPED_TRACE(blocks);
        const fs::path data = dir.path() / "root.squashfs";
        test::write_text(data, pseudo_random(blocks * 4096, static_cast<unsigned>(blocks)));
        auto info = write_verity_tree(data, dir.path() / "root.verity");
        ASSERT_TRUE(info.ok()) << info.error().message;
        EXPECT_EQ(info->data_blocks, blocks);
        EXPECT_EQ(info->hash_offset, 0u);
        EXPECT_EQ(info->data_path, "root.squashfs");
        EXPECT_EQ(info->hash_path, "root.verity");
        auto digest = sha256_file(data);
        ASSERT_TRUE(digest.ok());
        EXPECT_EQ(info->salt, digest->sha256) << "salt derived from the image";
        auto [root, tree] = reference(data, dir.path() / "ref.verity", *info);
        EXPECT_EQ(info->root_hash, root);
        EXPECT_TRUE(test::read_text(dir.path() / "root.verity") == tree) << "hash tree differs";
    }
}

TEST(VerityTree, SmallerBlocksAndGivenSalt) {
    if (!have_veritysetup()) GTEST_SKIP() << "veritysetup (cryptsetup-bin) not installed";
    test::TempDir dir;
    const fs::path data = dir.path() / "img";
    test::write_text(data, pseudo_random(300 * 1024, 7));
    VerityParams p;
    p.data_block_size = 1024;
    p.hash_block_size = 512;
    p.salt_hex = "00ff10";
    auto info = write_verity_tree(data, dir.path() / "img.verity", p);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->salt, "00ff10");
    auto [root, tree] = reference(data, dir.path() / "ref", *info);
    EXPECT_EQ(info->root_hash, root);
    EXPECT_TRUE(test::read_text(dir.path() / "img.verity") == tree);
}

TEST(VerityTree, ReproducibleAndVeritysetupRefusesAChangedImage) {
    if (!have_veritysetup()) GTEST_SKIP() << "veritysetup (cryptsetup-bin) not installed";
    test::TempDir dir;
    const fs::path data = dir.path() / "root.squashfs";
    test::write_text(data, pseudo_random(200 * 4096, 3));
    auto a = write_verity_tree(data, dir.path() / "a.verity");
    auto b = write_verity_tree(data, dir.path() / "b.verity");
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->salt, b->salt);
    EXPECT_EQ(a->root_hash, b->root_hash);
    EXPECT_EQ(test::read_text(dir.path() / "a.verity"), test::read_text(dir.path() / "b.verity"));

    auto verify = [&](const fs::path& hash) {
        std::string out;
        int rc = test::run({"veritysetup", "verify", "--no-superblock", "--format=1", "--hash=sha256",
                            "--data-block-size=4096", "--hash-block-size=4096",
                            "--data-blocks=" + std::to_string(a->data_blocks), "--salt=" + a->salt,
                            data.string(), hash.string(), a->root_hash},
                           &out);
        return rc;
    };
    EXPECT_EQ(verify(dir.path() / "a.verity"), 0);
    std::string bytes = test::read_text(data);
    bytes[150 * 4096 + 17] ^= 1;
    test::write_text(data, bytes);
    EXPECT_NE(verify(dir.path() / "a.verity"), 0) << "a changed block must fail verification";
}

TEST(VerityTree, RefusesSizesThatAreNotWholeBlocks) {
    test::TempDir dir;
    test::write_text(dir.path() / "odd", std::string(4097, 'x'));
    auto info = write_verity_tree(dir.path() / "odd", dir.path() / "odd.verity");
    ASSERT_FALSE(info.ok());
    EXPECT_NE(info.error().message.find("not a non-zero multiple of the verity block size 4096"),
              std::string::npos)
        << info.error().message;
    test::write_text(dir.path() / "empty", "");
    EXPECT_FALSE(write_verity_tree(dir.path() / "empty", dir.path() / "e.verity").ok());
    EXPECT_FALSE(fs::exists(dir.path() / "e.verity"));
}

}  // namespace
}  // namespace pib
