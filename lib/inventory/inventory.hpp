// The fleet inventory (nodes.yaml): which machines exist, how each is
// recognised on the wire (Raspberry Pi serial, MAC addresses), what it boots
// (a channel, or a pinned release) and what goes into its small signed
// overlay (identity, fstab, keys, extra files). Parsed once into a value that
// nothing downstream changes (STYLE.md rule 8); netbootd swaps the whole
// Inventory on reload.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.hpp"
#include "common/result.hpp"
#include "config/source_pos.hpp"

namespace pib::inventory {

/// An IPv4 address in host byte order.
using Ipv4 = std::uint32_t;

struct MacAddress {
    std::array<std::uint8_t, 6> bytes{};
    /// "aa:bb:cc:dd:ee:ff", lower case.
    std::string text() const;
    /// "aa-bb-cc-dd-ee-ff": the Pi bootloader's TFTP_PREFIX=2 directory name.
    std::string dashed() const;
    auto operator<=>(const MacAddress&) const = default;
};
/// Accepts "aa:bb:cc:dd:ee:ff" and "aa-bb-cc-dd-ee-ff", any case.
std::optional<MacAddress> parse_mac(std::string_view s);

/// Static network settings: handed to the node on its kernel command line
/// (`ip=`) and, in netbootd's `full` DHCP mode, its reservation.
struct StaticNetwork {
    Ipv4 address = 0;
    int prefix = 24;
    std::optional<Ipv4> gateway;
    std::vector<Ipv4> dns;
};

/// One /etc/fstab line.
struct FstabEntry {
    std::string device;      ///< fs_spec: "UUID=...", "/dev/sda1", "server:/export"
    std::string mountpoint;  ///< absolute path, or "none" for swap
    std::string type;        ///< "ext4", "nfs4", "swap", ...
    std::string options = "defaults";
    int dump = 0;
    int pass = 0;
};

/// An extra file in the overlay.
struct NodeFile {
    std::string path;  ///< absolute path on the node, normalised, never "/" or with ".."
    /// Exactly one of content (inline text) and source (a file on the server,
    /// resolved relative to the inventory's directory) is set.
    std::optional<std::string> content;
    std::optional<std::filesystem::path> source;
    unsigned mode = 0644;
    std::string owner = "root";  ///< user name or numeric uid
    std::string group = "root";  ///< group name or numeric gid
};

struct Node {
    std::string name;      ///< unique; [a-z0-9-], 1..63, the overlay and API name
    std::string hostname;  ///< defaults to name; may be a FQDN
    /// Raspberry Pi serial: 8 lower-case hex digits (the TFTP directory name).
    std::optional<std::string> serial;
    std::vector<MacAddress> macs;
    /// What it boots: a pinned release id, else the release of `channel`.
    std::optional<std::string> release;
    std::string channel = "stable";
    std::optional<StaticNetwork> network;
    std::vector<FstabEntry> fstab;
    std::vector<std::string> authorized_keys;  ///< OpenSSH public key lines, for root
    std::vector<NodeFile> files;
    std::map<std::string, std::string> labels;
    /// Extra kernel command line words appended for this node.
    std::string kernel_args;
    SourcePos pos;  ///< where the node's entry starts, for messages
};

struct Inventory {
    std::filesystem::path file;  ///< where it was read from ("" when parsed from text)
    std::vector<Node> nodes;     ///< in file order

    const Node* by_name(std::string_view name) const;
    /// `serial` must already be 8 lower-case hex digits.
    const Node* by_serial(std::string_view serial) const;
    const Node* by_mac(const MacAddress& mac) const;
};

/// Parses inventory text; every problem goes to `diags` as
/// `file:line:col: key.path: message` (all of them, not just the first) and
/// the result is then Errc::invalid. Duplicate names, serials, MACs and
/// static addresses are refused, naming both places.
Result<Inventory> parse_inventory(std::string_view text, const std::filesystem::path& file,
                                  Diagnostics& diags);

/// Reads and parses an inventory file. `source:` paths of extra files are
/// checked to exist (relative ones against the file's directory).
Result<Inventory> load_inventory(const std::filesystem::path& file, Diagnostics& diags);

/// The key reference of docs/inventory.md, rendered from the key tables.
std::string inventory_reference_markdown();

}  // namespace pib::inventory
