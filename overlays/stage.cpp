#include "overlays/stage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.hpp"

namespace pib::overlays {

namespace {

// chown before chmod: chown(2) clears set-user-ID and set-group-ID bits.
Status set_attrs(int fd, const fs::path& path, std::uint32_t uid, std::uint32_t gid,
                 unsigned mode) {
    if (::fchown(fd, uid, gid) != 0) {
        return fail(Errc::io,
                    errno_message("chown " + std::to_string(uid) + ":" + std::to_string(gid) + " " +
                                  path.string() + (errno == EPERM ? " (needs root)" : "")));
    }
    if (::fchmod(fd, mode) != 0) return fail(Errc::io, errno_message("chmod " + path.string()));
    return {};
}

Status make_dir(const fs::path& path, std::uint32_t uid, std::uint32_t gid, unsigned mode) {
    if (::mkdir(path.c_str(), 0700) != 0)
        return fail(Errc::io, errno_message("mkdir " + path.string()));
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return fail(Errc::io, errno_message("open " + path.string()));
    Status st = set_attrs(fd, path, uid, gid, mode);
    ::close(fd);
    return st;
}

Status write_all(int fd, const fs::path& path, std::span<const std::uint8_t> data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, errno_message("write " + path.string()));
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

Status make_file(const fs::path& path, const OverlayEntry& e) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail(Errc::io, errno_message("create " + path.string()));
    Status st;
    if (e.source.empty()) {
        st = write_all(fd, path,
                       {reinterpret_cast<const std::uint8_t*>(e.data.data()), e.data.size()});
    } else {
        Status inner;
        st = read_chunks(e.source, 1 << 20, [&](std::span<const std::uint8_t> chunk) {
            if (inner) inner = write_all(fd, path, chunk);
        });
        if (st) st = inner;
    }
    if (st) st = set_attrs(fd, path, e.uid, e.gid, e.mode);
    ::close(fd);
    return st;
}

}  // namespace

Status stage_tree(const fs::path& root, const std::vector<OverlayEntry>& entries) {
    PIB_TRY(make_dir(root, 0, 0, 0755));
    for (const auto& e : entries) {
        auto path = join_inside(root, e.path);
        if (!path) return path.error();
        if (e.directory) {
            PIB_TRY(make_dir(*path, e.uid, e.gid, e.mode));
        } else {
            PIB_TRY(make_file(*path, e));
        }
    }
    return {};
}

}  // namespace pib::overlays
