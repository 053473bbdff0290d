// The pure half of the NFS root: the verity table line from signed
// parameters, the size checks of the files on the export, the squashfs
// metadata range pib-init reads through dm-verity, pib.nfs and the mount options.
#include "client/verity_params.hpp"

#include <gtest/gtest.h>

namespace pib::client {
namespace {

VerityInfo sample() {
    VerityInfo v;
    v.data_blocks = 12345;
    v.salt = std::string(64, 'a');
    v.root_hash = std::string(64, 'b');
    return v;
}

TEST(VerityParams, TableLineAsTheKernelDocumentsIt) {
    auto t = verity_table(sample(), "/dev/loop0", "/dev/loop1");
    ASSERT_TRUE(t.ok()) << t.error().message;
    EXPECT_EQ(*t, "1 /dev/loop0 /dev/loop1 4096 4096 12345 0 sha256 " + std::string(64, 'b') + " " +
                      std::string(64, 'a'));
    EXPECT_EQ(verity_sectors(sample()), 12345u * 8);
    VerityInfo v = sample();
    v.salt = "";
    v.hash_offset = 8192;
    EXPECT_EQ(verity_table(v, "a", "b")->substr(0, 31), "1 a b 4096 4096 12345 2 sha256 ");
    EXPECT_EQ(verity_table(v, "a", "b")->back(), '-') << "no salt is '-'";
}

TEST(VerityParams, TableRefusesWhatCannotMakeADevice) {
    VerityInfo v = sample();
    v.algorithm = "md5";
    EXPECT_FALSE(verity_table(v, "a", "b").ok());
    v = sample();
    v.data_blocks = 0;
    EXPECT_FALSE(verity_table(v, "a", "b").ok());
}

TEST(VerityParams, TreeSizesPerLevel) {
    EXPECT_EQ(verity_tree_bytes(1, 4096), 0u);           // no levels
    EXPECT_EQ(verity_tree_bytes(128, 4096), 4096u);      // one block of 128 digests
    EXPECT_EQ(verity_tree_bytes(129, 4096), 3u * 4096);  // 2 leaf blocks + 1 above
    EXPECT_EQ(verity_tree_bytes(16385, 4096), (129u + 2u + 1u) * 4096);
}

TEST(VerityParams, FilesMustFitTheSignedParameters) {
    VerityInfo v = sample();
    EXPECT_TRUE(check_verity_files(v, 12345u * 4096, verity_tree_bytes(12345, 4096)).ok());
    auto s = check_verity_files(v, 12345u * 4096 + 1, verity_tree_bytes(12345, 4096));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::verification);
    EXPECT_NE(s.error().message.find("root.squashfs is 50565121 bytes, the manifest says 50565120"),
              std::string::npos)
        << s.error().message;
    s = check_verity_files(v, 12345u * 4096, 4096);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("root.verity is 4096 bytes, the hash tree needs"), std::string::npos);
}

std::vector<std::uint8_t> superblock(std::uint64_t bytes_used, std::uint64_t inode_table) {
    std::vector<std::uint8_t> sb(96, 0);
    auto put = [&](std::size_t at, std::uint64_t v, int n) {
        for (int i = 0; i < n; ++i) sb[at + i] = static_cast<std::uint8_t>(v >> (8 * i));
    };
    put(0, 0x73717368, 4);
    put(28, 4, 2);
    put(40, bytes_used, 8);
    put(64, inode_table, 8);
    return sb;
}

TEST(VerityParams, SquashfsMetadataRangeInWholeBlocks) {
    auto r = squashfs_metadata_range(superblock(1000000, 900000), 1003520, 4096);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->offset, 897024u);  // 900000 rounded down to 4096
    EXPECT_EQ(r->offset + r->length, 1003520u);
    EXPECT_FALSE(squashfs_metadata_range(superblock(2000000, 900000), 1003520, 4096).ok());
    auto bad = superblock(1000000, 900000);
    bad[0] ^= 1;
    auto e = squashfs_metadata_range(bad, 1003520, 4096);
    ASSERT_FALSE(e.ok());
    EXPECT_NE(e.error().message.find("bad magic"), std::string::npos);
}

TEST(VerityParams, NfsSourceAndMountOptions) {
    auto s = parse_nfs_source("10.0.0.1:/netbootd/demo-1.0-0123456789ab");
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->server, "10.0.0.1");
    EXPECT_EQ(s->path, "/netbootd/demo-1.0-0123456789ab");
    EXPECT_FALSE(parse_nfs_source("nas.lab:/x").ok()) << "no resolver in the initramfs";
    EXPECT_FALSE(parse_nfs_source("10.0.0.1:relative").ok());
    EXPECT_FALSE(parse_nfs_source("10.0.0.1:/a,b").ok());
    EXPECT_EQ(nfs_mount_options("10.0.0.1", "10.0.0.50"),
              "vers=4,proto=tcp,port=2049,hard,nocto,actimeo=3600,addr=10.0.0.1,clientaddr=10.0.0.50");
}

}  // namespace
}  // namespace pib::client
