// The fleet inventory (nodes.yaml): which machines exist, how each is
// recognised on the wire (Raspberry Pi serial, MAC addresses), what it boots
// (a channel, or a pinned release) and what goes into its small signed
// overlay (identity, fstab, keys, extra files). Parsed once into a value that
// nothing downstream changes (STYLE.md rule 8); netbootd swaps the whole
// Inventory on reload.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
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

/// How a node's initramfs reads the release's root image (docs/boot.md).
enum class RootTransport {
    http,  ///< downloads root.squashfs into RAM and hashes it
    nfs,   ///< mounts the release's NFS export, dm-verity checks each block read
};

struct Node {
    std::string name;      ///< unique; [a-z0-9-], 1..63, the overlay and API name
    std::string hostname;  ///< defaults to name; may be a FQDN; lower case
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
    RootTransport root = RootTransport::http;
    SourcePos pos;  ///< where the node's entry starts, for messages
    /// Where each key's value was written, by key name (`channel`, `hostname`,
    /// ...): in the node's entry, or in `defaults`. A key absent here has its
    /// built-in default. For `pibuild node show`.
    struct Origin {
        SourcePos pos;
        bool from_defaults = false;
    };
    std::map<std::string, Origin> origins;
};

struct Inventory {
    std::filesystem::path file;  ///< where it was read from ("" when parsed from text)
    std::vector<Node> nodes;     ///< in file order
    /// The channel a node follows when it names neither channel nor release:
    /// `defaults.channel`, else `stable`; "" when `defaults` pins a release.
    std::string default_channel = "stable";

    /// O(log n) once indexed (netbootd asks per packet); a linear scan while
    /// `name_index` is empty, e.g. for an Inventory built by hand.
    const Node* by_name(std::string_view name) const;
    /// `serial` must already be 8 lower-case hex digits.
    const Node* by_serial(std::string_view serial) const;
    const Node* by_mac(const MacAddress& mac) const;

    /// Rebuilds the lookup indexes below from `nodes`. parse_inventory and
    /// load_inventory call it; call it again after changing `nodes` by hand.
    void reindex();

    // Lookup indexes (positions in `nodes`), derived from `nodes` by reindex().
    // Public only so that Inventory stays an aggregate; not part of the value.
    std::map<std::string, std::size_t, std::less<>> name_index;
    std::map<std::string, std::size_t, std::less<>> serial_index;
    std::map<MacAddress, std::size_t> mac_index;
};

/// What load_inventory checks besides the text itself.
struct InventoryOptions {
    /// Check that every `source:` file exists (off for documentation examples).
    bool check_files = true;
};

/// The 8 lower-case hex digits the Pi bootloader uses as its TFTP directory:
/// accepts 8 or 16 hex digits (as in /proc/cpuinfo or on the board's label),
/// any case, with or without "0x", and keeps the last 8. nullopt otherwise.
std::optional<std::string> normalise_serial(std::string_view s);

/// Parses inventory text; every problem goes to `diags` as
/// `file:line:col: key.path: message` (all of them, not just the first) and
/// the result is then Errc::invalid. Duplicate names, hostnames, serials, MACs
/// and static addresses are refused, naming both places. Relative `source:`
/// paths are resolved against `file`'s directory but not checked to exist.
Result<Inventory> parse_inventory(std::string_view text, const std::filesystem::path& file,
                                  Diagnostics& diags);

/// Reads and parses an inventory file. `source:` paths of extra files are
/// made absolute against the file's directory and, with options.check_files,
/// checked to exist (a missing one is reported at its `file:line:col`).
Result<Inventory> load_inventory(const std::filesystem::path& file, Diagnostics& diags,
                                 const InventoryOptions& options = {});

/// The key reference of docs/inventory.md, rendered from the key tables.
std::string inventory_reference_markdown();

}  // namespace pib::inventory
