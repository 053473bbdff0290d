#include "squashfs/source_tree.hpp"

#include <sqfs/xattr.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "common/fs.hpp"
#include "squashfs/disk_meta.hpp"

namespace pib::squashfs_detail {
namespace {

std::string join(const std::string& dir, const std::string& name) {
    if (!dir.empty() && dir.back() == '/') return dir + name;
    return dir + "/" + name;
}

/// squashfs has key prefixes for user., trusted. and security. only;
/// sqfs_xattr_writer_add() answers SQFS_ERROR_UNSUPPORTED for anything else
/// (system.posix_acl_access/default, which mmdebstrap leaves under
/// /var/log/journal). Those are reported, never dropped silently.
/// Warnings name the path inside the image (`/var/log/journal`), not the
/// staging directory it happens to be read from.
Status read_xattrs(SourceNode& node, SourceTree& tree, const Logger& log, std::size_t root_len) {
    auto all = read_disk_xattrs(node.path);
    if (!all) return all.error();
    for (auto& [key, value] : *all) {
        if (sqfs_get_xattr_prefix_id(key.c_str()) < 0) {
            std::string image_path = node.path.size() > root_len ? node.path.substr(root_len) : "/";
            if (image_path.front() != '/') image_path.insert(0, "/");
            log.event(Level::warn, "squashfs", "xattr_skipped")
                .kv("path", image_path)
                .kv("key", key);
            tree.warnings.push_back(
                image_path + ": xattr " + key +
                " not stored: squashfs holds only user., trusted. and security. xattrs");
            continue;
        }
        node.xattrs.emplace_back(std::move(key), std::move(value));
    }
    return {};
}

/// xattrs belong to the inode: read them once per hard-linked inode (and warn
/// once), whichever name the walk meets first; later names copy them.
struct ScanState {
    const Exclude& exclude;
    const Logger& log;
    std::map<std::pair<dev_t, ino_t>, std::uint32_t> first_name;
    std::vector<std::uint32_t> pending;
    std::size_t root_len = 0;  ///< length of the source root's path, to name image paths
};

Status fill_node(SourceNode& node, const struct stat& st, SourceTree& tree, ScanState& state) {
    node.mode = st.st_mode;
    node.uid = st.st_uid;
    node.gid = st.st_gid;
    node.mtime = st.st_mtim.tv_sec;
    node.dev = st.st_dev;
    node.ino = st.st_ino;
    node.maybe_linked = !S_ISDIR(st.st_mode) && st.st_nlink > 1;
    if (S_ISREG(st.st_mode)) node.size = static_cast<std::uint64_t>(st.st_size);
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        node.rdev_major = major(st.st_rdev);
        node.rdev_minor = minor(st.st_rdev);
        // The on-disk devno has 12 bits of major and 20 of minor.
        if (node.rdev_major > 0xfff || node.rdev_minor > 0xfffff)
            return fail(Errc::unsupported, node.path + ": device number " +
                                               std::to_string(node.rdev_major) + ":" +
                                               std::to_string(node.rdev_minor) +
                                               " does not fit squashfs's 12:20 bit encoding");
    }
    if (S_ISLNK(st.st_mode)) {
        auto target = read_link(node.path, static_cast<std::size_t>(st.st_size));
        if (!target) return target.error();
        node.link_target = std::move(*target);
    }
    if (node.maybe_linked) {
        auto [it, fresh] = state.first_name.emplace(std::make_pair(node.dev, node.ino),
                                                    static_cast<std::uint32_t>(tree.nodes.size()));
        if (!fresh) {
            node.xattrs = tree.nodes[it->second].xattrs;
            return {};
        }
    }
    return read_xattrs(node, tree, state.log, state.root_len);
}

Status scan_dir(SourceTree& tree, std::uint32_t dir_index, ScanState& state) {
    const std::string dir_path = tree.nodes[dir_index].path;
    auto listing = list_dir_sorted(dir_path);
    if (!listing) return listing.error();
    std::vector<std::string>& names = *listing;
    std::vector<std::uint32_t> children;
    children.reserve(names.size());
    for (auto& name : names) {
        SourceNode node;
        node.path = join(dir_path, name);
        node.name = std::move(name);
        node.parent = dir_index;
        struct stat st {};
        if (::lstat(node.path.c_str(), &st) != 0)
            return fail(Errc::io, errno_message("lstat " + node.path));
        const Exclude& ex = state.exclude;
        if (ex.active && !S_ISDIR(st.st_mode) && st.st_dev == ex.dev && st.st_ino == ex.ino) {
            state.log.event(Level::info, "squashfs", "output_excluded").kv("path", node.path);
            continue;
        }
        PIB_TRY(fill_node(node, st, tree, state));
        auto index = static_cast<std::uint32_t>(tree.nodes.size());
        if (S_ISDIR(st.st_mode)) state.pending.push_back(index);
        tree.nodes.push_back(std::move(node));
        children.push_back(index);
    }
    tree.nodes[dir_index].children = std::move(children);
    return {};
}

/// Numbers inodes so that every directory follows its entries: subdirectories'
/// contents first, then this directory's entries in name order. Siblings get
/// neighbouring numbers, which keeps libsquashfs's delta-encoded directory
/// headers few. A hard-linked inode belongs to the name numbered first.
class Numberer {
  public:
    explicit Numberer(SourceTree& tree) : tree_(tree) {}

