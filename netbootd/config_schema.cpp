// The key tables of the netbootd config. Defaults here are the ones applied;
// checks that span several keys (full mode needs a pool, ...) are in config.cpp.
#include "netbootd/config_schema.hpp"

#include <charconv>

namespace pib::netbootd {

namespace {

using Key = TableKey<YamlReader, NetbootdConfig>;

template <class T, class U>
void set(T& dst, std::optional<U>&& v) {
    if (v) dst = std::move(*v);
}

std::string must(std::string_view what, std::string_view s) {
    return "must be " + std::string(what) + ", got " + quote_value(s);
}

std::string check_abs_path(std::string_view s) {
    return !s.empty() && s.front() == '/' ? "" : must("an absolute path", s);
}

std::string check_ipv4(std::string_view s) {
    return parse_ipv4(s) ? "" : must("an IPv4 address like 192.168.1.10", s);
}

std::optional<Ipv4> parse_netmask(std::string_view s) {
    auto a = parse_ipv4(s);
    if (!a || (~*a & (~*a + 1)) != 0) return std::nullopt;  // ones then zeros only
    return a;
}

std::string check_netmask(std::string_view s) {
    return parse_netmask(s) ? "" : must("a netmask like 255.255.255.0", s);
}

std::string check_cidr(std::string_view s) {
    if (parse_cidr(s)) return "";
    auto slash = s.find('/');
    auto a = parse_ipv4(s.substr(0, slash));
    int prefix = -1;
    if (slash != std::string_view::npos) {
        auto tail = s.substr(slash + 1);
        auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), prefix);
        if (ec != std::errc() || end != tail.data() + tail.size() || tail.empty()) prefix = -1;
    }
    if (a && prefix >= 0 && prefix <= 32) {
        Ipv4Net net{*a, prefix};
        net.network = *a & net.mask();
        return "has host bits set (the network is " + ipv4_string(net.network) + "/" +
               std::to_string(prefix) + ")";
    }
    return must("a network like 192.168.1.0/24", s);
}

// Linux IFNAMSIZ is 16 with the NUL; '/' and whitespace are refused by the kernel.
std::string check_ifname(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 15 && s != "." && s != "..";
    for (char c : s) ok = ok && c != '/' && c != ':' && c > ' ' && c < 0x7f;
    return ok ? "" : must("a network interface name (1-15 characters, no '/', ':' or spaces)", s);
}

std::string check_url(std::string_view s) {
    bool ok =
        (s.starts_with("http://") && s.size() > 7) || (s.starts_with("https://") && s.size() > 8);
    for (char c : s) ok = ok && c > ' ' && c < 0x7f;
    return ok ? "" : must("an http:// or https:// URL", s);
}

// Release ids are directory names below <store>/releases.
std::string check_release_id(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 128 && s.front() != '.';
    for (char c : s)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '+');
    return ok ? "" : must("a release id (letters, digits, '.', '_', '-', '+')", s);
}

// As useradd/groupadd accept them (shadow-utils, Debian's default NAME_REGEX relaxed).
std::string check_account(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 32 && s.front() != '-';
    for (char c : s)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-');
    return ok ? "" : must("a user or group name", s);
}

std::optional<Ipv4> ipv4(YamlReader& r, const YamlValue& v) {
    auto s = r.string(v, check_ipv4);
    return s ? parse_ipv4(*s) : std::nullopt;
}

std::optional<std::uint16_t> port(YamlReader& r, const YamlValue& v) {
    auto n = r.integer(v, 1, 65535);
    return n ? std::optional<std::uint16_t>(static_cast<std::uint16_t>(*n)) : std::nullopt;
}

constexpr std::string_view kModes[] = {"proxy", "full"};
constexpr std::string_view kServers[] = {"kernel", "ganesha"};
constexpr std::string_view kLevels[] = {"debug", "info", "warning", "error"};
constexpr std::string_view kRefuse[] = {"refuse"};

// ---- listen ---------------------------------------------------------------

