// The image side of tree.hpp: scan_squashfs(), squashfs_info() and
// squashfs_read_file(), all through libsquashfs's readers.
#include <sqfs/block.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>
#include <sqfs/xattr.h>
#include <sqfs/xattr_reader.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"
#include "squashfs/sqfs_util.hpp"
#include "squashfs/tree.hpp"
#include "squashfs/tree_detail.hpp"

namespace pib {
namespace {

using sqfs_util::Handle;
using sqfs_util::library_error;

constexpr sqfs_u32 kNoXattr = 0xFFFFFFFFu;

/// An opened image. Heap-allocated and never moved: the readers keep plain
/// pointers to the file, the compressor and (the dir reader) the superblock.
struct Image {
    std::string path;
    sqfs_super_t super{};
    Handle<sqfs_file_t> file;
    Handle<sqfs_compressor_t> cmp;
    Handle<sqfs_id_table_t> ids;
    Handle<sqfs_dir_reader_t> dirs;
    Handle<sqfs_data_reader_t> data;
    Handle<sqfs_xattr_reader_t> xattrs;  // null when the image has none
};

Result<std::unique_ptr<Image>> open_image(const std::filesystem::path& path, bool readers) {
    auto img = std::make_unique<Image>();
    img->path = path.string();
    const std::string& p = img->path;
    img->file.reset(sqfs_open_file(p.c_str(), SQFS_FILE_OPEN_READ_ONLY));
    if (!img->file)
        return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_message("open " + p));
    int ret = sqfs_super_read(&img->super, img->file.get());
    if (ret) return library_error(p + ": superblock", ret);
    if (!readers) return img;

