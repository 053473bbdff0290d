// Internal to the tree scanners: what both need to produce comparable output.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "squashfs/tree.hpp"

namespace pib::squashfs_detail {

/// A scanned entry plus the identity of its inode (st_dev/st_ino on disk,
/// the inode number in an image), which tells hard links apart.
struct ScannedEntry {
    TreeEntry entry;
    std::pair<std::uint64_t, std::uint64_t> inode;
};

/// Sorts by path and sets link_group on regular files with nlink > 1 to the
/// first path (in that order) of their inode. Both scanners end with this, so
/// a tree and its image compare equal however each side picked the names.
std::vector<TreeEntry> sort_and_group(std::vector<ScannedEntry> items);

}  // namespace pib::squashfs_detail
