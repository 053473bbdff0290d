#include "squashfs/sqfs_util.hpp"

#include <fcntl.h>
#include <sqfs/error.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pib::sqfs_util {

std::string error_name(int code) {
    switch (code) {
        case SQFS_ERROR_ALLOC:
            return "SQFS_ERROR_ALLOC (out of memory)";
        case SQFS_ERROR_IO:
            return "SQFS_ERROR_IO";
        case SQFS_ERROR_COMPRESSOR:
            return "SQFS_ERROR_COMPRESSOR";
        case SQFS_ERROR_INTERNAL:
            return "SQFS_ERROR_INTERNAL";
        case SQFS_ERROR_CORRUPTED:
            return "SQFS_ERROR_CORRUPTED";
        case SQFS_ERROR_UNSUPPORTED:
            return "SQFS_ERROR_UNSUPPORTED";
        case SQFS_ERROR_OVERFLOW:
            return "SQFS_ERROR_OVERFLOW";
        case SQFS_ERROR_OUT_OF_BOUNDS:
            return "SQFS_ERROR_OUT_OF_BOUNDS";
        case SFQS_ERROR_SUPER_MAGIC:
            return "SQFS_ERROR_SUPER_MAGIC (not a squashfs image)";
        case SFQS_ERROR_SUPER_VERSION:
            return "SQFS_ERROR_SUPER_VERSION";
        case SQFS_ERROR_SUPER_BLOCK_SIZE:
            return "SQFS_ERROR_SUPER_BLOCK_SIZE";
        case SQFS_ERROR_NOT_DIR:
            return "SQFS_ERROR_NOT_DIR";
        case SQFS_ERROR_NO_ENTRY:
            return "SQFS_ERROR_NO_ENTRY";
        case SQFS_ERROR_LINK_LOOP:
            return "SQFS_ERROR_LINK_LOOP";
        case SQFS_ERROR_NOT_FILE:
            return "SQFS_ERROR_NOT_FILE";
        case SQFS_ERROR_ARG_INVALID:
            return "SQFS_ERROR_ARG_INVALID";
        case SQFS_ERROR_SEQUENCE:
            return "SQFS_ERROR_SEQUENCE";
        default:
            return "error " + std::to_string(code);
    }
}

Error library_error(const std::string& what, int code) {
    std::string msg = what + ": " + error_name(code);
    if (code == SQFS_ERROR_IO && errno != 0) msg += std::string(" (") + std::strerror(errno) + ")";
    Errc kind = Errc::io;
    switch (code) {
        case SQFS_ERROR_CORRUPTED:
        case SQFS_ERROR_OUT_OF_BOUNDS:
        case SFQS_ERROR_SUPER_MAGIC:
        case SQFS_ERROR_SUPER_BLOCK_SIZE:
        case SQFS_ERROR_LINK_LOOP:
            kind = Errc::corrupted;
            break;
        case SFQS_ERROR_SUPER_VERSION:
        case SQFS_ERROR_UNSUPPORTED:
            kind = Errc::unsupported;
            break;
        case SQFS_ERROR_NO_ENTRY:
            kind = Errc::not_found;
            break;
        case SQFS_ERROR_ARG_INVALID:
        case SQFS_ERROR_NOT_DIR:
        case SQFS_ERROR_NOT_FILE:
            kind = Errc::invalid;
            break;
        default:
            break;
    }
    return fail(kind, std::move(msg));
}

std::uint32_t encode_dev(std::uint32_t major, std::uint32_t minor) {
    return (minor & 0xffu) | (major << 8) | ((minor & ~0xffu) << 12);
}

void decode_dev(std::uint32_t devno, std::uint32_t& major, std::uint32_t& minor) {
    major = (devno >> 8) & 0xfffu;
    minor = (devno & 0xffu) | ((devno >> 12) & 0xfff00u);
}

namespace {

// sqfs_file_t must be the first member: libsquashfs passes the object around
// as sqfs_file_t* / sqfs_object_t* and calls back through these pointers.
struct OutputFile {
    sqfs_file_t base;
    std::uint64_t size;
    int fd;
};

OutputFile* self(const sqfs_file_t* f) {
    return reinterpret_cast<OutputFile*>(const_cast<sqfs_file_t*>(f));
}

void out_destroy(sqfs_object_t* obj) {
    auto* f = reinterpret_cast<OutputFile*>(obj);
    ::close(f->fd);
    delete f;
}

/// pread/pwrite until done: both may transfer less than asked.
template <class Op, class Ptr>
int transfer(Op op, int fd, Ptr p, size_t size, sqfs_u64 offset) {
    while (size > 0) {
        ssize_t n = op(fd, p, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return SQFS_ERROR_IO;
        if (n == 0) return SQFS_ERROR_OUT_OF_BOUNDS;
        p += n;
        size -= static_cast<size_t>(n);
        offset += static_cast<sqfs_u64>(n);
    }
    return 0;
}

int out_read_at(sqfs_file_t* file, sqfs_u64 offset, void* buffer, size_t size) {
    return transfer(::pread, self(file)->fd, static_cast<char*>(buffer), size, offset);
}

int out_write_at(sqfs_file_t* file, sqfs_u64 offset, const void* buffer, size_t size) {
    int ret = transfer(::pwrite, self(file)->fd, static_cast<const char*>(buffer), size, offset);
    if (ret == 0 && offset + size > self(file)->size) self(file)->size = offset + size;
    return ret;
}

sqfs_u64 out_get_size(const sqfs_file_t* file) { return self(file)->size; }

int out_truncate(sqfs_file_t* file, sqfs_u64 size) {
    if (::ftruncate(self(file)->fd, static_cast<off_t>(size)) != 0) return SQFS_ERROR_IO;
    self(file)->size = size;
    return 0;
}

}  // namespace

Result<Handle<sqfs_file_t>> create_output(const std::string& path, struct stat& st) {
    int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0666);
    if (fd < 0) return fail(Errc::io, "create " + path + ": " + std::strerror(errno));
    if (::fstat(fd, &st) != 0) {
        int e = errno;
        ::close(fd);
        return fail(Errc::io, "fstat " + path + ": " + std::strerror(e));
    }
    auto* f = new OutputFile{};
    f->fd = fd;
    f->size = 0;
    f->base.base.destroy = out_destroy;
    f->base.base.copy = nullptr;
    f->base.read_at = out_read_at;
    f->base.write_at = out_write_at;
    f->base.get_size = out_get_size;
    f->base.truncate = out_truncate;
    return Handle<sqfs_file_t>(&f->base);
}

InodePtr alloc_inode(std::size_t payload) {
    // The library frees inodes with free(); allocate them the same way.
    auto* raw =
        static_cast<sqfs_inode_generic_t*>(std::calloc(1, sizeof(sqfs_inode_generic_t) + payload));
    if (raw) {
        raw->payload_bytes_available = static_cast<sqfs_u32>(payload);
        raw->payload_bytes_used = static_cast<sqfs_u32>(payload);
    }
    return InodePtr(raw);
}

}  // namespace pib::sqfs_util