    void run() {
        number_children(0);
        assign(0);
    }

  private:
    void number_children(std::uint32_t dir) {
        for (std::uint32_t c : tree_.nodes[dir].children)
            if (S_ISDIR(tree_.nodes[c].mode)) number_children(c);
        for (std::uint32_t c : tree_.nodes[dir].children) {
            SourceNode& n = tree_.nodes[c];
            if (S_ISDIR(n.mode)) {
                ++tree_.nodes[dir].subdirs;
            } else if (n.maybe_linked) {
                auto [it, fresh] = owners_.emplace(std::make_pair(n.dev, n.ino), c);
                if (!fresh) {
                    n.owner = it->second;
                    ++tree_.nodes[it->second].nlink;
                    ++tree_.hard_links;
                    continue;
                }
            }
            assign(c);
        }
    }

    void assign(std::uint32_t index) {
        SourceNode& n = tree_.nodes[index];
        n.owner = index;
        tree_.inode_order.push_back(index);
        n.inode_num = static_cast<std::uint32_t>(tree_.inode_order.size());
        if (S_ISREG(n.mode)) {
            ++tree_.file_count;
            tree_.file_bytes += n.size;
        }
    }

    SourceTree& tree_;
    std::map<std::pair<dev_t, ino_t>, std::uint32_t> owners_;
};

}  // namespace

Result<SourceTree> scan_source(const std::string& src, const Exclude& exclude, const Logger& log) {
    struct stat st {};
    if (::stat(src.c_str(), &st) != 0) {
        Errc kind = errno == ENOENT ? Errc::not_found : Errc::io;
        return fail(kind, errno_message("stat " + src));
    }
    if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid, src + ": not a directory");

    SourceTree tree;
    ScanState state{exclude, log, {}, {0}, src.size()};
    SourceNode root;
    root.path = src;
    PIB_TRY(fill_node(root, st, tree, state));
    tree.nodes.push_back(std::move(root));

    while (!state.pending.empty()) {
        std::uint32_t dir = state.pending.back();
        state.pending.pop_back();
        PIB_TRY(scan_dir(tree, dir, state));
    }
    if (tree.nodes.size() >= 0xffffffffu)
        return fail(Errc::unsupported, src + ": too many inodes for squashfs");
    Numberer(tree).run();
    return tree;
}

}  // namespace pib::squashfs_detail
