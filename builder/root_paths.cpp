#include "builder/root_paths.hpp"

#include <fcntl.h>
#include <glob.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <algorithm>

#include "common/fs.hpp"

namespace pib {

namespace {

int openat2_in_root(int rootfd, const std::string& rel, std::uint64_t flags) {
    open_how how{};
    how.flags = flags | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, rootfd, rel.c_str(), &how, sizeof how));
}

Result<std::filesystem::path> fd_path(int fd) {
    char link[64];
    std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    std::error_code ec;
    auto p = std::filesystem::read_symlink(link, ec);
    if (ec) return fail(Errc::io, std::string("readlink ") + link + ": " + ec.message());
    return p;
}

// Parses passwd/group style files: name:x:id:...
std::optional<std::uint32_t> lookup_id(const std::filesystem::path& file, const std::string& name) {
    auto text = read_file(file);
    if (!text) return std::nullopt;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        auto c1 = line.find(':');
        if (c1 == std::string::npos || line.compare(0, c1, name) != 0 || c1 != name.size()) continue;
        auto c2 = line.find(':', c1 + 1);
        auto c3 = line.find(':', c2 + 1);
        if (c2 == std::string::npos || c3 == std::string::npos) continue;
        std::uint32_t id = 0;
        auto [p, ec] = std::from_chars(line.data() + c2 + 1, line.data() + c3, id);
        if (ec == std::errc() && p == line.data() + c3) return id;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> numeric(const std::string& s) {
    std::uint32_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return v;
    return std::nullopt;
}

}  // namespace

Result<std::filesystem::path> resolve_in_root(const std::filesystem::path& root,
                                              const std::string& path, bool create_parents) {
    if (path.empty() || path.front() != '/') {
        return fail(Errc::invalid, "not an absolute path: " + path);
    }
    auto norm = std::filesystem::path(path).lexically_normal();
    std::filesystem::path parent_rel = norm.relative_path().parent_path();
    std::string leaf = norm.filename().string();

    int rootfd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) return fail(Errc::io, errno_message("open " + root.string()));
    int dirfd = ::fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
    // Walk component by component so that missing parents can be created.
    for (const auto& comp : parent_rel) {
        int next = openat2_in_root(dirfd, comp.string(), O_PATH | O_DIRECTORY);
        if (next < 0 && errno == ENOENT && create_parents) {
            // mkdirat needs a real directory fd; O_PATH fds are fine for *at() calls.
            if (::mkdirat(dirfd, comp.c_str(), 0755) != 0 && errno != EEXIST) {
                auto e = fail(Errc::io, errno_message("mkdir " + path));
                ::close(dirfd);
                ::close(rootfd);
                return e;
            }
            next = openat2_in_root(dirfd, comp.string(), O_PATH | O_DIRECTORY);
        }
        if (next < 0) {
            auto e = fail(errno == ENOENT ? Errc::not_found : Errc::io,
                          errno_message("resolve " + path + " inside the image"));
            ::close(dirfd);
            ::close(rootfd);
            return e;
        }
        ::close(dirfd);
        dirfd = next;
    }
    // RESOLVE_IN_ROOT was relative to dirfd; re-check the result is under root.
    auto dir = fd_path(dirfd);
    auto rootp = fd_path(rootfd);
    ::close(dirfd);
    ::close(rootfd);
    if (!dir) return dir.error();
    if (!rootp) return rootp.error();
    auto rel = dir->lexically_relative(*rootp);
    if (rel.empty() || *rel.begin() == "..") {
        return fail(Errc::invalid, path + " resolves outside the image");
    }
    return leaf.empty() ? *dir : *dir / leaf;
}

Result<std::vector<std::filesystem::path>> glob_in_root(const std::filesystem::path& root,
                                                       const std::string& pattern) {
    if (pattern.empty() || pattern.front() != '/') {
        return fail(Errc::invalid, "not an absolute path: " + pattern);
    }
    // Globbing resolves the image's symlinks against the host root, so each
    // match is re-resolved inside the image before use.
    std::string full = root.string() + pattern;
    glob_t g{};
    int rc = ::glob(full.c_str(), GLOB_NOSORT | GLOB_NOESCAPE, nullptr, &g);
    std::vector<std::filesystem::path> out;
    if (rc == 0) {
        for (size_t i = 0; i < g.gl_pathc; ++i) {
            std::string img = std::string(g.gl_pathv[i]).substr(root.string().size());
            auto r = resolve_in_root(root, img, false);
            if (!r) { ::globfree(&g); return r.error(); }
            out.push_back(*r);
        }
    }
    ::globfree(&g);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<uid_t> lookup_user(const std::filesystem::path& root, const std::string& name) {
    if (auto n = numeric(name)) return static_cast<uid_t>(*n);
    if (auto id = lookup_id(root / "etc/passwd", name)) return static_cast<uid_t>(*id);
    return fail(Errc::not_found, "user '" + name + "' does not exist in the image's /etc/passwd");
}

Result<gid_t> lookup_group(const std::filesystem::path& root, const std::string& name) {
    if (auto n = numeric(name)) return static_cast<gid_t>(*n);
    if (auto id = lookup_id(root / "etc/group", name)) return static_cast<gid_t>(*id);
    return fail(Errc::not_found, "group '" + name + "' does not exist in the image's /etc/group");
}

std::string image_path(const std::filesystem::path& root, const std::filesystem::path& host) {
    auto rel = host.lexically_relative(root);
    return "/" + rel.string();
}

}  // namespace pib
