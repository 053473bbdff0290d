// The dm-verity hash tree of a release's root image, written by pibuild so a
// client can mount root.squashfs over NFS and have the kernel check every
// block as it is read (docs/nfs.md). The format is veritysetup's hash format
// 1 without a superblock (cryptsetup lib/verity/verity_hash.c, the kernel's
// Documentation/admin-guide/device-mapper/verity.rst); tests check the bytes
// against veritysetup itself.
#pragma once

#include <filesystem>

#include "common/result.hpp"
#include "release/manifest.hpp"

namespace pib {

/// How the tree is made. The salt is fixed by the caller: no randomness, so the
/// same image gives the same tree (reproducible builds).
struct VerityParams {
    std::int64_t data_block_size = 4096;
    std::int64_t hash_block_size = 4096;
    std::string salt_hex;  ///< "" = sha256 of the data file (the default: derived from the image)
};

/// Writes the hash tree of `data` (whose size must be a multiple of
/// data_block_size, at least one block) to `hash_out`, top level first, no
/// superblock (hash_offset 0). Returns what a manifest records; data_path and
/// hash_path are the file names of `data` and `hash_out`.
Result<VerityInfo> write_verity_tree(const std::filesystem::path& data,
                                     const std::filesystem::path& hash_out,
                                     const VerityParams& params = {});

}  // namespace pib
