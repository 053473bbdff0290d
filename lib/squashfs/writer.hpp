// Packs a staged directory tree into a squashfs image in-process with
// libsquashfs (squashfs-tools-ng). The library has no "pack a directory" call;
// the tree walk, inode numbering and table layout are ours.
//
// Output is a pure function of the tree's content, owners, modes, xattrs and
// the options: directory entries are byte-sorted, inode numbers assigned in a
// fixed walk order, mtimes clamped to `mtime_clamp`, and worker count does not
// change the bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"

namespace pib {

struct SquashfsOptions {
    std::uint32_t block_size = 131072;   ///< power of two, 4 KiB .. 1 MiB
    int zstd_level = 15;                 ///< 1..22
    unsigned workers = 0;                ///< compression threads; 0 = every core
    std::size_t max_backlog = 0;         ///< blocks in flight; 0 = 8 MiB of blocks, at least 4 per worker (bounds memory)
    /// Every mtime later than this becomes this; also the superblock time.
    std::int64_t mtime_clamp = 0;
    bool exportable = true;              ///< write an NFS export table (needed for NFS serving)
};

struct SquashfsStats {
    std::uint64_t inodes = 0;
    std::uint64_t files = 0;
    std::uint64_t directories = 0;
    std::uint64_t symlinks = 0;
    std::uint64_t devices = 0;        ///< char + block devices
    std::uint64_t other = 0;          ///< fifos, sockets
    std::uint64_t hard_links = 0;     ///< extra directory entries pointing at an inode already seen
    std::uint64_t bytes_in = 0;       ///< file content bytes read
    std::uint64_t bytes_out = 0;      ///< image size
    /// Things kept out of the image, each named (e.g. an xattr squashfs cannot hold).
    std::vector<std::string> warnings;
};

/// Progress while packing: called from the calling thread, at most every few ms.
struct SquashfsProgress {
    std::uint64_t files_done = 0, files_total = 0;
    std::uint64_t bytes_done = 0, bytes_total = 0;
};
using SquashfsProgressFn = std::function<void(const SquashfsProgress&)>;

/// Writes `src` (which must be a directory) to `out` (created or truncated).
/// On error the partial output file is removed.
Result<SquashfsStats> write_squashfs(const std::filesystem::path& src,
                                     const std::filesystem::path& out,
                                     const SquashfsOptions& opts, const Logger& log,
                                     const SquashfsProgressFn& progress = {});

}  // namespace pib
