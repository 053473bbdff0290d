// What a node's overlay holds, as a list of files and directories: the
// generated identity files (/etc/hostname, /etc/hosts, /etc/machine-id, SSH
// host keys, /etc/fstab, root's authorized_keys) and the inventory's extra
// files, each with its numeric owner and mode. Pure apart from reading extra
// files' `source:`; nothing here writes. docs/overlays.md has the formats.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.hpp"
#include "common/result.hpp"
#include "inventory/inventory.hpp"

namespace pib::overlays {

/// Every file and directory of an overlay gets this mtime (and the image its
/// superblock time), so an unchanged node renders to the same bytes.
inline constexpr std::int64_t kOverlayEpoch = 0;

/// The per-node secrets the overlay carries (kept in the secrets directory).
struct NodeSecrets {
    std::string machine_id;  ///< 32 lower-case hex digits + "\n"
    std::string ed25519_key, ed25519_pub;
    std::string rsa_key, rsa_pub;
};

/// One entry of the overlay tree.
struct OverlayEntry {
    std::string path;  ///< absolute, normal ("/etc/hostname")
    bool directory = false;
    std::string data;      ///< regular files: the bytes; empty when `source` is set
    std::string source;    ///< regular files copied from the server ("" = use `data`)
    unsigned mode = 0644;  ///< permission bits (07777)
    std::uint32_t uid = 0, gid = 0;
    bool operator==(const OverlayEntry&) const = default;
};

/// "<hostname>\n".
std::string hostname_file(std::string_view hostname);
/// Debian's /etc/hosts for `hostname` (a short name or a FQDN).
std::string hosts_file(std::string_view hostname);
/// The node's /etc/fstab: a header, then one line per entry; no "/" line.
std::string fstab_file(std::string_view node, const std::vector<inventory::FstabEntry>& entries);
/// One key per line.
std::string authorized_keys_file(const std::vector<std::string>& keys);

/// A numeric id for an owner or group as the inventory gives it: digits, or
/// "root" (0). nullopt for any other name: an overlay does not depend on a
/// release, so it cannot know that release's /etc/passwd.
std::optional<std::uint32_t> numeric_id(std::string_view owner);

/// What is wrong with an extra file's path for an overlay, or "" when it is
/// fine: the inventory parser has checked the syntax; this refuses paths
/// whose parent is a symlink in Debian (merged /usr: /bin, /lib, ...; /var/run)
/// because the overlay's directory would hide the symlink.
std::string check_extra_path(std::string_view path);

/// Checks everything about `node` that can fail before rendering (owner and
/// group names, paths, `source:` files readable), adding each problem to
/// `diags` at the node's position in `inventory_file`. Returns false if any.
bool check_node(const inventory::Node& node, const std::string& inventory_file, Diagnostics& diags);

/// The whole tree: directories (each leading to a file, "/" not included)
/// and files, sorted by path. `node` must have passed check_node.
Result<std::vector<OverlayEntry>> overlay_entries(const inventory::Node& node,
                                                  const NodeSecrets& secrets);

}  // namespace pib::overlays
