// Internal to pib_recipe: the syntax of single recipe values (names, paths
// inside the root, modes, sizes). Each check returns "" when the text is fine,
// else the problem as "must ..., got 'TEXT'" for a diagnostic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pib::recipe {

/// Recipe name: [a-z0-9][a-z0-9._-]*, at most 64 characters (used in release ids).
std::string check_name(std::string_view s);
/// Recipe version: like a name, plus '+' and '~'.
std::string check_version(std::string_view s);
/// Debian package name (policy 5.6.1), optionally with :arch, =version or /release.
std::string check_package(std::string_view s);
/// systemd unit name, e.g. "ssh.service" or "getty@tty1.service".
std::string check_unit(std::string_view s);
/// User or group name as useradd/groupadd accept it (at most 32 characters).
std::string check_account(std::string_view s);
/// Owner or group of a file: an account name or a numeric id.
std::string check_owner(std::string_view s);
/// Absolute path inside the root without `..` components; globs allowed.
std::string check_root_path(std::string_view s);
/// A path to remove: check_root_path, and not the whole root.
std::string check_remove_path(std::string_view s);
/// boot.initramfs: a path inside the root, or "none".
std::string check_initramfs(std::string_view s);
/// A firmware file name or glob, relative to the firmware directory.
std::string check_firmware_file(std::string_view s);
/// 64 hexadecimal digits (either case).
std::string check_sha256(std::string_view s);
/// Debian suite or codename ("bookworm", "stable", "bookworm-backports").
std::string check_suite(std::string_view s);
/// Debian archive component ("main", "non-free-firmware").
std::string check_component(std::string_view s);
/// mmdebstrap mirror: an http, https or file URL.
std::string check_mirror(std::string_view s);
/// A shell script for `run`: not empty.
std::string check_script(std::string_view s);
/// crypt(3) hash for /etc/shadow: no ':' and no line breaks.
std::string check_password_hash(std::string_view s);
/// Kernel command line: one line.
std::string check_cmdline(std::string_view s);
/// Octal file mode digits, "644" or "0644" (at most 07777); nullopt otherwise.
std::optional<unsigned> parse_mode(std::string_view s);
/// Size as bytes or with a K/M (KiB/MiB) suffix: "131072", "128K", "1M".
std::optional<std::uint64_t> parse_size(std::string_view s);

}  // namespace pib::recipe