    sqfs_compressor_config_t cfg;
    auto id = static_cast<SQFS_COMPRESSOR>(img->super.compression_id);
    if ((ret = sqfs_compressor_config_init(&cfg, id, img->super.block_size,
                                           SQFS_COMP_FLAG_UNCOMPRESS)))
        return library_error(p + ": compressor", ret);
    sqfs_compressor_t* cmp = nullptr;
    if ((ret = sqfs_compressor_create(&cfg, &cmp))) return library_error(p + ": compressor", ret);
    img->cmp.reset(cmp);
    // The options block sits right after the superblock; some compressors
    // (xz filters, lzo algorithm) need it to decode.
    if (img->super.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) {
        if ((ret = img->cmp->read_options(img->cmp.get(), img->file.get())))
            return library_error(p + ": compressor options", ret);
    }
    img->ids.reset(sqfs_id_table_create(0));
    if (!img->ids) return library_error(p + ": id table", SQFS_ERROR_ALLOC);
    if ((ret = sqfs_id_table_read(img->ids.get(), img->file.get(), &img->super, img->cmp.get())))
        return library_error(p + ": id table", ret);
    img->dirs.reset(sqfs_dir_reader_create(&img->super, img->cmp.get(), img->file.get(), 0));
    img->data.reset(
        sqfs_data_reader_create(img->file.get(), img->super.block_size, img->cmp.get(), 0));
    if (!img->dirs || !img->data) return library_error(p + ": readers", SQFS_ERROR_ALLOC);
    if ((ret = sqfs_data_reader_load_fragment_table(img->data.get(), &img->super)))
        return library_error(p + ": fragment table", ret);
    if (!(img->super.flags & SQFS_FLAG_NO_XATTRS) && img->super.xattr_id_table_start != ~0ull) {
        img->xattrs.reset(sqfs_xattr_reader_create(0));
        if (!img->xattrs) return library_error(p + ": xattr reader", SQFS_ERROR_ALLOC);
        if ((ret = sqfs_xattr_reader_load(img->xattrs.get(), &img->super, img->file.get(),
                                          img->cmp.get())))
            return library_error(p + ": xattr table", ret);
    }
    return img;
}

/// Feeds a regular file's contents to `sink` one block at a time.
Status read_contents(Image& img, const sqfs_inode_generic_t* inode, const std::string& name,
                     const std::function<void(const sqfs_u8*, std::size_t)>& sink) {
    sqfs_u64 size = 0;
    if (sqfs_inode_get_file_size(inode, &size))
        return fail(Errc::invalid, img.path + ":" + name + ": not a file");
    const std::size_t bs = img.super.block_size;
    const std::size_t blocks = sqfs_inode_get_file_block_count(inode);
    std::vector<sqfs_u8> zeros;
    sqfs_u64 left = size;
    for (std::size_t i = 0; i < blocks && left > 0; ++i) {
        const std::size_t want = static_cast<std::size_t>(std::min<sqfs_u64>(left, bs));
        if (SQFS_IS_SPARSE_BLOCK(inode->extra[i])) {
            // A sparse block has no data on disk: it reads as zeros.
            zeros.resize(bs, 0);
            sink(zeros.data(), want);
        } else {
            size_t got = 0;
            sqfs_u8* buf = nullptr;
            int ret = sqfs_data_reader_get_block(img.data.get(), inode, i, &got, &buf);
            std::unique_ptr<sqfs_u8, sqfs_util::Free> owned(buf);
            if (ret)
                return library_error(img.path + ":" + name + ": block " + std::to_string(i), ret);
            if (got != want)
                return fail(Errc::corrupted,
                            img.path + ":" + name + ": short block " + std::to_string(i));
            sink(buf, got);
        }
        left -= want;
    }
    if (left > 0) {  // the tail lives in a fragment block
        size_t got = 0;
        sqfs_u8* buf = nullptr;
        int ret = sqfs_data_reader_get_fragment(img.data.get(), inode, &got, &buf);
        std::unique_ptr<sqfs_u8, sqfs_util::Free> owned(buf);
        if (ret) return library_error(img.path + ":" + name + ": fragment", ret);
        if (got != left)
            return fail(Errc::corrupted, img.path + ":" + name + ": fragment size mismatch");
        sink(buf, got);
    }
    return {};
}

Status read_xattrs(Image& img, const sqfs_inode_generic_t* inode, const std::string& name,
                   std::map<std::string, std::string>& out) {
    sqfs_u32 index = kNoXattr;
    if (sqfs_inode_get_xattr_index(inode, &index) || index == kNoXattr) return {};
    if (!img.xattrs)
        return fail(Errc::corrupted, img.path + ":" + name + ": xattr index without xattr table");
    sqfs_xattr_id_t desc;
    int ret = sqfs_xattr_reader_get_desc(img.xattrs.get(), index, &desc);
    if (!ret) ret = sqfs_xattr_reader_seek_kv(img.xattrs.get(), &desc);
    for (sqfs_u32 i = 0; !ret && i < desc.count; ++i) {
        sqfs_xattr_entry_t* key = nullptr;
        sqfs_xattr_value_t* value = nullptr;
        ret = sqfs_xattr_reader_read_key(img.xattrs.get(), &key);
        std::unique_ptr<sqfs_xattr_entry_t, sqfs_util::Free> key_owned(key);
        if (!ret) ret = sqfs_xattr_reader_read_value(img.xattrs.get(), key, &value);
        std::unique_ptr<sqfs_xattr_value_t, sqfs_util::Free> value_owned(value);
        if (ret) break;
        // On disk a key is a prefix id plus the rest of the name (key->size
        // counts only the rest); 1.2's read_key hands back the full,
        // NUL-terminated name with the prefix already put in front.
        const char* prefix =
            sqfs_get_xattr_prefix(static_cast<SQFS_XATTR_TYPE>(key->type & SQFS_XATTR_PREFIX_MASK));
        if (!prefix) return fail(Errc::corrupted, img.path + ":" + name + ": unknown xattr prefix");
        const std::size_t prefix_len = std::strlen(prefix);
        const auto* text = reinterpret_cast<const char*>(key->key);
        std::string full(text, strnlen(text, prefix_len + key->size));
        if (full.compare(0, prefix_len, prefix) != 0) full = prefix + full.substr(0, key->size);
        out[full] = std::string(reinterpret_cast<const char*>(value->value), value->size);
    }
    if (ret) return library_error(img.path + ":" + name + ": xattrs", ret);
    return {};
}

Result<squashfs_detail::ScannedEntry> describe(Image& img, const sqfs_tree_node_t* node,
                                               std::string path, const TreeOptions& opts) {
    const sqfs_inode_generic_t* inode = node->inode;
    squashfs_detail::ScannedEntry item;
    TreeEntry& e = item.entry;
    e.path = std::move(path);
    e.mode = inode->base.mode;
    e.uid = node->uid;
    e.gid = node->gid;
    e.mtime = opts.include_mtime ? inode->base.mod_time : 0;
    item.inode = {0, inode->base.inode_number};
    switch (inode->base.type) {
        case SQFS_INODE_FILE:
        case SQFS_INODE_EXT_FILE: {
            sqfs_u64 size = 0;
            sqfs_inode_get_file_size(inode, &size);
            e.size = size;
            e.nlink = inode->base.type == SQFS_INODE_EXT_FILE ? inode->data.file_ext.nlink : 1;
            if (opts.hash_contents) {
                Sha256 hash;
                PIB_TRY(read_contents(img, inode, e.path, [&](const sqfs_u8* p, std::size_t n) {
                    hash.update({p, n});
                }));
                e.sha256 = hash.finish_hex();
            }
            break;
        }
        case SQFS_INODE_SLINK:
        case SQFS_INODE_EXT_SLINK:  // nlink and target_size sit at the same offsets in both
            e.nlink = inode->data.slink.nlink;
            e.link_target.assign(reinterpret_cast<const char*>(inode->extra),
                                 inode->data.slink.target_size);
            break;
        case SQFS_INODE_BDEV:
        case SQFS_INODE_CDEV:
        case SQFS_INODE_EXT_BDEV:
        case SQFS_INODE_EXT_CDEV:
            e.nlink = inode->data.dev.nlink;
            sqfs_util::decode_dev(inode->data.dev.devno, e.rdev_major, e.rdev_minor);
            break;
        case SQFS_INODE_FIFO:
        case SQFS_INODE_SOCKET:
        case SQFS_INODE_EXT_FIFO:
        case SQFS_INODE_EXT_SOCKET:
            e.nlink = inode->data.ipc.nlink;
            break;
        default:  // directories: link counts are not compared (see scan_directory)
            break;
    }
    PIB_TRY(read_xattrs(img, inode, e.path, e.xattrs));
    return item;
}

struct TreeFree {
    void operator()(sqfs_tree_node_t* root) const { sqfs_dir_tree_destroy(root); }
};

}  // namespace

