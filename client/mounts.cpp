// Mounting the verified root for pib-init (loop(4), overlayfs, switch_root(8)).
#include "client/mounts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pib::client {

namespace {

Error sys_error(const std::string& what) {
    return fail(Errc::io, what + ": " + std::strerror(errno));
}

Status make_dir(const std::filesystem::path& p) {
    std::error_code ec;
    std::filesystem::create_directories(p, ec);
    if (ec) return fail(Errc::io, "mkdir " + p.string() + ": " + ec.message());
    return {};
}

Status do_mount(const char* src, const std::filesystem::path& target, const char* type,
                unsigned long flags, const std::string& data) {
    PIB_TRY(make_dir(target));
    if (::mount(src, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
        return sys_error(std::string("mount ") + type + " " + src + " on " + target.string());
    return {};
}

// Removes everything below directory `fd` that lives on device `dev`
// (util-linux switch_root.c recursiveRemove): the initramfs is RAM.
void remove_tree(int fd, dev_t dev) {
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
        ::close(fd);
        return;
    }
    while (dirent* e = ::readdir(dir)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        struct stat st {};
        if (::fstatat(::dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != dev)
            continue;
        if (S_ISDIR(st.st_mode)) {
            int child = ::openat(::dirfd(dir), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (child >= 0) remove_tree(child, dev);
        }
        ::unlinkat(::dirfd(dir), e->d_name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
    }
    ::closedir(dir);
}

}  // namespace

LoopDevice::~LoopDevice() {
    if (fd >= 0) ::close(fd);
}

Status mount_early() {
    struct M {
        const char* src;
        const char* dir;
        const char* type;
        unsigned long flags;
        const char* data;
    };
    static constexpr M kMounts[] = {
        {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
        {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
        {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
        {"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
    };
    for (const auto& m : kMounts) {
        PIB_TRY(make_dir(m.dir));
        // EBUSY: already mounted there (a sandbox, or a kernel that mounted devtmpfs).
        if (::mount(m.src, m.dir, m.type, m.flags, m.data) != 0 && errno != EBUSY)
            return sys_error(std::string("mount ") + m.type + " on " + m.dir);
    }
    return {};
}

Result<LoopDevice> attach_loop(const std::filesystem::path& file) {
    int backing = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (backing < 0) return sys_error("open " + file.string());
    int ctl = ::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) {
        Error e = sys_error("open /dev/loop-control");
        ::close(backing);
        return e;
    }
    Result<LoopDevice> out = fail(Errc::io, "no free loop device");
    for (int tries = 0; tries < 16; ++tries) {
        int n = ::ioctl(ctl, LOOP_CTL_GET_FREE);
        if (n < 0) {
            out = sys_error("LOOP_CTL_GET_FREE");
            break;
        }
        LoopDevice dev;
        dev.path = "/dev/loop" + std::to_string(n);
        dev.fd = ::open(dev.path.c_str(), O_RDONLY | O_CLOEXEC);
        if (dev.fd < 0) {
            out = sys_error("open " + dev.path);
            break;
        }
        loop_config cfg{};
        cfg.fd = static_cast<__u32>(backing);
        cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
        std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), file.c_str(),
                     LO_NAME_SIZE - 1);
        int rc = ::ioctl(dev.fd, LOOP_CONFIGURE, &cfg);
        if (rc != 0 && (errno == EINVAL || errno == ENOTTY)) {
            // Before Linux 5.8: two steps.
            rc = ::ioctl(dev.fd, LOOP_SET_FD, backing);
            if (rc == 0 && ::ioctl(dev.fd, LOOP_SET_STATUS64, &cfg.info) != 0) {
                int err = errno;
                ::ioctl(dev.fd, LOOP_CLR_FD, 0);
                errno = err;
                rc = -1;
            }
        }
        if (rc == 0) {
            out = std::move(dev);
            break;
        }
        if (errno != EBUSY) {
            out = sys_error("attach " + file.string() + " to " + dev.path);
            break;
        }
        // EBUSY: someone took it between GET_FREE and CONFIGURE; ask again.
    }
    ::close(ctl);
    ::close(backing);
    return out;
}

RootLayout layout_under(const std::filesystem::path& base) {
    return {base / "run/pib", base / "sysroot"};
}

Status mount_root(const RootLayout& l, const std::filesystem::path& root_image,
                  const std::optional<std::filesystem::path>& overlay_image) {
    auto root = attach_loop(root_image);
    if (!root) return root.error();
    return mount_root_device(l, root->path, overlay_image);
}

Status mount_root_device(const RootLayout& l, const std::string& root_device,
                         const std::optional<std::filesystem::path>& overlay_image) {
    PIB_TRY(do_mount(root_device.c_str(), l.run / "ro", "squashfs", MS_RDONLY | MS_NODEV, ""));
    std::string lower = (l.run / "ro").string();
    if (overlay_image) {
        auto node = attach_loop(*overlay_image);
        if (!node) return node.error();
        PIB_TRY(do_mount(node->path.c_str(), l.run / "node", "squashfs", MS_RDONLY | MS_NODEV, ""));
        lower = (l.run / "node").string() + ":" + lower;  // leftmost is the top layer
    }
    PIB_TRY(do_mount("tmpfs", l.run / "rw", "tmpfs", 0, "mode=0755"));
    PIB_TRY(make_dir(l.run / "rw/upper"));
    PIB_TRY(make_dir(l.run / "rw/work"));
    const std::string opts = "lowerdir=" + lower + ",upperdir=" + (l.run / "rw/upper").string() +
                             ",workdir=" + (l.run / "rw/work").string();
    return do_mount("overlay", l.sysroot, "overlay", 0, opts);
}

Status move_api_mounts(const std::filesystem::path& sysroot) {
    for (const char* d : {"/run", "/dev", "/proc", "/sys"}) {
        const std::filesystem::path target = sysroot / (d + 1);
        PIB_TRY(make_dir(target));
        if (::mount(d, target.c_str(), nullptr, MS_MOVE, nullptr) != 0)
            return sys_error(std::string("move ") + d + " to " + target.string());
    }
    return {};
}

Error switch_root(const std::filesystem::path& sysroot, const std::string& init) {
    struct statfs fs {};
    if (::statfs("/", &fs) != 0) return sys_error("statfs /");
    // Only ever empty a RAM filesystem: never a disk root by mistake.
    if (fs.f_type != RAMFS_MAGIC && fs.f_type != TMPFS_MAGIC)
        return fail(Errc::invalid, "/ is not an initramfs (ramfs/tmpfs); refusing to delete it");
    struct stat root_st {};
    if (::stat("/", &root_st) != 0) return sys_error("stat /");
    if (::chdir(sysroot.c_str()) != 0) return sys_error("chdir " + sysroot.string());
    int root_fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd >= 0) remove_tree(root_fd, root_st.st_dev);
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0)
        return sys_error("move " + sysroot.string() + " to /");
    if (::chroot(".") != 0) return sys_error("chroot");
    if (::chdir("/") != 0) return sys_error("chdir /");
    char* argv[] = {const_cast<char*>(init.c_str()), nullptr};
    ::execv(init.c_str(), argv);
    return sys_error("execv " + init);
}

}  // namespace pib::client
