// Getting base trees and remote inputs onto the build host:
// downloads (libcurl, verified against the recipe's sha256), tarball
// extraction, directory copies and disk-image import through libguestfs
// (no loop mounts: the image is opened read-only in the libguestfs appliance).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "builder/recipe.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "release/manifest.hpp"

namespace pib {

/// Makes a Source available as a local file. Local paths are returned as is
/// (after checking the sha256 when the recipe gives one); URLs are downloaded
/// into `cache_dir` (named by the URL's digest, reused when present and the
/// sha256 matches) with retries on transient errors. The returned input
/// records the location and the digest of the bytes actually used.
struct LocalInput {
    std::filesystem::path path;
    BuildInput input;
};
Result<LocalInput> fetch_source(const Source& src, const std::string& kind,
                                const std::filesystem::path& cache_dir, const Logger& log);

/// Extracts a tar archive (any compression GNU tar knows) into `root`,
/// keeping numeric owners, modes, device nodes, hard links and xattrs.
Status extract_tarball(const std::filesystem::path& tarball, const std::filesystem::path& root,
                       const Logger& log);

/// Copies a directory tree into `root` keeping owners, modes, device nodes,
/// hard links and xattrs.
Status copy_tree(const std::filesystem::path& src, const std::filesystem::path& root,
                 const Logger& log);

/// What import_image found in the image.
struct ImportedImage {
    int root_partition = 0;   ///< 1-based index used for the root
    int boot_partition = 0;   ///< 1-based index used for boot/firmware, 0 if none
    std::string root_fstype;
    std::string boot_fstype;
};

/// Imports a disk image through libguestfs: the root partition's tree into
/// `root` (owners, modes, links, device nodes, xattrs kept) and the boot
/// partition's files into `boot` (the Raspberry Pi firmware partition).
/// Partitions are chosen as ImageBase says, or detected: boot = first FAT
/// partition, root = largest ext2/3/4, xfs or btrfs partition.
Result<ImportedImage> import_image(const std::filesystem::path& image, const ImageBase& spec,
                                   const std::filesystem::path& root,
                                   const std::filesystem::path& boot, const Logger& log);

}  // namespace pib
