// scan_directory(): the on-disk side of the tree comparison (the image side
// is in tree_image.cpp).
#include "squashfs/tree.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"
#include "squashfs/disk_meta.hpp"
#include "squashfs/tree_detail.hpp"

namespace pib {
namespace squashfs_detail {

std::vector<TreeEntry> sort_and_group(std::vector<ScannedEntry> items) {
    std::sort(items.begin(), items.end(), [](const ScannedEntry& a, const ScannedEntry& b) {
        return a.entry.path < b.entry.path;
    });
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> first_name;
    std::vector<TreeEntry> out;
    out.reserve(items.size());
    for (auto& item : items) {
        TreeEntry& e = item.entry;
        if (S_ISREG(e.mode) && e.nlink > 1)
            e.link_group = first_name.try_emplace(item.inode, e.path).first->second;
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace squashfs_detail

namespace {

using squashfs_detail::ScannedEntry;

Result<ScannedEntry> describe(const std::string& disk_path, std::string tree_path,
                              const struct stat& st, const TreeOptions& opts) {
    ScannedEntry item;
    TreeEntry& e = item.entry;
    e.path = std::move(tree_path);
    e.mode = st.st_mode;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.mtime = opts.include_mtime ? static_cast<std::int64_t>(st.st_mtim.tv_sec) : 0;
    // Directory link counts depend on the filesystem (btrfs says 1); only
    // non-directories carry a comparable one.
    if (!S_ISDIR(st.st_mode)) e.nlink = static_cast<std::uint32_t>(st.st_nlink);
    item.inode = {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    if (S_ISREG(st.st_mode)) {
        e.size = static_cast<std::uint64_t>(st.st_size);
        if (opts.hash_contents) {
            auto digest = sha256_file(disk_path);
            if (!digest) return digest.error();
            e.sha256 = digest->sha256;
        }
    } else if (S_ISLNK(st.st_mode)) {
        auto target = squashfs_detail::read_link(disk_path, static_cast<std::size_t>(st.st_size));
        if (!target) return target.error();
        e.link_target = std::move(*target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        e.rdev_major = major(st.st_rdev);
        e.rdev_minor = minor(st.st_rdev);
    }
    auto xattrs = squashfs_detail::read_disk_xattrs(disk_path);
    if (!xattrs) return xattrs.error();
    for (auto& [key, value] : *xattrs) e.xattrs.emplace(std::move(key), std::move(value));
    return item;
}

}  // namespace

Result<std::vector<TreeEntry>> scan_directory(const std::filesystem::path& dir,
                                              const TreeOptions& opts) {
    const std::string root = dir.string();
    struct stat st {};
    // Like write_squashfs: the root itself may be reached through a symlink.
    if (::stat(root.c_str(), &st) != 0)
        return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_message("stat " + root));
    if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid, root + ": not a directory");

    std::vector<ScannedEntry> items;
    auto top = describe(root, "/", st, opts);
    if (!top) return top.error();
    items.push_back(std::move(*top));

    // (disk path, tree path) of directories still to list.
    std::vector<std::pair<std::string, std::string>> pending{{root, ""}};
    while (!pending.empty()) {
        auto [disk, tree] = std::move(pending.back());
        pending.pop_back();
        auto names = squashfs_detail::list_dir_sorted(disk);
        if (!names) return names.error();
        for (const auto& name : *names) {
            std::string child_disk = disk.back() == '/' ? disk + name : disk + "/" + name;
            std::string child_tree = tree + "/" + name;
            if (::lstat(child_disk.c_str(), &st) != 0)
                return fail(Errc::io, errno_message("lstat " + child_disk));
            auto item = describe(child_disk, child_tree, st, opts);
            if (!item) return item.error();
            items.push_back(std::move(*item));
            if (S_ISDIR(st.st_mode))
                pending.emplace_back(std::move(child_disk), std::move(child_tree));
        }
    }
    return squashfs_detail::sort_and_group(std::move(items));
}

}  // namespace pib
