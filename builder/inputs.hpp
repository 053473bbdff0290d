// Getting base trees and remote inputs onto the build host:
// downloads (libcurl, verified against the recipe's sha256), tarball
// extraction, directory copies and disk-image import through libguestfs
// (no loop mounts: the image is opened read-only in the libguestfs appliance).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "builder/recipe.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "release/manifest.hpp"

namespace pib {

/// A Source made available as a local file, and what the manifest records of it.
struct LocalInput {
    std::filesystem::path path;
    BuildInput input;
};

/// Knobs for downloads; the defaults are what pibuild uses.
struct FetchOptions {
    int retries = 3;                          ///< extra attempts after a transient failure
    std::chrono::milliseconds backoff{1000};  ///< first wait; doubles on each retry
    long connect_timeout_s = 30;
    long stall_timeout_s = 60;  ///< abort when no byte arrives for this long
};

/// Makes a Source available as a local file. Local paths are returned as is
/// (after checking the sha256 when the recipe gives one; directories have no
/// digest). URLs are downloaded into `cache_dir/<sha256(url)>` (through a
/// `.part` file renamed when complete), following redirects, failing on HTTP
/// status >= 400 and retrying transient errors with doubling back-off. A cached
/// file is reused only when the recipe gives a sha256 and the file matches it;
/// without one the URL is downloaded again. A digest mismatch is
/// Errc::verification naming the expected and actual digests. The returned
/// input records the location and the digest of the bytes actually used.
Result<LocalInput> fetch_source(const Source& src, const std::string& kind,
                                const std::filesystem::path& cache_dir, const Logger& log,
                                const FetchOptions& opts = {});

/// Extracts a tar archive (gzip, bzip2, xz, zstd: GNU tar detects them by
/// magic) into `root`, keeping numeric owners, modes, device nodes, hard links,
/// xattrs and ACLs. Archives with absolute or `..` member names are refused
/// before anything is extracted (Errc::corrupted naming the members).
Status extract_tarball(const std::filesystem::path& tarball, const std::filesystem::path& root,
                       const Logger& log);

/// Copies a directory tree into `root` keeping owners, modes, device nodes,
/// hard links, xattrs and ACLs (failing, not warning, when an xattr cannot be kept).
Status copy_tree(const std::filesystem::path& src, const std::filesystem::path& root,
                 const Logger& log);

/// What import_image found in the image.
struct ImportedImage {
    int root_partition = 0;  ///< 1-based index used for the root
    int boot_partition = 0;  ///< 1-based index used for boot/firmware, 0 if none
    std::string root_fstype;
    std::string boot_fstype;
};

/// Knobs for import_image; the defaults are safe on any host.
struct ImportOptions {
    /// Let libguestfs use KVM, relaunching under TCG if that launch fails. Off
    /// by default: where /dev/kvm exists but cannot run guests, libguestfs
    /// aborts rather than falling back (docs/decisions.md).
    bool try_kvm = false;

    /// The defaults, with try_kvm set when the environment has PIBUILD_GUESTFS_KVM=1.
    static ImportOptions from_environment();
};

/// Imports a disk image through libguestfs: the root partition's tree into
/// `root` (owners, modes, links, device nodes, xattrs kept) and the boot
/// partition's files into `boot` (the Raspberry Pi firmware partition).
/// Partitions are chosen as ImageBase says, or detected: boot = first FAT
/// partition, root = largest ext2/3/4, xfs or btrfs partition. Files from a
/// FAT boot partition become root:root, 0644 (directories 0755). The image
/// must be a raw disk with an MBR or GPT partition table, possibly xz-, zstd-
/// or gzip-compressed (recognised by content, not name): a compressed image is
/// first decompressed into a scratch directory beside `root`, removed again on
/// every way out. qcow2/vmdk/vhdx/vdi and other archives are refused with a
/// hint, before anything is created or the appliance is launched.
Result<ImportedImage> import_image(const std::filesystem::path& image, const ImageBase& spec,
                                   const std::filesystem::path& root,
                                   const std::filesystem::path& boot, const Logger& log,
                                   const ImportOptions& opts = ImportOptions::from_environment());

// ---- pure helpers, exposed for tests ------------------------------------

/// What an image file's first bytes say it is.
enum class ImageFormat {
    raw,      ///< 0x55AA at byte 510: an MBR, or the protective MBR in front of a GPT
    xz,       ///< compressed raw image, decompressed before import (Raspberry Pi OS: .img.xz)
    zstd,     ///< compressed raw image, decompressed before import
    gzip,     ///< compressed raw image, decompressed before import
    foreign,  ///< another disk-image or archive format (qcow2, vmdk, zip, bzip2, ...): refused
    unknown,  ///< none of these (a bare filesystem, a short or empty file): refused
};

/// The verdict of probe_image.
struct ImageProbe {
    ImageFormat format = ImageFormat::unknown;
    std::string_view what;  ///< "xz-compressed", "a qcow2 image", ...; "" for raw and unknown
    std::string_view hint;  ///< for foreign: how to turn it into something importable
};

/// Classifies an image by its first bytes (`head`; 512 are needed to see a
/// partition table). Magic numbers win over the 0x55AA signature.
ImageProbe probe_image(std::string_view head);

/// One partition as libguestfs reports it.
struct PartitionInfo {
    int number = 0;          ///< 1-based partition number (sdaN)
    std::string device;      ///< appliance device, e.g. /dev/sda2
    std::string fstype;      ///< blkid type ("vfat", "ext4", ...), "" if none
    std::uint64_t size = 0;  ///< bytes
};

/// The partitions import_image will use.
struct PartitionChoice {
    const PartitionInfo* root = nullptr;
    const PartitionInfo* boot = nullptr;  ///< null when there is no boot partition
};

/// Applies the selection policy of import_image to a partition list
/// (Errc::not_found: no root partition, or a partition number not in the image;
/// Errc::invalid: root and boot are the same partition, or the chosen one has no filesystem).
Result<PartitionChoice> choose_partitions(const std::vector<PartitionInfo>& parts,
                                          const ImageBase& spec);

/// Why a tar member name may not be extracted ("absolute path", "'..' component"),
/// or "" when it is safe.
std::string unsafe_member_reason(std::string_view name);

}  // namespace pib