const TableKey<YamlReader, NetbootdConfig::Listen> kListenKeys[] = {
    {{.name = "interface",
      .type = "string",
      .doc = "Network interface to serve on (DHCP is bound to it). Give this, `address` or both.",
      .example = "eth0"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Listen& o) {
         set(o.interface, r.string(v, check_ifname));
     }},
    {{.name = "address",
      .type = "IPv4 address",
      .default_note = "the interface's first IPv4 address",
      .doc = "The server's address: named to clients as TFTP server (option 54) and in URLs. "
             "Required in `full` DHCP mode.",
      .example = "192.168.1.10"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Listen& o) {
         if (auto a = ipv4(r, v)) o.address = *a;
     }},
    {{.name = "tftp-port",
      .type = "integer 1..65535",
      .default_yaml = "69",
      .doc = "UDP port of the TFTP server. Firmware always asks port 69; change it for tests only.",
      .example = "69"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Listen& o) {
         set(o.tftp_port, port(r, v));
     }},
    {{.name = "http-port",
      .type = "integer 1..65535",
      .default_yaml = "80",
      .doc = "TCP port of the HTTP server (release files, iPXE scripts, API, metrics).",
      .example = "80"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Listen& o) {
         set(o.http_port, port(r, v));
     }},
    {{.name = "http-base-url",
      .type = "URL",
      .default_note = "`http://<address>:<http-port>`",
      .doc = "Base URL given to clients (iPXE, UEFI HTTP boot, cmdline.txt), e.g. behind a "
             "reverse proxy. A trailing `/` is dropped.",
      .example = "http://boot.example.net"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Listen& o) {
         if (auto s = r.string(v, check_url)) {
             while (s->ends_with('/')) s->pop_back();
             o.http_base_url = *s;
         }
     }},
};

// ---- dhcp -----------------------------------------------------------------

const TableKey<YamlReader, DhcpPool> kPoolKeys[] = {
    {{.name = "start",
      .type = "IPv4 address",
      .required = true,
      .doc = "First address of the pool.",
      .example = "192.168.1.100"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) { set(o.start, ipv4(r, v)); }},
    {{.name = "end",
      .type = "IPv4 address",
      .required = true,
      .doc = "Last address of the pool (inclusive).",
      .example = "192.168.1.199"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) { set(o.end, ipv4(r, v)); }},
    {{.name = "netmask",
      .type = "IPv4 netmask",
      .required = true,
      .doc = "Netmask handed out (option 1); with `listen.address` it gives the subnet the pool "
             "and router must be in.",
      .example = "255.255.255.0"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) {
         if (auto s = r.string(v, check_netmask)) set(o.netmask, parse_netmask(*s));
     }},
    {{.name = "router",
      .type = "IPv4 address",
      .doc = "Default gateway handed out (option 3); none when absent.",
      .example = "192.168.1.1"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) {
         if (auto a = ipv4(r, v)) o.router = *a;
     }},
    {{.name = "dns",
      .type = "list of IPv4 addresses",
      .default_yaml = "[]",
      .doc = "DNS servers handed out (option 6).",
      .example = "[192.168.1.1]"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) {
         if (auto l = r.strings(v, false, false, check_ipv4)) {
             o.dns.clear();
             for (const auto& s : *l) o.dns.push_back(*parse_ipv4(s));
         }
     }},
    {{.name = "lease-time",
      .type = "integer 60..2147483647",
      .default_yaml = "3600",
      .doc = "Lease time in seconds (option 51).",
      .example = "86400"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) {
         if (auto n = r.integer(v, 60, 2147483647)) o.lease_time = static_cast<std::uint32_t>(*n);
     }},
    {{.name = "leases-file",
      .type = "absolute path",
      .required = true,
      .doc = "Where leases are kept; rewritten atomically so that they survive a restart or a "
             "crash. Its directory must be writable by `user`.",
      .example = "/var/lib/netbootd/leases/leases.json"},
     [](YamlReader& r, const YamlValue& v, DhcpPool& o) {
         set(o.leases_file, r.string(v, check_abs_path));
     }},
};

