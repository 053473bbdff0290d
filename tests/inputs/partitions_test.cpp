// The partition selection policy of import_image, without libguestfs.
#include <gtest/gtest.h>

#include "builder/inputs.hpp"

namespace pib {
namespace {

constexpr std::uint64_t MiB = 1024 * 1024;

PartitionInfo part(int n, std::string fstype, std::uint64_t mib) {
    return PartitionInfo{n, "/dev/sda" + std::to_string(n), std::move(fstype), mib * MiB};
}

ImageBase spec(std::optional<int> root = {}, std::optional<int> boot = {}) {
    ImageBase s;
    s.root_partition = root;
    s.boot_partition = boot;
    return s;
}

TEST(ChoosePartitions, RaspberryPiOsLayout) {
    std::vector<PartitionInfo> parts{part(1, "vfat", 512), part(2, "ext4", 4000)};
    auto c = choose_partitions(parts, spec());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->root->number, 2);
    ASSERT_NE(c->boot, nullptr);
    EXPECT_EQ(c->boot->number, 1);
}

TEST(ChoosePartitions, LargestLinuxFilesystemIsRootFirstFatIsBoot) {
    std::vector<PartitionInfo> parts{
        part(1, "", 1),         part(2, "vfat", 256), part(3, "ext2", 100),  part(4, "vfat", 64),
        part(5, "btrfs", 9000), part(6, "xfs", 8000), part(7, "swap", 20000)};
    auto c = choose_partitions(parts, spec());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->root->number, 5);
    EXPECT_EQ(c->boot->number, 2);
}

TEST(ChoosePartitions, NoFatMeansNoBoot) {
    std::vector<PartitionInfo> parts{part(1, "ext4", 100)};
    auto c = choose_partitions(parts, spec());
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->root->number, 1);
    EXPECT_EQ(c->boot, nullptr);
}

TEST(ChoosePartitions, ExplicitNumbersOverrideDetection) {
    std::vector<PartitionInfo> parts{part(1, "vfat", 256), part(2, "ext4", 100),
                                     part(3, "ext4", 5000), part(4, "vfat", 64)};
    auto c = choose_partitions(parts, spec(2, 4));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->root->number, 2);
    EXPECT_EQ(c->boot->number, 4);
}

TEST(ChoosePartitions, LogicalPartitionNumbersAreUsedAsIs) {
    // MBR logical partitions start at 5 whatever the number of primaries.
    std::vector<PartitionInfo> parts{part(1, "vfat", 256), part(5, "ext4", 1000)};
    auto c = choose_partitions(parts, spec(5));
    ASSERT_TRUE(c.ok()) << c.error().message;
    EXPECT_EQ(c->root->number, 5);
}

TEST(ChoosePartitions, NoRootPartition) {
    std::vector<PartitionInfo> parts{part(1, "vfat", 256), part(2, "swap", 1000)};
    auto c = choose_partitions(parts, spec());
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, Errc::not_found);
    EXPECT_NE(c.error().message.find("no root partition found"), std::string::npos)
        << c.error().message;
    EXPECT_NE(c.error().message.find("2 (swap, 1000 MiB)"), std::string::npos) << c.error().message;
}

TEST(ChoosePartitions, EmptyPartitionTable) {
    auto c = choose_partitions({}, spec());
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("partitions none"), std::string::npos) << c.error().message;
}

TEST(ChoosePartitions, OutOfRange) {
    std::vector<PartitionInfo> parts{part(1, "vfat", 256), part(2, "ext4", 1000)};
    for (int n : {0, 3, -1}) {
        auto c = choose_partitions(parts, spec(n));
        ASSERT_FALSE(c.ok());
        EXPECT_EQ(c.error().code, Errc::not_found);
        EXPECT_NE(
            c.error().message.find("root_partition " + std::to_string(n) + " is out of range"),
            std::string::npos)
            << c.error().message;
        EXPECT_NE(c.error().message.find("1 (vfat, 256 MiB), 2 (ext4, 1000 MiB)"),
                  std::string::npos)
            << c.error().message;
    }
    auto b = choose_partitions(parts, spec({}, 9));
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.error().message.find("boot_partition 9 is out of range"), std::string::npos);
}

TEST(ChoosePartitions, ChosenPartitionWithoutFilesystem) {
    std::vector<PartitionInfo> parts{part(1, "", 256), part(2, "ext4", 1000)};
    auto c = choose_partitions(parts, spec({}, 1));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, Errc::invalid);
    EXPECT_NE(c.error().message.find("no filesystem"), std::string::npos) << c.error().message;
}

TEST(ChoosePartitions, RootAndBootTheSame) {
    std::vector<PartitionInfo> parts{part(1, "vfat", 256), part(2, "ext4", 1000)};
    auto c = choose_partitions(parts, spec(2, 2));
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, Errc::invalid);
    // An explicit FAT root leaves no FAT partition for boot: that is fine.
    auto fat_root = choose_partitions(parts, spec(1));
    ASSERT_TRUE(fat_root.ok()) << fat_root.error().message;
    EXPECT_EQ(fat_root->boot, nullptr);
}

}  // namespace
}  // namespace pib
