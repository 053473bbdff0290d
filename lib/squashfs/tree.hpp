// A flat, comparable description of a file tree, read either from a directory
// on disk or from a squashfs image (with libsquashfs). Tests compare the two;
// `pibuild inspect` summarises it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pib {

struct TreeEntry {
    std::string path;            ///< "/" for the root, else "/etc/hostname"
    std::uint32_t mode = 0;      ///< st_mode: type and permission bits
    std::uint32_t uid = 0, gid = 0;
    std::int64_t mtime = 0;
    std::uint64_t size = 0;      ///< regular files only
    std::string link_target;     ///< symlinks only
    std::uint32_t rdev_major = 0, rdev_minor = 0;  ///< devices only
    std::uint32_t nlink = 1;     ///< non-directories: number of names of the inode
    std::string link_group;      ///< regular files with nlink>1: the first path (sorted) of the inode
    std::map<std::string, std::string> xattrs;
    std::string sha256;          ///< regular files, when contents were hashed
    bool operator==(const TreeEntry&) const = default;
};

struct TreeOptions {
    bool hash_contents = true;
    bool include_mtime = true;
};

/// Walks a directory (not following symlinks), sorted by path.
Result<std::vector<TreeEntry>> scan_directory(const std::filesystem::path& dir,
                                              const TreeOptions& opts = {});

/// Reads a squashfs image with libsquashfs, sorted by path.
Result<std::vector<TreeEntry>> scan_squashfs(const std::filesystem::path& image,
                                             const TreeOptions& opts = {});

/// Superblock facts of an image, for `pibuild inspect`.
struct SquashfsInfo {
    std::string compressor;
    std::uint32_t block_size = 0;
    std::uint32_t inodes = 0;
    std::uint64_t bytes_used = 0;
    std::int64_t mtime = 0;
    bool has_xattrs = false;
    bool exportable = false;
};
Result<SquashfsInfo> squashfs_info(const std::filesystem::path& image);

/// Reads one file's bytes out of an image (path like "/etc/os-release").
Result<std::string> squashfs_read_file(const std::filesystem::path& image, const std::string& path);

}  // namespace pib