const TableKey<YamlReader, NetbootdConfig::Dhcp> kDhcpKeys[] = {
    {{.name = "mode",
      .type = "`proxy` or `full`",
      .default_yaml = "proxy",
      .doc = "`proxy`: answer PXE clients only, beside the network's DHCP server, never handing "
             "out an address. `full`: also hand out addresses (inventory reservations and "
             "`pool`).",
      .example = "proxy"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Dhcp& o) {
         if (auto s = r.choice(v, kModes)) o.mode = *s == "full" ? DhcpMode::full : DhcpMode::proxy;
     }},
    {{.name = "pool",
      .type = "map",
      .default_note = "none (only reservations from the inventory)",
      .doc = "Addresses for clients without a reservation; `full` mode only.",
      .example = "{start: 192.168.1.100, end: 192.168.1.199, netmask: 255.255.255.0, "
                 "leases-file: /var/lib/netbootd/leases/leases.json}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Dhcp& o) {
         DhcpPool pool;
         if (read_table(r, v, kPoolKeys, pool)) o.pool = std::move(pool);
     }},
};

// ---- tftp -----------------------------------------------------------------

const TableKey<YamlReader, NetbootdConfig::Tftp> kFallbackKeys[] = {
    {{.name = "default-release",
      .type = "release id",
      .required = true,
      .doc = "Release (below `<store>/releases/`) whose boot files unknown clients get.",
      .example = "demo-rpi4-1.0-20260101T000000Z"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Tftp& o) {
         if (auto s = r.string(v, check_release_id)) o.default_release = *s;
     }},
};

const TableKey<YamlReader, NetbootdConfig::Tftp> kTftpKeys[] = {
    {{.name = "max-blksize",
      .type = "integer 8..65464",
      .default_yaml = "1468",
      .doc = "Largest block size granted (RFC 2348). 1468 fills an Ethernet frame; the Pi "
             "bootloader asks for at most 1024-1468.",
      .example = "1468"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Tftp& o) {
         if (auto n = r.integer(v, 8, 65464)) o.max_blksize = static_cast<unsigned>(*n);
     }},
    {{.name = "root-fallback",
      .type = "`refuse` or map",
      .default_yaml = "refuse",
      .doc = "What a client the inventory does not know gets for paths outside a serial or MAC "
             "directory: `refuse` (TFTP error 1) or `{default-release: <id>}`.",
      .example = "{default-release: demo-rpi4-1.0-20260101T000000Z}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Tftp& o) {
         if (v.node.IsMap()) {
             read_table(r, v, kFallbackKeys, o);
         } else if (r.choice(v, kRefuse)) {
             o.default_release.reset();
         }
     }},
    {{.name = "timeout",
      .type = "integer 1..255",
      .default_yaml = "1",
      .doc = "Seconds before the first retransmission (RFC 2349 range); doubled on each retry. "
             "A client's `timeout` option overrides it.",
      .example = "1"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Tftp& o) {
         if (auto n = r.integer(v, 1, 255)) o.timeout_s = static_cast<unsigned>(*n);
     }},
    {{.name = "retries",
      .type = "integer 0..20",
      .default_yaml = "5",
      .doc = "Retransmissions before a stalled transfer is dropped.",
      .example = "5"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Tftp& o) {
         if (auto n = r.integer(v, 0, 20)) o.retries = static_cast<unsigned>(*n);
     }},
};

// ---- nfs ------------------------------------------------------------------

