#include "common/fs.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pib {

std::string errno_message(std::string_view what) {
    return std::string(what) + ": " + std::strerror(errno);
}

Status read_chunks(const fs::path& path, std::size_t chunk,
                   const std::function<void(std::span<const std::uint8_t>)>& sink) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_message(path.string()));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    std::vector<std::uint8_t> buf(chunk);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            auto e = fail(Errc::io, errno_message("read " + path.string()));
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        sink(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
    }
    ::close(fd);
    return {};
}

Result<std::string> read_file(const fs::path& path) {
    std::string data;
    std::error_code ec;
    if (auto size = fs::file_size(path, ec); !ec) data.reserve(static_cast<std::size_t>(size));
    auto st = read_chunks(path, 65536, [&](std::span<const std::uint8_t> b) {
        data.append(reinterpret_cast<const char*>(b.data()), b.size());
    });
    if (!st) return st.error();
    return data;
}

static Status write_all(int fd, std::string_view data, const fs::path& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(Errc::io, errno_message("write " + path.string()));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Status fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return fail(Errc::io, errno_message("open " + dir.string()));
    int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return fail(Errc::io, errno_message("fsync " + dir.string()));
    return {};
}

Status write_file_atomic(const fs::path& path, std::string_view data, unsigned mode) {
    fs::path dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    std::string tmpl = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
    int fd = ::mkstemp(tmpl.data());
    if (fd < 0) return fail(Errc::io, errno_message("create temporary file in " + dir.string()));
    auto cleanup = [&] { ::close(fd); ::unlink(tmpl.c_str()); };
    if (auto st = write_all(fd, data, path); !st) { cleanup(); return st; }
    if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
        auto e = fail(Errc::io, errno_message("sync " + tmpl));
        cleanup();
        return e;
    }
    ::close(fd);
    if (::rename(tmpl.c_str(), path.c_str()) != 0) {
        auto e = fail(Errc::io, errno_message("rename to " + path.string()));
        ::unlink(tmpl.c_str());
        return e;
    }
    return fsync_dir(dir);
}

Result<fs::path> make_temp_dir(const fs::path& parent, std::string_view stem) {
    std::string tmpl = (parent / ("." + std::string(stem) + ".tmp-XXXXXX")).string();
    if (!::mkdtemp(tmpl.data())) {
        return fail(Errc::io, errno_message("create temporary directory in " + parent.string()));
    }
    return fs::path(tmpl);
}

Status remove_tree(const fs::path& path) {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return fail(Errc::io, "remove " + path.string() + ": " + ec.message());
    return {};
}

Status rename_noreplace(const fs::path& from, const fs::path& to) {
    // renameat2(RENAME_NOREPLACE): atomic "appear only if absent".
    if (::syscall(SYS_renameat2, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(),
                  RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) return fail(Errc::exists, to.string() + " already exists");
        return fail(Errc::io, errno_message("rename " + from.string() + " to " + to.string()));
    }
    fs::path dir = to.parent_path().empty() ? fs::path(".") : to.parent_path();
    return fsync_dir(dir);
}

Result<fs::path> join_inside(const fs::path& root, std::string_view rel) {
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    fs::path p = fs::path(rel).lexically_normal();
    if (p.empty() || p == ".") return root;
    auto first = *p.begin();
    if (first == "..") return fail(Errc::invalid, "path leaves the root: " + std::string(rel));
    return root / p;
}

}  // namespace pib
