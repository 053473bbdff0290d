#include "squashfs/disk_meta.hpp"

#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/fs.hpp"

namespace pib::squashfs_detail {
namespace {

Result<std::string> list_names(const std::string& path) {
    std::string names;
    for (;;) {
        ssize_t n = ::llistxattr(path.c_str(), nullptr, 0);
        if (n < 0) {
            if (errno == ENOTSUP) return std::string();
            return fail(Errc::io, errno_message("llistxattr " + path));
        }
        names.assign(static_cast<std::size_t>(n), '\0');
        if (n == 0) return names;
        ssize_t m = ::llistxattr(path.c_str(), names.data(), names.size());
        if (m >= 0) {
            names.resize(static_cast<std::size_t>(m));
            return names;
        }
        // ERANGE: the list grew between the two calls; ask again.
        if (errno != ERANGE) return fail(Errc::io, errno_message("llistxattr " + path));
    }
}

/// False when the attribute vanished between listing and reading (ENODATA).
Result<bool> get_value(const std::string& path, const char* key, std::string& value) {
    for (;;) {
        ssize_t n = ::lgetxattr(path.c_str(), key, nullptr, 0);
        if (n < 0) {
            if (errno == ENODATA) return false;
            return fail(Errc::io, errno_message("lgetxattr " + path + " " + key));
        }
        value.assign(static_cast<std::size_t>(n), '\0');
        ssize_t m = ::lgetxattr(path.c_str(), key, value.data(), value.size());
        if (m >= 0) {
            value.resize(static_cast<std::size_t>(m));
            return true;
        }
        if (errno == ENODATA) return false;
        if (errno != ERANGE) return fail(Errc::io, errno_message("lgetxattr " + path + " " + key));
    }
}

}  // namespace

Result<XattrList> read_disk_xattrs(const std::string& path) {
    auto names = list_names(path);
    if (!names) return names.error();
    XattrList out;
    const std::string& list = *names;
    for (std::size_t pos = 0; pos < list.size();) {
        std::string key(list.c_str() + pos);
        pos += key.size() + 1;
        if (key.empty()) continue;
        std::string value;
        auto got = get_value(path, key.c_str(), value);
        if (!got) return got.error();
        if (*got) out.emplace_back(std::move(key), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

Result<std::vector<std::string>> list_dir_sorted(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (!d) return fail(Errc::io, errno_message("opendir " + path));
    std::vector<std::string> names;
    errno = 0;
    while (dirent* ent = ::readdir(d)) {
        if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0)
            names.emplace_back(ent->d_name);
        errno = 0;
    }
    int e = errno;
    ::closedir(d);
    if (e != 0) {
        errno = e;
        return fail(Errc::io, errno_message("readdir " + path));
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<std::string> read_link(const std::string& path, std::size_t hint) {
    std::string buf(hint + 1, '\0');
    for (;;) {
        ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
        if (n < 0) return fail(Errc::io, errno_message("readlink " + path));
        // A result that fills the buffer may be truncated: grow and retry.
        if (static_cast<std::size_t>(n) < buf.size()) {
            buf.resize(static_cast<std::size_t>(n));
            return buf;
        }
        buf.resize(buf.size() * 2);
    }
}

}  // namespace pib::squashfs_detail