const TableKey<YamlReader, NetbootdConfig::Nfs> kNfsKeys[] = {
    {{.name = "enabled",
      .type = "boolean",
      .default_yaml = "false",
      .doc = "Publish each release read-only through the system's NFS server.",
      .example = "true"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         set(o.enabled, r.boolean(v));
     }},
    {{.name = "server",
      .type = "`kernel` or `ganesha`",
      .default_yaml = "kernel",
      .doc = "`kernel`: files in `/etc/exports.d/` and `exportfs`. `ganesha`: NFS-Ganesha "
             "export blocks.",
      .example = "ganesha"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         if (auto s = r.choice(v, kServers))
             o.server = *s == "ganesha" ? NfsServer::ganesha : NfsServer::kernel;
     }},
    {{.name = "export-dir",
      .type = "absolute path",
      .default_note = "`<store>/releases`",
      .doc = "Directory whose release subdirectories are exported.",
      .example = "/var/lib/netbootd/releases"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         set(o.export_dir, r.string(v, check_abs_path));
     }},
    {{.name = "exports-file",
      .type = "absolute path",
      .default_note = "`/etc/exports.d/netbootd.exports` (kernel), `/etc/ganesha/netbootd-exports.conf` (ganesha)",
      .doc = "The file netbootd writes the exports to (atomically, only when it changes). For "
             "ganesha, `%include` it from ganesha.conf.",
      .example = "/etc/exports.d/netbootd.exports"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         set(o.exports_file, r.string(v, check_abs_path));
     }},
    {{.name = "reload-command",
      .type = "list of strings",
      .default_note = "`[exportfs, -ra]` (kernel), `[systemctl, reload, nfs-ganesha]` (ganesha)",
      .doc = "Command (argv) run as root after the exports file changed; `[]` runs nothing (a "
             "systemd path unit may watch the file instead). See docs/nfs.md.",
      .example = "[exportfs, -ra]"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         if (auto l = r.strings(v, false, false)) o.reload_command = *l;
     }},
    {{.name = "subnet",
      .type = "IPv4 network (CIDR)",
      .default_note = "none; required when `enabled`",
      .doc = "The boot subnet, the only clients the exports allow (`ro,root_squash`).",
      .example = "192.168.1.0/24"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig::Nfs& o) {
         if (auto s = r.string(v, check_cidr)) o.subnet = parse_cidr(*s);
     }},
};

// ---- top level ----------------------------------------------------------

