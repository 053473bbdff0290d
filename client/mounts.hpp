// The mounts of pib-init: early filesystems, loop devices for the verified
// images, the overlayfs root, moving the API filesystems into it, and
// switch_root. All paths hang off `base` ("/" in the init) so that the test
// mode --test-mount can run them inside a private mount namespace.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/result.hpp"

namespace pib::client {

/// /proc, /sys, /dev (devtmpfs), /run (tmpfs); already-mounted ones are kept.
Status mount_early();

/// Attaches `file` read-only to a free loop device (LOOP_CONFIGURE with
/// LO_FLAGS_READ_ONLY|LO_FLAGS_AUTOCLEAR; LOOP_SET_FD + LOOP_SET_STATUS64 on
/// kernels before 5.8). Returns the open device: keep it until mounted, then
/// close it and autoclear detaches the loop at unmount.
struct LoopDevice {
    int fd = -1;
    std::string path;  ///< "/dev/loopN"
    LoopDevice() = default;
    LoopDevice(LoopDevice&& o) noexcept : fd(o.fd), path(std::move(o.path)) { o.fd = -1; }
    LoopDevice& operator=(LoopDevice&& o) noexcept {
        std::swap(fd, o.fd);
        std::swap(path, o.path);
        return *this;
    }
    ~LoopDevice();
};
Result<LoopDevice> attach_loop(const std::filesystem::path& file);

/// Where the root is assembled.
struct RootLayout {
    std::filesystem::path run;      ///< <base>/run/pib
    std::filesystem::path sysroot;  ///< <base>/sysroot
};
RootLayout layout_under(const std::filesystem::path& base);

/// squashfs at run/ro (and the node overlay at run/node), tmpfs at run/rw
/// with upper/ and work/, overlayfs at sysroot with lowerdir=node:ro.
Status mount_root(const RootLayout& l, const std::filesystem::path& root_image,
                  const std::optional<std::filesystem::path>& overlay_image);

/// mount_root with the squashfs on a block device already made (the
/// dm-verity device of an NFS root) instead of an image file.
Status mount_root_device(const RootLayout& l, const std::string& root_device,
                         const std::optional<std::filesystem::path>& overlay_image);

/// MS_MOVE of /run, /dev, /proc, /sys into `sysroot` (as switch_root does).
Status move_api_mounts(const std::filesystem::path& sysroot);

/// switch_root(8): deletes the initramfs contents (same device only),
/// moves `sysroot` onto /, chroots and execs `init`. Returns only on error.
Error switch_root(const std::filesystem::path& sysroot, const std::string& init);

}  // namespace pib::client
