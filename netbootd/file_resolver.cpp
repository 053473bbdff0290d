#include "netbootd/file_resolver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tftp/path.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;

std::string ClientAddress::text() const {
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &addr.sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(addr.sin_port));
}

namespace {

/// pread()-based source over one descriptor; closes it when the last transfer lets go.
class FdSource : public pib::tftp::BlockSource {
public:
    explicit FdSource(int fd) : fd_(fd) {}
    ~FdSource() override { close(fd_); }
    pib::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> out) const override {
        std::size_t done = 0;
        while (done < out.size()) {
            ssize_t n = pread(fd_, out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
            if (n < 0) {
                if (errno == EINTR) continue;
                return fail(Errc::io, std::string("pread: ") + std::strerror(errno));
            }
            if (n == 0) break;
            done += static_cast<std::size_t>(n);
        }
        return done;
    }

private:
    int fd_;
};

}  // namespace

pib::Result<std::unique_ptr<DirectoryResolver>> DirectoryResolver::create(const std::string& root) {
    int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(errno == ENOENT ? Errc::not_found : Errc::io,
                    "open " + root + ": " + std::strerror(errno));
    return std::unique_ptr<DirectoryResolver>(new DirectoryResolver(fd));
}

DirectoryResolver::~DirectoryResolver() {
    if (root_fd_ >= 0) close(root_fd_);
}

std::size_t DirectoryResolver::open_files() {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (auto& [k, w] : shared_) n += w.expired() ? 0 : 1;
    return n;
}

pib::Result<pib::tftp::FileInfo> DirectoryResolver::open(const std::string& clean_path,
                                                         const ClientAddress&) {
    auto r = open_one(clean_path);
    if (!r && r.error().code == Errc::not_found) {
        if (auto pi = pib::tftp::parse_pi_path(clean_path)) return open_one(pi->rest);
    }
    return r;
}

pib::Result<int> open_beneath(int dir_fd, const std::string& path, struct stat& st) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof how));
    if (fd < 0) {
        int e = errno;
        // EXDEV: the path (a "..", an absolute symlink, a link out) tried to leave the root.
        if (e == EXDEV || e == ELOOP || e == EACCES || e == EPERM)
            return fail(Errc::invalid, "access denied: " + pib::tftp::sanitize(path));
        if (e == ENOENT || e == ENOTDIR)
            return fail(Errc::not_found, "file not found: " + pib::tftp::sanitize(path));
        return fail(Errc::io, "openat2 " + pib::tftp::sanitize(path) + ": " + std::strerror(e));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(Errc::invalid, "not a regular file: " + pib::tftp::sanitize(path));
    }
    return fd;
}

pib::Result<int> DirectoryResolver::open_fd(const std::string& path, struct stat& st) const {
    return open_beneath(root_fd_, path, st);
}

pib::Result<int> PinnedFilesResolver::open_fd(const std::string& name, struct stat& st) const {
    auto it = files_.find(name);
    if (it == files_.end()) return fail(Errc::not_found, "file not found: " + pib::tftp::sanitize(name));
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    // The path had no symlinks when it was checked; one now means it changed since.
    how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, it->second.c_str(), &how, sizeof how));
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return fail(Errc::not_found, "file not found: " + name);
        if (e == ELOOP || e == EXDEV || e == EACCES || e == EPERM)
            // HTTP clients see this message: no server paths in it.
            return fail(Errc::invalid, "access denied: " + name + " (" + std::strerror(e) +
                                           ": its path changed since the config was loaded)");
        return fail(Errc::io, "openat2 " + name + ": " + std::strerror(e));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return fail(Errc::invalid, "not a regular file: " + name);
    }
    if (auto why = pib::netbootd::writable_by(name, st, who_, fd)) {
        close(fd);
        return fail(Errc::invalid, "access denied: " + *why + " since the config was loaded");
    }
    return fd;
}

pib::Result<pib::tftp::FileInfo> DirectoryResolver::open_one(const std::string& path) {
    struct stat st{};
    auto opened = open_fd(path, st);
    if (!opened) return opened.error();
    int fd = *opened;
    Key key{path, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    std::lock_guard lock(mu_);
    auto it = shared_.find(key);
    if (it != shared_.end()) {
        if (auto src = it->second.lock()) {
            close(fd);
            return pib::tftp::FileInfo{static_cast<std::uint64_t>(st.st_size), std::move(src)};
        }
    }
    // Drop entries whose last transfer ended, so the map stays as small as the storm.
    for (auto i = shared_.begin(); i != shared_.end();) i = i->second.expired() ? shared_.erase(i) : std::next(i);
    std::shared_ptr<const pib::tftp::BlockSource> src = std::make_shared<FdSource>(fd);
    shared_[key] = src;
    return pib::tftp::FileInfo{static_cast<std::uint64_t>(st.st_size), std::move(src)};
}

}  // namespace netbootd