const Key kTopKeys[] = {
    {{.name = "store",
      .type = "absolute path",
      .required = true,
      .doc = "The release store pibuild publishes to; releases live in `<store>/releases/<id>`. "
             "Must be a directory.",
      .example = "/var/lib/netbootd"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.store, r.string(v, check_abs_path));
     }},
    {{.name = "inventory",
      .type = "absolute path",
      .default_note = "none (every client is unknown)",
      .doc = "The inventory file mapping Pi serials and MAC addresses to nodes and releases.",
      .example = "/etc/netbootd/nodes.yaml"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         if (auto s = r.string(v, check_abs_path)) o.inventory = *s;
     }},
    {{.name = "public-key",
      .type = "absolute path",
      .required = true,
      .doc = "Ed25519 public key (PEM) that release manifests must be signed with. Must be "
             "readable.",
      .example = "/etc/netbootd/fleet.pub"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.public_key, r.string(v, check_abs_path));
     }},
    {{.name = "listen",
      .type = "map",
      .required = true,
      .doc = "Where to serve: see `listen` below.",
      .example = "{interface: eth0}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         read_table(r, v, kListenKeys, o.listen);
     }},
    {{.name = "dhcp",
      .type = "map",
      .default_yaml = "{}",
      .doc = "DHCP mode and pool: see `dhcp` below.",
      .example = "{mode: proxy}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         read_table(r, v, kDhcpKeys, o.dhcp);
     }},
    {{.name = "tftp",
      .type = "map",
      .default_yaml = "{}",
      .doc = "TFTP limits and the fallback for unknown clients: see `tftp` below.",
      .example = "{max-blksize: 1468}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         read_table(r, v, kTftpKeys, o.tftp);
     }},
    {{.name = "nfs",
      .type = "map",
      .default_yaml = "{}",
      .doc = "NFS publishing of releases: see `nfs` below.",
      .example = "{enabled: false}"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         read_table(r, v, kNfsKeys, o.nfs);
     }},
    {{.name = "state",
      .type = "absolute path",
      .default_note = "`<store>/state.db`",
      .doc = "The fleet state database (SQLite): channels and boot reports. `pibuild` writes it; "
             "netbootd reads channels from it and records boot reports.",
      .example = "/var/lib/netbootd/state.db"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.state_db, r.string(v, check_abs_path));
     }},
    {{.name = "ipxe-dir",
      .type = "absolute path",
      .default_yaml = "/usr/lib/ipxe",
      .doc = "Where the iPXE binaries handed to BIOS (`undionly.kpxe`, `undionly.kkpxe`, "
             "`ipxe.pxe`) and UEFI (`ipxe.efi`, `snponly.efi`) PXE clients are (Debian package "
             "`ipxe`); nothing else there is served. They are the administrator's files: resolved "
             "through symlinks when the config is loaded (Debian's `ipxe.efi` is one to "
             "`/boot/ipxe.efi`) and served from where they lead. One that `user` could change (it "
             "or a directory on the way owned by `user`, writable by everyone or by `group`) "
             "refuses the config; missing ones are skipped.",
      .example = "/usr/lib/ipxe"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.ipxe_dir, r.string(v, check_abs_path));
     }},
    {{.name = "user",
      .type = "user name",
      .default_yaml = "netbootd",
      .doc = "User netbootd switches to after binding its ports as root.",
      .example = "netbootd"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.user, r.string(v, check_account));
     }},
    {{.name = "group",
      .type = "group name",
      .default_yaml = "netbootd",
      .doc = "Group netbootd switches to after binding (supplementary groups are dropped).",
      .example = "netbootd"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         set(o.group, r.string(v, check_account));
     }},
    {{.name = "log-level",
      .type = "`debug`, `info`, `warning` or `error`",
      .default_yaml = "info",
      .doc = "Least severe event logged.",
      .example = "info"},
     [](YamlReader& r, const YamlValue& v, NetbootdConfig& o) {
         if (auto s = r.choice(v, kLevels)) {
             o.log_level = *s == "debug"     ? LogLevel::debug
                           : *s == "warning" ? LogLevel::warning
                           : *s == "error"   ? LogLevel::error
                                             : LogLevel::info;
         }
     }},
};

}  // namespace

std::optional<Ipv4Net> parse_cidr(std::string_view s) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto a = parse_ipv4(s.substr(0, slash));
    auto tail = s.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), prefix);
    if (!a || tail.empty() || ec != std::errc() || end != tail.data() + tail.size() || prefix < 0 ||
        prefix > 32 || (tail.size() > 1 && tail[0] == '0'))
        return std::nullopt;
    Ipv4Net net{*a, prefix};
    if ((*a & ~net.mask()) != 0) return std::nullopt;
    return net;
}

void read_config(YamlReader& r, const YamlValue& root, NetbootdConfig& out) {
    read_table(r, root, kTopKeys, out);
}

std::vector<MapDoc> config_maps() {
    return {
        table_doc("", "", kTopKeys),
        table_doc("listen", "Where netbootd serves. Give `interface`, `address` or both.",
                  kListenKeys),
        table_doc("dhcp", "proxyDHCP (UDP 67 and 4011) and, in `full` mode, addresses.", kDhcpKeys),
        table_doc("dhcp.pool",
                  "Required in `full` mode, refused in `proxy` mode. `start`, "
                  "`end` and `router` must be in the subnet of `listen.address` "
                  "and `netmask`.",
                  kPoolKeys),
        table_doc("tftp", "", kTftpKeys),
        table_doc("tftp.root-fallback", "The map form of `root-fallback`.", kFallbackKeys),
        table_doc("nfs",
                  "netbootd does not implement NFS; it writes exports for the system's "
                  "server (kernel nfsd or NFS-Ganesha).",
                  kNfsKeys),
    };
}

}  // namespace pib::netbootd
