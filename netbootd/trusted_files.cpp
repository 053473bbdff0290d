#include "netbootd/trusted_files.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

namespace pib::netbootd {

namespace fs = std::filesystem;

namespace {

std::string mode_text(const struct stat& st) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return buf;
}

std::string kind_of(const struct stat& st) { return S_ISDIR(st.st_mode) ? "directory " : ""; }

bool has_access_acl(const fs::path& path, int fd) {
    constexpr const char* kAcl = "system.posix_acl_access";
    return (fd >= 0 ? fgetxattr(fd, kAcl, nullptr, 0) : lgetxattr(path.c_str(), kAcl, nullptr, 0)) >
           0;
}

/// Linux follows at most 40 symlinks in one lookup (path_resolution(7)).
constexpr int kMaxSymlinks = 40;

std::deque<std::string> components(const std::string& p) {
    std::deque<std::string> out;
    std::size_t i = 0;
    while (i < p.size()) {
        std::size_t j = p.find('/', i);
        if (j == std::string::npos) j = p.size();
        if (j > i) out.emplace_back(p.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

}  // namespace

Account lookup_account(const std::string& user, const std::string& group) {
    Account a;
    a.user = user;
    a.group = group;
    if (const passwd* pw = getpwnam(user.c_str())) a.uid = pw->pw_uid;
    if (const struct group* gr = getgrnam(group.c_str())) a.gid = gr->gr_gid;
    return a;
}

std::optional<std::string> writable_by(const fs::path& path, const struct stat& st,
                                       const Account& who, int fd) {
    const std::string what = kind_of(st) + path.string();
    if (who.uid && *who.uid != 0 && st.st_uid == *who.uid)
        return what + " is owned by " + who.user + ", which can change its mode";
    if (st.st_mode & S_IWOTH) return what + " is writable by everyone (mode " + mode_text(st) + ")";
    if (st.st_mode & S_IWGRP) {
        if (who.gid && st.st_gid == *who.gid)
            return what + " is writable by group " + who.group + " (mode " + mode_text(st) + ")";
        if (has_access_acl(path, fd))
            return what + " is group-writable with a POSIX ACL (mode " + mode_text(st) +
                   "; the group bits are the ACL mask, a named entry may let " + who.user +
                   " write)";
    }
    return std::nullopt;
}

Result<fs::path> resolve_trusted(const fs::path& path, const Account& who) {
    if (!path.is_absolute()) return fail(Errc::invalid, path.string() + " is not an absolute path");
    std::deque<std::string> todo = components(path.string());
    fs::path cur = "/";
    struct stat st {};
    auto check = [&](const fs::path& p) -> Status {
        if (auto why = writable_by(p, st, who)) return fail(Errc::invalid, *why);
        return {};
    };
    if (lstat("/", &st) != 0)
        return fail(Errc::io, std::string("lstat /: ") + std::strerror(errno));
    PIB_TRY(check(cur));
    int links = 0;
    bool is_file = false;
    while (!todo.empty()) {
        const std::string name = std::move(todo.front());
        todo.pop_front();
        if (name == ".") continue;
        if (is_file) return fail(Errc::not_found, cur.string() + " is not a directory");
        if (name == "..") {
            // `cur` has no symlinks: its parent is the physical one, checked on the way in.
            cur = cur.parent_path();
            continue;
        }
        const fs::path next = cur / name;
        if (lstat(next.c_str(), &st) != 0) {
            const int e = errno;
            if (e == ENOENT || e == ENOTDIR)
                return fail(Errc::not_found, next.string() + " does not exist");
            return fail(Errc::io, "lstat " + next.string() + ": " + std::strerror(e));
        }
        if (S_ISLNK(st.st_mode)) {
            // Whoever can write `cur` could repoint this link: `cur` was checked above.
            if (++links > kMaxSymlinks)
                return fail(Errc::invalid, path.string() + ": too many levels of symbolic links");
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n = readlink(next.c_str(), target.data(), target.size());
            if (n < 0)
                return fail(Errc::io, "readlink " + next.string() + ": " + std::strerror(errno));
            target.resize(static_cast<std::size_t>(n));
            auto more = components(target);
            todo.insert(todo.begin(), more.begin(), more.end());
            if (!target.empty() && target.front() == '/') cur = "/";
            continue;
        }
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
            return fail(Errc::invalid, next.string() + " is not a regular file");
        PIB_TRY(check(next));
        cur = next;
        is_file = S_ISREG(st.st_mode);
    }
    if (!is_file) return fail(Errc::invalid, cur.string() + " is not a regular file");
    return cur;
}

std::map<std::string, fs::path> resolve_ipxe_dir(const fs::path& dir, const Account& who,
                                                 std::vector<std::string>& problems) {
    std::map<std::string, fs::path> out;
    for (std::string_view name : kIpxeBinaries) {
        const fs::path link = dir / name;
        auto r = resolve_trusted(link, who);
        if (r) {
            out.emplace(name, std::move(*r));
        } else if (r.error().code != Errc::not_found) {
            problems.push_back(std::string(name) + ": " + r.error().message);
        }
    }
    return out;
}

}  // namespace pib::netbootd
