// Internal to write_squashfs: the in-memory model of the directory being
// packed. One lstat() walk collects everything the writer needs, so the image
// describes one consistent snapshot and the progress totals come for free.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"

namespace pib::squashfs_detail {

struct SourceNode {
    std::string name;                     ///< entry name; "" for the root
    std::string path;                     ///< path on disk, for open() and messages
    std::uint32_t parent = 0;             ///< node index of the containing directory
    std::vector<std::uint32_t> children;  ///< node indices, byte-sorted by name
    std::uint32_t mode = 0, uid = 0, gid = 0;
    std::int64_t mtime = 0;
    std::uint64_t size = 0;  ///< regular files
    std::uint32_t rdev_major = 0, rdev_minor = 0;
    dev_t dev = 0;
    ino_t ino = 0;
    bool maybe_linked = false;  ///< non-directory with st_nlink > 1
    std::string link_target;    ///< symlinks
    /// Representable xattrs, sorted by key (llistxattr order is filesystem-specific).
    std::vector<std::pair<std::string, std::string>> xattrs;

    // Filled by number_inodes():
    std::uint32_t owner = 0;      ///< node that carries the inode (itself unless a hard link)
    std::uint32_t inode_num = 0;  ///< 1-based; 0 for hard-link names
    std::uint32_t nlink = 1;      ///< owners: names of the inode inside the tree
    std::uint32_t subdirs = 0;    ///< directories: child directories
};

struct SourceTree {
    std::vector<SourceNode> nodes;  ///< nodes[0] is the root
    /// Inode number i+1 -> node index. Every directory comes after all of its
    /// entries' inodes, so it can be written once their references are known.
    std::vector<std::uint32_t> inode_order;
    std::uint64_t file_count = 0;  ///< regular-file inodes
    std::uint64_t file_bytes = 0;  ///< their st_size sum (progress total)
    std::uint64_t hard_links = 0;  ///< names beyond the first of an inode
    std::vector<std::string> warnings;
};

/// A file to leave out of the walk (the image being written, when it lies inside src).
struct Exclude {
    dev_t dev = 0;
    ino_t ino = 0;
    bool active = false;
};

/// Walks `src` without following symlinks (only `src` itself may be one) and
/// numbers the inodes. xattrs squashfs cannot hold are skipped, each one logged
/// as a warn event and listed in `warnings`.
Result<SourceTree> scan_source(const std::string& src, const Exclude& exclude, const Logger& log);

}  // namespace pib::squashfs_detail
