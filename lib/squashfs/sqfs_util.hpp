// Internal helpers around the libsquashfs C API: owning handles, error text,
// and the device-number encoding squashfs shares with the kernel.
#pragma once

#include <sqfs/predef.h>
#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace pib::sqfs_util {

/// Every libsquashfs object starts with sqfs_object_t; sqfs_destroy() calls its
/// destructor. (1.2 has no reference counting: objects that point at others
/// must be destroyed first, so declare handles in dependency order.)
struct Destroy {
    void operator()(void* obj) const { sqfs_destroy(obj); }
};
template <class T>
using Handle = std::unique_ptr<T, Destroy>;

/// Inodes, directory entries and buffers returned by the library are plain
/// allocations that must be released with the library's own free.
struct Free {
    void operator()(void* p) const { sqfs_free(p); }
};
using InodePtr = std::unique_ptr<sqfs_inode_generic_t, Free>;

/// Name of an SQFS_ERROR code ("SQFS_ERROR_IO"), or "error -N" for unknown ones.
std::string error_name(int code);

/// Error for a failed libsquashfs call: "<what>: <error name>"; SQFS_ERROR_IO
/// also carries errno, which the library leaves set from the failing syscall.
Error library_error(const std::string& what, int code);

/// squashfs stores devices as the kernel's new_encode_dev() (the low 32 bits
/// of glibc's dev_t for major <= 0xfff); unsquashfs and the kernel decode it so.
std::uint32_t encode_dev(std::uint32_t major, std::uint32_t minor);
void decode_dev(std::uint32_t devno, std::uint32_t& major, std::uint32_t& minor);

/// Creates or truncates `path` as an image output. Like sqfs_open_file() but
/// with O_CLOEXEC and mode 0666 & ~umask: the library's own creates 0600
/// files, which a web or NFS server running as another user cannot read.
/// `st` receives the file's identity (to keep the image out of its own source).
Result<Handle<sqfs_file_t>> create_output(const std::string& path, struct stat& st);

/// Allocates a zeroed generic inode with `payload` bytes of trailing data.
InodePtr alloc_inode(std::size_t payload);

}  // namespace pib::sqfs_util
