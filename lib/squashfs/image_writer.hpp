// Internal to write_squashfs: the writer's state across its stages. The
// stages are split over writer.cpp (setup, file data, the run) and
// writer_meta.cpp (inodes, directories and the tables after them).
#pragma once

#include <sqfs/predef.h>
#include <sqfs/super.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "squashfs/source_tree.hpp"
#include "squashfs/sqfs_util.hpp"
#include "squashfs/writer.hpp"

namespace pib::squashfs_detail {

using sqfs_util::Handle;
using sqfs_util::InodePtr;

constexpr sqfs_u32 kNoXattr = 0xFFFFFFFFu;

/// File inodes handed out by the block processor. It keeps pointers to these
/// slots and may realloc() the inodes until sqfs_block_processor_finish(), so
/// the slots must never move and must outlive the processor.
struct FileInodes {
    std::vector<sqfs_inode_generic_t*> slot;
    ~FileInodes() {
        for (auto* p : slot) sqfs_free(p);
    }
};

/// One image being written; run() is the whole job.
class ImageWriter {
  public:
    ImageWriter(const SquashfsOptions& opts, const Logger& log, const SquashfsProgressFn& progress)
        : opts_(opts), log_(log), progress_(progress) {}

    Result<SquashfsStats> run(const std::string& src, const std::string& out);
    /// The output was opened and is a regular file. Only then may an error
    /// unlink it: an image written straight to a block device (or /dev/full)
    /// must never take the device node with it.
    bool remove_on_error() const { return file_ && out_regular_; }

  private:
    Status open_output(const std::string& out, struct stat& st);
    Status create_pipeline();
    Status write_data();
    Status write_file(const SourceNode& node, sqfs_inode_generic_t** slot, std::vector<char>& buf);
    Status write_inodes();
    Result<InodePtr> make_dir_inode(std::uint32_t index, sqfs_u32 xattr);
    InodePtr make_other_inode(const SourceNode& node);
    Result<sqfs_u32> xattr_index(const SourceNode& node);
    Status write_tables();
    void report(bool force);

    std::uint32_t clamp_time(std::int64_t t) const {
        return static_cast<std::uint32_t>(std::clamp<std::int64_t>(t, 0, opts_.mtime_clamp));
    }

    const SquashfsOptions& opts_;
    const Logger& log_;
    const SquashfsProgressFn& progress_;
    std::string out_;
    bool out_regular_ = false;
    SourceTree tree_;
    std::vector<sqfs_u64> refs_;  // node index -> inode reference (block << 16 | offset)
    sqfs_super_t super_{};
    SquashfsStats stats_;
    SquashfsProgress prog_;
    std::chrono::steady_clock::time_point last_report_{};

    // Declaration order is destruction order reversed: everything that points
    // at the file or the compressors goes after them (libsquashfs 1.2 objects
    // hold plain pointers, no references).
    FileInodes inodes_;
    Handle<sqfs_file_t> file_;
    Handle<sqfs_compressor_t> cmp_;
    Handle<sqfs_compressor_t> uncmp_;
    Handle<sqfs_block_writer_t> blkwr_;
    Handle<sqfs_frag_table_t> fragtbl_;
    Handle<sqfs_id_table_t> idtbl_;
    Handle<sqfs_xattr_writer_t> xwr_;
    Handle<sqfs_meta_writer_t> im_;
    Handle<sqfs_meta_writer_t> dm_;
    Handle<sqfs_dir_writer_t> dirwr_;
    Handle<sqfs_block_processor_t> proc_;
};

}  // namespace pib::squashfs_detail