Result<std::vector<TreeEntry>> scan_squashfs(const std::filesystem::path& image,
                                             const TreeOptions& opts) {
    auto img = open_image(image, true);
    if (!img) return img.error();
    Image& im = **img;
    sqfs_tree_node_t* raw = nullptr;
    int ret = sqfs_dir_reader_get_full_hierarchy(im.dirs.get(), im.ids.get(), nullptr, 0, &raw);
    std::unique_ptr<sqfs_tree_node_t, TreeFree> root(raw);
    if (ret) return library_error(im.path + ": directory tree", ret);

    std::vector<squashfs_detail::ScannedEntry> items;
    std::vector<std::pair<const sqfs_tree_node_t*, std::string>> pending{{root.get(), "/"}};
    while (!pending.empty()) {
        const sqfs_tree_node_t* node = pending.back().first;
        std::string path = std::move(pending.back().second);
        pending.pop_back();
        const std::string prefix = node == root.get() ? std::string() : path;
        for (const sqfs_tree_node_t* c = node->children; c; c = c->next)
            pending.emplace_back(c, prefix + "/" + reinterpret_cast<const char*>(c->name));
        auto item = describe(im, node, std::move(path), opts);
        if (!item) return item.error();
        items.push_back(std::move(*item));
    }
    return squashfs_detail::sort_and_group(std::move(items));
}

Result<SquashfsInfo> squashfs_info(const std::filesystem::path& image) {
    auto img = open_image(image, false);
    if (!img) return img.error();
    const sqfs_super_t& s = (*img)->super;
    SquashfsInfo info;
    const char* name = sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(s.compression_id));
    info.compressor = name ? name : "unknown(" + std::to_string(s.compression_id) + ")";
    info.block_size = s.block_size;
    info.inodes = s.inode_count;
    info.bytes_used = s.bytes_used;
    info.mtime = s.modification_time;
    info.has_xattrs = !(s.flags & SQFS_FLAG_NO_XATTRS) && s.xattr_id_table_start != ~0ull;
    info.exportable = (s.flags & SQFS_FLAG_EXPORTABLE) && s.export_table_start != ~0ull;
    return info;
}

Result<std::string> squashfs_read_file(const std::filesystem::path& image,
                                       const std::string& path) {
    auto img = open_image(image, true);
    if (!img) return img.error();
    Image& im = **img;
    std::string rel = path;
    rel.erase(0, rel.find_first_not_of('/'));
    sqfs_inode_generic_t* raw = nullptr;
    int ret = sqfs_dir_reader_find_by_path(im.dirs.get(), nullptr, rel.c_str(), &raw);
    sqfs_util::InodePtr inode(raw);
    if (ret == SQFS_ERROR_NO_ENTRY || ret == SQFS_ERROR_NOT_DIR)
        return fail(Errc::not_found, im.path + ":" + path + ": no such file in image");
    if (ret) return library_error(im.path + ":" + path, ret);
    if (inode->base.type != SQFS_INODE_FILE && inode->base.type != SQFS_INODE_EXT_FILE)
        return fail(Errc::invalid, im.path + ":" + path + ": not a regular file");
    std::string out;
    sqfs_u64 size = 0;
    sqfs_inode_get_file_size(inode.get(), &size);
    out.reserve(static_cast<std::size_t>(size));
    PIB_TRY(read_contents(im, inode.get(), path, [&](const sqfs_u8* p, std::size_t n) {
        out.append(reinterpret_cast<const char*>(p), n);
    }));
    return out;
}

}  // namespace pib
