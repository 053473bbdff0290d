// The netbootd configuration: YAML parsed once, at startup and on SIGHUP, into
// a validated NetbootdConfig that nothing downstream changes (STYLE.md rule 8).
// The key tables are in config_schema.cpp; docs/netbootd.md's key reference is
// rendered from them (tests/config/netbootd_docs_test.cpp checks it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.hpp"
#include "common/result.hpp"

namespace pib::netbootd {

/// An IPv4 address in host byte order.
using Ipv4 = std::uint32_t;

/// An IPv4 network, `192.168.1.0/24`; host bits are zero.
struct Ipv4Net {
    Ipv4 network = 0;
    int prefix = 0;
    Ipv4 mask() const { return prefix == 0 ? 0 : ~Ipv4{0} << (32 - prefix); }
    bool contains(Ipv4 a) const { return (a & mask()) == network; }
    bool operator==(const Ipv4Net&) const = default;
};

/// Dotted-quad text of an address.
std::string ipv4_string(Ipv4 a);
/// Parses a dotted quad (exactly four decimal parts 0..255, no leading zeros).
std::optional<Ipv4> parse_ipv4(std::string_view s);

enum class DhcpMode { proxy, full };
enum class NfsServer { kernel, ganesha };
enum class LogLevel { debug, info, warning, error };

/// The address pool of `full` DHCP mode.
struct DhcpPool {
    Ipv4 start = 0;
    Ipv4 end = 0;
    Ipv4 netmask = 0;
    std::optional<Ipv4> router;
    std::vector<Ipv4> dns;
    std::uint32_t lease_time = 3600;  ///< seconds
    std::filesystem::path leases_file;
};

/// The whole validated config. Built only by the loaders below and never
/// changed afterwards: the daemon holds it as `std::shared_ptr<const
/// NetbootdConfig>` and swaps the pointer on SIGHUP, so transfers in flight
/// keep the config they started with.
struct NetbootdConfig {
    std::filesystem::path file;   ///< the config file it was read from
    std::filesystem::path store;  ///< releases live in <store>/releases/<id>
    std::optional<std::filesystem::path> inventory;
    std::filesystem::path public_key;  ///< Ed25519 public key (PEM) releases are verified with

    struct Listen {
        std::string interface;        ///< "" = any interface (then address is set)
        std::optional<Ipv4> address;  ///< nullopt = the interface's first IPv4 address
        std::uint16_t tftp_port = 69;
        std::uint16_t http_port = 80;
        /// Base URL clients are given, without a trailing '/'; "" = http://<address>:<http_port>
        /// once the address is known (it is only empty when listen.address is not set).
        std::string http_base_url;
    } listen;

    struct Dhcp {
        DhcpMode mode = DhcpMode::proxy;
        std::optional<DhcpPool> pool;  ///< set in full mode only
    } dhcp;

    struct Tftp {
        unsigned max_blksize = 1468;
        /// Release served to clients the inventory does not know; nullopt = refuse them.
        std::optional<std::string> default_release;
        unsigned timeout_s = 1;  ///< first retransmission timeout (RFC 2349 `timeout`)
        unsigned retries = 5;    ///< retransmissions (with back-off) before a transfer is dropped
    } tftp;

    struct Nfs {
        bool enabled = false;
        NfsServer server = NfsServer::kernel;
        std::filesystem::path export_dir;  ///< default <store>/releases
        std::optional<Ipv4Net> subnet;     ///< set when enabled
        std::filesystem::path exports_file;  ///< "" = the server's default
        /// argv run after the file changed; nullopt = the server's default, {} = nothing
        std::optional<std::vector<std::string>> reload_command;
    } nfs;

    std::filesystem::path state_db;                ///< default <store>/state.db
    std::filesystem::path ipxe_dir = "/usr/lib/ipxe";
    /// The iPXE binaries found in ipxe_dir when the config was loaded: served
    /// name -> the path it resolved to (absolute, no symlinks), each checked
    /// so that `user` cannot change it (trusted_files.hpp). Filled only with
    /// NetbootdConfigOptions::check_files.
    std::map<std::string, std::filesystem::path> ipxe_files;

    std::string user = "netbootd";  ///< dropped to after binding the ports
    std::string group = "netbootd";
    LogLevel log_level = LogLevel::info;

    /// <store>/releases
    std::filesystem::path releases_dir() const { return store / "releases"; }
};

/// What the loader checks besides the text.
struct NetbootdConfigOptions {
    /// Check that the store, public key and inventory exist and resolve the
    /// iPXE binaries of ipxe-dir (off for docs examples).
    bool check_files = true;
};

/// Parses config text; every problem goes to `diags` as `file:line:col: key.path: message`
/// and the result is then Errc::invalid.
Result<NetbootdConfig> parse_netbootd_config(std::string_view text,
                                             const std::filesystem::path& file, Diagnostics& diags,
                                             const NetbootdConfigOptions& options = {});

/// Reads and parses a config file (for `netbootd --config` and `--check-config`).
Result<NetbootdConfig> load_netbootd_config(const std::filesystem::path& file, Diagnostics& diags,
                                            const NetbootdConfigOptions& options = {});

/// The key reference of docs/netbootd.md, rendered from the key tables.
std::string netbootd_config_reference_markdown();

const char* dhcp_mode_name(DhcpMode m);
const char* nfs_server_name(NfsServer s);
const char* log_level_name(LogLevel l);

}  // namespace pib::netbootd
