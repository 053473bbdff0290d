// The pure half of pib-init's dm-verity root (the ioctls are dm_verity.hpp):
// the kernel "verity" table line built from the signed manifest, the checks
// that the files on the NFS export can hold what the manifest says, and where
// a squashfs keeps the metadata a mount reads. Testable on any host.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.hpp"
#include "release/manifest.hpp"

namespace pib::client {

/// Size in bytes of the hash tree for `data_blocks` (all levels, each padded
/// to whole hash blocks; 0 for a single block), as builder/verity_tree.cpp
/// writes it and dm-verity reads it.
std::uint64_t verity_tree_bytes(std::uint64_t data_blocks, std::uint64_t hash_block_size);

/// The manifest's verity object as a table line for target "verity"
/// (Documentation/admin-guide/device-mapper/verity.rst):
/// `1 <data_dev> <hash_dev> <data_bs> <hash_bs> <blocks> <hash_start> sha256 <root> <salt>`.
/// No optional arguments: a block that fails its hash is an I/O error (EIO),
/// never data. Errc::invalid when the parameters cannot make a device.
Result<std::string> verity_table(const VerityInfo& v, const std::string& data_dev,
                                 const std::string& hash_dev);

/// Length of the verity device in 512-byte sectors.
std::uint64_t verity_sectors(const VerityInfo& v);

/// Errc::verification when the files found do not fit the signed parameters:
/// data must be exactly data_blocks blocks, the hash file must hold the tree.
Status check_verity_files(const VerityInfo& v, std::uint64_t data_size, std::uint64_t hash_size);

/// The byte range a squashfs mount reads besides its superblock: from the
/// inode table to bytes_used, widened to whole `block` blocks. Read through
/// the verity device before mounting, it proves the metadata verifies.
/// Errc::corrupted when `superblock` (the first 96 bytes) is not a squashfs 4
/// superblock or its tables lie outside `device_size`.
struct ByteRange {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
Result<ByteRange> squashfs_metadata_range(std::span<const std::uint8_t> superblock,
                                          std::uint64_t device_size, std::uint64_t block);

/// `SERVER:/PATH` of pib.nfs: the server's dotted quad and the export path.
struct NfsSource {
    std::string server;
    std::string path;
};
Result<NfsSource> parse_nfs_source(std::string_view value);

/// The text options of mount(2) for an NFSv4 root ("ro" is the MS_RDONLY flag):
/// `vers=4,proto=tcp,addr=<server>,clientaddr=<client>,...`. Without
/// mount.nfs nothing resolves names, so both addresses are given.
std::string nfs_mount_options(const std::string& server, const std::string& client);

}  // namespace pib::client
