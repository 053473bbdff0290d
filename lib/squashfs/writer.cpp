// write_squashfs: scan -> data blocks -> inodes + directories -> tables.
// This file has the setup, the file data and the run; writer_meta.cpp writes
// everything after the data.
#include "squashfs/writer.hpp"

#include <fcntl.h>
#include <sqfs/block_processor.h>
#include <sqfs/block_writer.h>
#include <sqfs/compressor.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/io.h>
#include <sqfs/meta_writer.h>
#include <sqfs/xattr_writer.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/fs.hpp"
#include "squashfs/image_writer.hpp"

namespace pib {
namespace squashfs_detail {

using sqfs_util::library_error;

namespace {

Status check_options(const SquashfsOptions& o) {
    const std::uint32_t bs = o.block_size;
    if (bs < SQFS_MIN_BLOCK_SIZE || bs > SQFS_MAX_BLOCK_SIZE || (bs & (bs - 1)) != 0)
        return fail(Errc::invalid, "squashfs block size " + std::to_string(bs) +
                                       " is not a power of two in 4 KiB..1 MiB");
    if (o.zstd_level < SQFS_ZSTD_MIN_LEVEL || o.zstd_level > SQFS_ZSTD_MAX_LEVEL)
        return fail(Errc::invalid,
                    "zstd level " + std::to_string(o.zstd_level) + " is outside 1..22");
    // Inode and superblock times are unsigned 32-bit seconds on disk.
    if (o.mtime_clamp < 0 || o.mtime_clamp > 0xFFFFFFFFll)
        return fail(Errc::invalid, "mtime clamp " + std::to_string(o.mtime_clamp) +
                                       " does not fit squashfs's 32-bit times");
    return {};
}

}  // namespace

Status ImageWriter::open_output(const std::string& out, struct stat& st) {
    auto f = sqfs_util::create_output(out, st);
    if (!f) return f.error();
    file_ = std::move(*f);
    out_regular_ = S_ISREG(st.st_mode);
    return {};
}

Status ImageWriter::create_pipeline() {
    sqfs_compressor_config_t cfg;
    int ret = sqfs_compressor_config_init(&cfg, SQFS_COMP_ZSTD, opts_.block_size, 0);
    if (ret) return library_error("zstd compressor config", ret);
    cfg.level = static_cast<sqfs_u32>(opts_.zstd_level);
    sqfs_compressor_t* c = nullptr;
    if ((ret = sqfs_compressor_create(&cfg, &c)))
        return library_error("creating zstd compressor", ret);
    cmp_.reset(c);
    // A decompressor lets the block processor compare a tail-end fragment with
    // the stored one before deduplicating it; without one it trusts
    // size + xxh32 alone (block_processor.c, chunk_info_equals).
    cfg.flags |= SQFS_COMP_FLAG_UNCOMPRESS;
    if ((ret = sqfs_compressor_create(&cfg, &c)))
        return library_error("creating zstd decompressor", ret);
    uncmp_.reset(c);

    if ((ret = sqfs_super_init(&super_, opts_.block_size, clamp_time(opts_.mtime_clamp),
                               SQFS_COMP_ZSTD)))
        return library_error("superblock", ret);
    if ((ret = sqfs_super_write(&super_, file_.get())))
        return library_error("writing superblock to " + out_, ret);
    // Returns > 0 when options were written: only for a non-default level,
    // exactly like mksquashfs's zstd_dump_options().
    ret = cmp_->write_options(cmp_.get(), file_.get());
    if (ret < 0) return library_error("writing compressor options to " + out_, ret);
    if (ret > 0) super_.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;

    blkwr_.reset(sqfs_block_writer_create(file_.get(), SQFS_DEVBLK_SIZE, 0));
    fragtbl_.reset(sqfs_frag_table_create(0));
    idtbl_.reset(sqfs_id_table_create(0));
    xwr_.reset(sqfs_xattr_writer_create(0));
    // Inodes stream straight to the file after the data; the directory table
    // follows the inode table, so it is collected in memory until then.
    im_.reset(sqfs_meta_writer_create(file_.get(), cmp_.get(), 0));
    dm_.reset(sqfs_meta_writer_create(file_.get(), cmp_.get(), SQFS_META_WRITER_KEEP_IN_MEMORY));
    if (!blkwr_ || !fragtbl_ || !idtbl_ || !xwr_ || !im_ || !dm_)
        return library_error("squashfs writer setup", SQFS_ERROR_ALLOC);
    dirwr_.reset(sqfs_dir_writer_create(
        dm_.get(), opts_.exportable ? SQFS_DIR_WRITER_CREATE_EXPORT_TABLE : 0));
    if (!dirwr_) return library_error("squashfs directory writer", SQFS_ERROR_ALLOC);

    unsigned workers =
        opts_.workers ? opts_.workers : std::max(1u, std::thread::hardware_concurrency());
    sqfs_block_processor_desc_t desc;
    std::memset(&desc, 0, sizeof desc);
    desc.size = sizeof desc;
    desc.max_block_size = opts_.block_size;
    desc.num_workers = workers;
    // Each block in flight holds block_size bytes, so the backlog bounds
    // memory however large the tree. Blocks complete in submission order
    // (threadpool.c hands them back by ticket), and a run of small files
    // submits nothing but fragments, so the queue must hold enough work to
    // keep the workers busy meanwhile: on a 670 MB Debian root with 2
    // workers, 8 blocks took 37 s, 64 blocks (8 MiB) 32.5 s at 30 MB RSS,
    // 256 blocks no better at 60 MB (docs/performance.md).
    std::size_t backlog = opts_.max_backlog;
    if (backlog == 0) backlog = std::max<std::size_t>(4 * workers, (8u << 20) / opts_.block_size);
    desc.max_backlog = static_cast<sqfs_u32>(backlog);
    desc.cmp = cmp_.get();
    desc.wr = blkwr_.get();
    desc.tbl = fragtbl_.get();
    desc.file = file_.get();
    desc.uncmp = uncmp_.get();
    // Known libsquashfs 1.2 behaviour: if writing fails mid-data, blocks
    // still queued in its thread pool are not freed when the processor is
    // destroyed (block_processor_destroy frees the pool's work items, not the
    // blocks they carry). At most max_backlog blocks, once per failed image;
    // draining them first is not safe through the API (after a worker error
    // the pool's dequeue waits for tickets that never complete).
    sqfs_block_processor_t* proc = nullptr;
    if ((ret = sqfs_block_processor_create_ex(&desc, &proc)))
        return library_error("creating block processor", ret);
    proc_.reset(proc);
    return {};
}

void ImageWriter::report(bool force) {
    if (!progress_) return;
    auto now = std::chrono::steady_clock::now();
    if (!force && now - last_report_ < std::chrono::milliseconds(100)) return;
    last_report_ = now;
    progress_(prog_);
}

Status ImageWriter::write_file(const SourceNode& node, sqfs_inode_generic_t** slot,
                               std::vector<char>& buf) {
    // O_NONBLOCK: if the name became a FIFO since the scan, do not hang on it.
    int fd = ::open(node.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return fail(Errc::io, errno_message("open " + node.path));
    struct FdGuard {
        int fd;
        ~FdGuard() { ::close(fd); }
    } guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(Errc::io, errno_message("fstat " + node.path));
    if (!S_ISREG(st.st_mode)) return fail(Errc::io, node.path + ": no longer a regular file");
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

    int ret = sqfs_block_processor_begin_file(proc_.get(), slot, nullptr, 0);
    if (ret) return library_error("packing " + node.path + " into " + out_, ret);
    std::uint64_t total = 0;
    for (;;) {
        // One block per read: memory stays at the backlog, never a whole file.
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, errno_message("read " + node.path));
        if (n == 0) break;
        // All-zero blocks become sparse blocks inside the processor (is_memory_zero).
        if ((ret = sqfs_block_processor_append(proc_.get(), buf.data(), static_cast<size_t>(n))))
            return library_error("packing " + node.path + " into " + out_, ret);
        total += static_cast<std::uint64_t>(n);
        prog_.bytes_done += static_cast<std::uint64_t>(n);
        report(false);
    }
    if ((ret = sqfs_block_processor_end_file(proc_.get())))
        return library_error("packing " + node.path + " into " + out_, ret);
    stats_.bytes_in += total;
    if (total != node.size) {
        log_.event(Level::warn, "squashfs", "file_changed")
            .kv("path", node.path)
            .kv("scanned", node.size)
            .kv("read", total);
        stats_.warnings.push_back(node.path + ": size changed while packing (" +
                                  std::to_string(node.size) + " -> " + std::to_string(total) +
                                  " bytes); stored what was read");
    }
    return {};
}

Status ImageWriter::write_data() {
    inodes_.slot.assign(tree_.nodes.size(), nullptr);
    std::vector<char> buf(opts_.block_size);
    // Data goes out in inode order, the same order the inodes are written.
    for (std::uint32_t index : tree_.inode_order) {
        const SourceNode& node = tree_.nodes[index];
        if (!S_ISREG(node.mode)) continue;
        PIB_TRY(write_file(node, &inodes_.slot[index], buf));
        ++prog_.files_done;
        report(false);
    }
    int ret = sqfs_block_processor_finish(proc_.get());
    if (ret) return library_error("writing data blocks to " + out_, ret);
    return {};
}

Result<SquashfsStats> ImageWriter::run(const std::string& src, const std::string& out) {
    out_ = out;
    PIB_TRY(check_options(opts_));
    // Fail on a bad source before touching the output.
    struct stat src_st {};
    if (::stat(src.c_str(), &src_st) != 0)
        return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_message("stat " + src));
    if (!S_ISDIR(src_st.st_mode)) return fail(Errc::invalid, src + ": not a directory");

