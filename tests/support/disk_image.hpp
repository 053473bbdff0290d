// Builds an MBR disk image the way SD-card images are laid out (FAT32 boot
// partition + ext4 root) with the standard tools (sfdisk, mkfs.vfat + mtools,
// mkfs.ext4 -d, dd) and no libguestfs, so that importing it is checked
// against something we did not write.
#pragma once

#include <filesystem>
#include <string>

namespace pib::test {

struct DiskLayout {
    int fat_mib = 64;     ///< partition 1, type c (FAT32 LBA), at 1 MiB
    int root_mib = 235;   ///< partition 2, type 83, right after
};

/// Writes `image` with the files of `fat_src` (recursively) on partition 1 and
/// the tree `root_stage` (owners, modes, links, devices, xattrs) as ext4 on
/// partition 2. Returns "" on success, else what failed.
std::string make_disk_image(const std::filesystem::path& image, const std::filesystem::path& fat_src,
                            const std::filesystem::path& root_stage, const DiskLayout& layout = {});

/// Writes `in` compressed with `tool` ("xz", "zstd" or "gzip", at a fast level)
/// to `out`, the way distributions ship images. Returns "" on success, else what failed.
std::string compress_file(const std::filesystem::path& in, const std::filesystem::path& out,
                          const std::string& tool);

}  // namespace pib::test
