// Internal: reading directories and file metadata from disk without following
// symlinks (names, xattrs, link targets), shared by the writer's scan and
// scan_directory().
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace pib::squashfs_detail {

using XattrList = std::vector<std::pair<std::string, std::string>>;

/// Every xattr of `path` (the link itself for symlinks), sorted by key: the
/// order llistxattr() returns is filesystem-specific and must not leak into
/// images or comparisons. A filesystem without xattr support yields none.
Result<XattrList> read_disk_xattrs(const std::string& path);

/// Names in a directory except "." and "..", byte-sorted: squashfs needs
/// directory entries in that order (the kernel binary-searches the index,
/// unsquashfs relies on it), and std::string compares as unsigned bytes.
Result<std::vector<std::string>> list_dir_sorted(const std::string& path);

/// Target of the symlink `path`; `hint` is its lstat() size (grown if short).
Result<std::string> read_link(const std::string& path, std::size_t hint);

}  // namespace pib::squashfs_detail
