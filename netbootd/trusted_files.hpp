// Files the administrator owns and netbootd serves as they are (the iPXE
// binaries of `ipxe-dir`): unlike release content they may be symlinks
// anywhere (Debian's /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi), so they are
// resolved once, when the config is loaded, and refused when the account
// netbootd runs as could change what a name resolves to or the bytes behind
// it. Served afterwards by the path they resolved to, which has no symlinks.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <array>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::netbootd {

/// The iPXE binaries netbootd hands to PXE clients and serves from `ipxe-dir`
/// (by TFTP and HTTP /ipxe/<name>); nothing else there is served.
inline constexpr std::array<std::string_view, 5> kIpxeBinaries = {
    "undionly.kpxe", "undionly.kkpxe", "ipxe.pxe", "ipxe.efi", "snponly.efi"};

/// The account whose writes are guarded against: the one netbootd runs as.
struct Account {
    std::optional<uid_t> uid;  ///< nullopt: unknown user (modes are still checked)
    std::optional<gid_t> gid;
    std::string user;  ///< for messages
    std::string group;
};

/// The account named by `user` and `group` (getpwnam/getgrnam; unknown names stay nullopt).
Account lookup_account(const std::string& user, const std::string& group);

/// Why `who` could modify the file or directory `path` with status `st`, or nullopt.
/// Its owner can (chmod), unless that is root: netbootd running as root
/// could write anything anyway. Everyone can when other-writable. The group
/// can when group-writable and it is `who`'s group; with a POSIX ACL the
/// group bits are the ACL mask, so a named entry may grant `who` write:
/// group-writable is then refused whatever the group. The ACL is read from
/// `fd` when given, else from `path` (not following a symlink).
std::optional<std::string> writable_by(const std::filesystem::path& path, const struct stat& st,
                                       const Account& who, int fd = -1);

/// Resolves the absolute `path` as the kernel would (every symlink, "." and
/// "..") and checks every directory passed through — including those holding
/// the symlinks — and the final file against writable_by(). Returns the
/// resolved path (absolute, no symlinks). Errc::not_found when a component
/// is missing (a dangling symlink); Errc::invalid naming the component and why
/// when `who` could write it, when the result is not a regular file, or for a
/// symlink loop.
Result<std::filesystem::path> resolve_trusted(const std::filesystem::path& path,
                                              const Account& who);

/// The iPXE binaries found in `dir`: name -> resolved path. Missing names are
/// left out; every refused one adds "NAME: reason" to `problems`.
std::map<std::string, std::filesystem::path> resolve_ipxe_dir(const std::filesystem::path& dir,
                                                              const Account& who,
                                                              std::vector<std::string>& problems);

}  // namespace pib::netbootd