    struct stat out_st {};
    PIB_TRY(open_output(out, out_st));
    auto start = std::chrono::steady_clock::now();
    // The image may be written inside the tree it packs; never pack it into itself.
    squashfs_detail::Exclude exclude{out_st.st_dev, out_st.st_ino, true};
    auto tree = squashfs_detail::scan_source(src, exclude, log_);
    if (!tree) return tree.error();
    tree_ = std::move(*tree);
    stats_.warnings = std::move(tree_.warnings);
    log_.event(Level::debug, "squashfs", "scan_done")
        .kv("src", src)
        .kv("inodes", tree_.inode_order.size())
        .kv("files", tree_.file_count)
        .kv("bytes", tree_.file_bytes);

    prog_.files_total = tree_.file_count;
    prog_.bytes_total = tree_.file_bytes;
    PIB_TRY(create_pipeline());
    PIB_TRY(write_data());
    PIB_TRY(write_inodes());
    PIB_TRY(write_tables());
    report(true);

    for (std::uint32_t index : tree_.inode_order) {
        const auto mode = tree_.nodes[index].mode;
        ++stats_.inodes;
        if (S_ISREG(mode))
            ++stats_.files;
        else if (S_ISDIR(mode))
            ++stats_.directories;
        else if (S_ISLNK(mode))
            ++stats_.symlinks;
        else if (S_ISCHR(mode) || S_ISBLK(mode))
            ++stats_.devices;
        else
            ++stats_.other;
    }
    stats_.hard_links = tree_.hard_links;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    log_.event(Level::info, "squashfs", "image_written")
        .kv("out", out)
        .kv("inodes", stats_.inodes)
        .kv("bytes_in", stats_.bytes_in)
        .kv("bytes_out", stats_.bytes_out)
        .kv("warnings", static_cast<std::uint64_t>(stats_.warnings.size()))
        .kv("ms", static_cast<std::int64_t>(ms));
    return stats_;
}

}  // namespace squashfs_detail

Result<SquashfsStats> write_squashfs(const std::filesystem::path& src,
                                     const std::filesystem::path& out, const SquashfsOptions& opts,
                                     const Logger& log, const SquashfsProgressFn& progress) {
    bool remove = false;
    Result<SquashfsStats> result = fail(Errc::io, "unreachable");
    {
        squashfs_detail::ImageWriter writer(opts, log, progress);
        result = writer.run(src.string(), out.string());
        remove = !result.ok() && writer.remove_on_error();
    }  // every libsquashfs object and the output fd are gone here
    if (remove) {
        ::unlink(out.c_str());
        log.event(Level::warn, "squashfs", "output_removed")
            .kv("out", out.string())
            .kv("error", result.error().message);
    }
    return result;
}

}  // namespace pib
