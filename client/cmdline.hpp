// The kernel command line pib-init reads (/proc/cmdline): which server,
// release and node to boot, how to reach the network, which modules first.
// Every parameter is documented in docs/boot.md; unknown words are ignored
// because the same line carries the kernel's own parameters.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::client {

/// How the root is fetched: HTTP download (default) or an NFS export.
enum class RootSource { http, nfs };

/// `ip=<client>::<gw>:<netmask>:<hostname>:<dev>:off` (kernel nfsroot.txt form).
struct StaticIp {
    std::array<std::uint8_t, 4> address{};
    std::array<std::uint8_t, 4> gateway{};  ///< all zero: no default route
    std::array<std::uint8_t, 4> netmask{};
    std::string hostname;
    std::string device;  ///< "" = use pib.iface or the first non-loopback interface
    bool operator==(const StaticIp&) const = default;
};

/// The parsed command line.
struct BootParams {
    std::string server;   ///< pib.server: "http://host[:port][/prefix]", no trailing '/'
    std::string release;  ///< pib.release
    std::string node;     ///< pib.node; "" = no node overlay
    RootSource root = RootSource::http;  ///< pib.root
    std::string nfs;                     ///< pib.nfs=SERVER:/PATH
    std::optional<StaticIp> ip;          ///< ip=...; nullopt = DHCP
    std::string iface;                   ///< pib.iface
    std::vector<std::string> modules;    ///< pib.modules=a,b,c
    bool debug = false;                  ///< pib.debug
    std::string init = "/sbin/init";     ///< init=
    bool operator==(const BootParams&) const = default;
};

/// Splits a kernel command line into words the way the kernel does
/// (lib/cmdline.c next_arg): spaces separate, double quotes group and are
/// removed (`a="b c"` is the word `a=b c`).
std::vector<std::string> split_cmdline(std::string_view line);

/// Parses the words pib-init cares about. Errc::invalid, every problem listed,
/// when a pib.* value is malformed or pib.server / pib.release is missing.
/// `ip=dhcp` (or any `ip=` the kernel itself handles without an address) means DHCP.
/// Words after a bare `--` are init's arguments and are not read. A later
/// word wins over an earlier one with the same key.
Result<BootParams> parse_cmdline(std::string_view line);

/// The line pib-init parses: the words baked into the initramfs
/// (/etc/pib-init/cmdline, may be empty) followed by the kernel's, so the
/// kernel command line overrides the baked defaults.
std::string effective_cmdline(std::string_view baked, std::string_view proc_cmdline);

/// Parses the `ip=` value; nullopt for DHCP forms ("dhcp", "on", "any", "").
Result<std::optional<StaticIp>> parse_ip_param(std::string_view value);

/// Parses dotted-quad IPv4 text.
std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text);

}  // namespace pib::client
