// The half of write_squashfs after the file data: inodes in number order
// with the directory listings they point to, then the tables. The order
// (inodes, directories, fragments, export, ids, xattrs) is the one mksquashfs
// 4.x and gensquashfs 1.2 write; the kernel and unsquashfs follow the
// superblock's offsets, but the reference layout keeps images comparable.
#include <sqfs/block.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/xattr_writer.h>

#include <cstring>
#include <utility>

#include "squashfs/image_writer.hpp"

namespace pib::squashfs_detail {

using sqfs_util::library_error;

Result<sqfs_u32> ImageWriter::xattr_index(const SourceNode& node) {
    if (node.xattrs.empty()) return kNoXattr;
    int ret = sqfs_xattr_writer_begin(xwr_.get(), 0);
    for (const auto& [key, value] : node.xattrs) {
        if (ret) break;
        ret = sqfs_xattr_writer_add(xwr_.get(), key.c_str(), value.data(), value.size());
    }
    sqfs_u32 index = kNoXattr;
    if (!ret) ret = sqfs_xattr_writer_end(xwr_.get(), &index);
    if (ret) return library_error("xattrs of " + node.path, ret);
    return index;
}

Result<InodePtr> ImageWriter::make_dir_inode(std::uint32_t index, sqfs_u32 xattr) {
    const SourceNode& dir = tree_.nodes[index];
    int ret = sqfs_dir_writer_begin(dirwr_.get(), 0);
    for (std::uint32_t c : dir.children) {
        if (ret) break;
        const SourceNode& target = tree_.nodes[tree_.nodes[c].owner];
        // Entries point at the inode's owner; its inode is already written
        // because the numbering puts every directory after its entries.
        ret = sqfs_dir_writer_add_entry(dirwr_.get(), tree_.nodes[c].name.c_str(), target.inode_num,
                                        refs_[target.owner], static_cast<sqfs_u16>(target.mode));
    }
    if (!ret) ret = sqfs_dir_writer_end(dirwr_.get());
    if (ret) return library_error("directory " + dir.path, ret);
    // mksquashfs gives the root's ".." the number inode_count + 1; the kernel
    // reports it as d_ino of "..", where 0 would read as an empty slot.
    std::uint32_t parent = index == 0 ? static_cast<std::uint32_t>(tree_.inode_order.size()) + 1
                                      : tree_.nodes[dir.parent].inode_num;
    InodePtr inode(sqfs_dir_writer_create_inode(dirwr_.get(), 0, xattr, parent));
    if (!inode) return library_error("directory " + dir.path, SQFS_ERROR_ALLOC);
    const std::uint32_t nlink = 2 + dir.subdirs;  // ".", the parent's entry, each child's ".."
    if (inode->base.type == SQFS_INODE_DIR)
        inode->data.dir.nlink = nlink;
    else
        inode->data.dir_ext.nlink = nlink;
    return inode;
}

InodePtr ImageWriter::make_other_inode(const SourceNode& node) {
    InodePtr inode = sqfs_util::alloc_inode(S_ISLNK(node.mode) ? node.link_target.size() : 0);
    if (!inode) return inode;
    switch (node.mode & S_IFMT) {
        case S_IFLNK:
            inode->base.type = SQFS_INODE_SLINK;
            inode->data.slink.nlink = node.nlink;
            inode->data.slink.target_size = static_cast<sqfs_u32>(node.link_target.size());
            std::memcpy(inode->extra, node.link_target.data(), node.link_target.size());
            break;
        case S_IFCHR:
        case S_IFBLK:
            inode->base.type = S_ISCHR(node.mode) ? SQFS_INODE_CDEV : SQFS_INODE_BDEV;
            inode->data.dev.nlink = node.nlink;
            inode->data.dev.devno = sqfs_util::encode_dev(node.rdev_major, node.rdev_minor);
            break;
        default:  // FIFO or socket
            inode->base.type = S_ISFIFO(node.mode) ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
            inode->data.ipc.nlink = node.nlink;
            break;
    }
    return inode;
}

Status ImageWriter::write_inodes() {
    refs_.assign(tree_.nodes.size(), 0);
    super_.inode_table_start = file_->get_size(file_.get());
    for (std::uint32_t index : tree_.inode_order) {
        const SourceNode& node = tree_.nodes[index];
        auto xattr = xattr_index(node);
        if (!xattr) return xattr.error();
        InodePtr inode;
        if (S_ISDIR(node.mode)) {
            auto dir = make_dir_inode(index, *xattr);
            if (!dir) return dir.error();
            inode = std::move(*dir);
        } else if (S_ISREG(node.mode)) {
            inode.reset(std::exchange(inodes_.slot[index], nullptr));
            if (!inode) return fail(Errc::io, node.path + ": block processor produced no inode");
            // The basic file inode has no link count; more than one name
            // needs the extended type (as gensquashfs does).
            if (node.nlink > 1) {
                sqfs_inode_make_extended(inode.get());
                inode->data.file_ext.nlink = node.nlink;
            }
        } else {
            inode = make_other_inode(node);
            if (!inode) return library_error("inode of " + node.path, SQFS_ERROR_ALLOC);
        }
        inode->base.mode = static_cast<sqfs_u16>(node.mode);
        inode->base.mod_time = clamp_time(node.mtime);
        inode->base.inode_number = node.inode_num;
        int ret = sqfs_inode_set_xattr_index(inode.get(), *xattr);
        if (!ret) ret = sqfs_id_table_id_to_index(idtbl_.get(), node.uid, &inode->base.uid_idx);
        if (!ret) ret = sqfs_id_table_id_to_index(idtbl_.get(), node.gid, &inode->base.gid_idx);
        if (ret) return library_error("inode of " + node.path, ret);
        sqfs_u64 block = 0;
        sqfs_u32 offset = 0;
        sqfs_meta_writer_get_position(im_.get(), &block, &offset);
        refs_[index] = (block << 16) | offset;
        if ((ret = sqfs_meta_writer_write_inode(im_.get(), inode.get())))
            return library_error("writing inode of " + node.path + " to " + out_, ret);
    }
    int ret = sqfs_meta_writer_flush(im_.get());
    if (!ret) ret = sqfs_meta_writer_flush(dm_.get());
    if (ret) return library_error("writing inode table to " + out_, ret);
    super_.root_inode_ref = refs_[0];
    super_.directory_table_start = file_->get_size(file_.get());
    if ((ret = sqfs_meta_write_write_to_file(dm_.get())))
        return library_error("writing directory table to " + out_, ret);
    return {};
}

Status ImageWriter::write_tables() {
    super_.inode_count = static_cast<sqfs_u32>(tree_.inode_order.size());
    int ret = sqfs_frag_table_write(fragtbl_.get(), file_.get(), &super_, cmp_.get());
    if (ret) return library_error("writing fragment table to " + out_, ret);
    if (opts_.exportable) {
        // The dir writer saw every entry's inode number and reference; only
        // the root, which no directory lists, is passed in.
        ret = sqfs_dir_writer_write_export_table(dirwr_.get(), file_.get(), cmp_.get(),
                                                 tree_.nodes[0].inode_num, refs_[0], &super_);
        if (ret) return library_error("writing export table to " + out_, ret);
    }
    if ((ret = sqfs_id_table_write(idtbl_.get(), file_.get(), &super_, cmp_.get())))
        return library_error("writing id table to " + out_, ret);
    // With no xattrs at all this sets SQFS_FLAG_NO_XATTRS and writes nothing.
    if ((ret = sqfs_xattr_writer_flush(xwr_.get(), file_.get(), &super_, cmp_.get())))
        return library_error("writing xattr table to " + out_, ret);
    super_.bytes_used = file_->get_size(file_.get());
    if ((ret = sqfs_super_write(&super_, file_.get())))
        return library_error("updating superblock of " + out_, ret);
    // mksquashfs pads the image to a multiple of 4 KiB so that it can be used
    // on block devices (loop, dm-verity) directly; bytes_used excludes the pad.
    const std::uint64_t pad =
        (SQFS_DEVBLK_SIZE - super_.bytes_used % SQFS_DEVBLK_SIZE) % SQFS_DEVBLK_SIZE;
    if (pad) {
        std::vector<char> zeros(pad, 0);
        if ((ret = file_->write_at(file_.get(), super_.bytes_used, zeros.data(), zeros.size())))
            return library_error("padding " + out_, ret);
    }
    stats_.bytes_out = file_->get_size(file_.get());
    return {};
}

}  // namespace pib::squashfs_detail
