// Entry points of the netbootd config: text -> validated NetbootdConfig or
// every problem found; the checks that span several keys; the key reference.
#include "config/ipv4.hpp"
#include "netbootd/config.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "netbootd/config_schema.hpp"
#include "netbootd/trusted_files.hpp"

namespace pib::netbootd {

std::optional<Ipv4> parse_ipv4(std::string_view s) { return ::pib::parse_ipv4(s); }

std::string ipv4_string(Ipv4 a) { return ::pib::ipv4_text(a); }

const char* dhcp_mode_name(DhcpMode m) { return m == DhcpMode::full ? "full" : "proxy"; }
const char* nfs_server_name(NfsServer s) { return s == NfsServer::ganesha ? "ganesha" : "kernel"; }
const char* log_level_name(LogLevel l) {
    switch (l) {
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warning:
            return "warning";
        case LogLevel::error:
            return "error";
    }
    return "?";
}

namespace {

// Where to report a problem with `path`: at its value, else at the closest
// enclosing key that was given, else at the top.
SourcePos at(const YamlReader& r, std::string path) {
    for (;;) {
        if (const Where* w = r.where(path)) return w->value;
        auto dot = path.rfind('.');
        if (dot == std::string::npos) return {1, 1};
        path.erase(dot);
    }
}

void check_listen(YamlReader& r, NetbootdConfig& c) {
    auto& l = c.listen;
    if (r.where("listen") && l.interface.empty() && !l.address && r.clean("listen"))
        r.error(at(r, "listen"), "listen", "give interface, address or both");
    if (l.http_base_url.empty() && l.address)
        l.http_base_url = "http://" + ipv4_string(*l.address) + ":" + std::to_string(l.http_port);
}

void check_dhcp(YamlReader& r, NetbootdConfig& c) {
    auto& d = c.dhcp;
    if (d.mode == DhcpMode::proxy) {
        if (r.where("dhcp.pool"))
            r.error(r.where("dhcp.pool")->key, "dhcp.pool",
                    "only used with 'mode: full' (proxy mode never hands out addresses)");
        d.pool.reset();
        return;
    }
    if (!r.clean("dhcp.mode")) return;
    if (!r.where("dhcp.pool")) {
        r.error(at(r, "dhcp.mode"), "dhcp.mode",
                "full mode needs dhcp.pool (start, end, netmask, leases-file)");
        return;
    }
    if (!c.listen.address) {
        if (r.clean("listen"))
            r.error(at(r, "dhcp.mode"), "dhcp.mode",
                    "full mode needs listen.address (the server's address in the pool's subnet)");
        return;
    }
    if (!d.pool || !r.clean("dhcp.pool")) return;
    const DhcpPool& p = *d.pool;
    Ipv4Net net{*c.listen.address & p.netmask, 0};
    for (Ipv4 m = p.netmask; m; m <<= 1) ++net.prefix;
    const std::string subnet = ipv4_string(net.network) + "/" + std::to_string(net.prefix);
    auto outside = [&](const char* key, Ipv4 a) {
        std::string path = std::string("dhcp.pool.") + key;
        if (net.contains(a)) return false;
        r.error(at(r, path), path,
                ipv4_string(a) + " is outside the subnet " + subnet +
                    " (listen.address and dhcp.pool.netmask)");
        return true;
    };
    bool bad = outside("start", p.start);
    bad = outside("end", p.end) || bad;
    if (p.router) outside("router", *p.router);
    if (!bad && p.end < p.start)
        r.error(at(r, "dhcp.pool.end"), "dhcp.pool.end",
                "must not come before dhcp.pool.start (" + ipv4_string(p.start) + ")");
    else if (!bad && *c.listen.address >= p.start && *c.listen.address <= p.end)
        r.error(at(r, "dhcp.pool.start"), "dhcp.pool",
                "contains listen.address (" + ipv4_string(*c.listen.address) + ")");
}

void check_nfs(YamlReader& r, NetbootdConfig& c) {
    auto& n = c.nfs;
    if (n.export_dir.empty() && !c.store.empty()) n.export_dir = c.releases_dir();
    if (n.enabled && !n.subnet && r.clean("nfs.enabled") && !r.where("nfs.subnet"))
        r.error(at(r, "nfs.enabled"), "nfs.subnet",
                "is required when NFS is enabled (the boot subnet the exports allow)");
}

void check_files(YamlReader& r, const NetbootdConfig& c) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (r.clean("store") && !fs::is_directory(c.store, ec))
        r.error(at(r, "store"), "store",
                fs::exists(c.store, ec) ? "is not a directory" : "no such directory");
    auto readable = [&](const char* key, const fs::path& p) {
        if (!r.clean(key)) return;
        if (fs::is_directory(p, ec))
            r.error(at(r, key), key, "is a directory");
        else if (::access(p.c_str(), R_OK) != 0)
            r.error(at(r, key), key, std::string("cannot read: ") + std::strerror(errno));
    };
    readable("public-key", c.public_key);
    if (c.inventory) readable("inventory", *c.inventory);
}

// The iPXE binaries are the administrator's files, symlinks and all (Debian's
// ipxe.efi -> /boot/ipxe.efi): resolved here, once, and refused when the
// account netbootd runs as could change them (trusted_files.hpp).
void check_ipxe(YamlReader& r, NetbootdConfig& c) {
    if (r.where("ipxe-dir") && !r.clean("ipxe-dir")) return;
    std::vector<std::string> problems;
    c.ipxe_files = resolve_ipxe_dir(c.ipxe_dir, lookup_account(c.user, c.group), problems);
    const Where* w = r.where("ipxe-dir");
    for (const auto& p : problems)
        r.error(w ? w->key : SourcePos{1, 1}, "ipxe-dir",
                (w ? "" : "(default " + c.ipxe_dir.string() + ") ") + p + ": user " + c.user +
                    " could change what PXE clients boot; fix the modes or owners, or point "
                    "ipxe-dir at a directory only root can write");
}

Result<NetbootdConfig> refused(const std::string& file, std::size_t count) {
    return fail(Errc::invalid, file + ": config refused (" + std::to_string(count) +
                                   (count == 1 ? " problem)" : " problems)"));
}

}  // namespace

Result<NetbootdConfig> parse_netbootd_config(std::string_view text,
                                             const std::filesystem::path& file, Diagnostics& diags,
                                             const NetbootdConfigOptions& options) {
    const std::string name = file.string();
    auto root = load_single_document(text, name, diags, "config",
                                     "the config is empty (expected a map with store, "
                                     "public-key and listen)");
    if (!root) return refused(name, 1);

    YamlReader r(text, name);
    NetbootdConfig c;
    read_config(r, YamlValue{*root, "", YAML::Mark::null_mark()}, c);
    check_listen(r, c);
    check_dhcp(r, c);
    if (c.state_db.empty() && !c.store.empty()) c.state_db = c.store / "state.db";
    check_nfs(r, c);
    if (options.check_files) {
        check_files(r, c);
        check_ipxe(r, c);
    }

    if (std::size_t found = r.report_to(diags)) return refused(name, found);
    c.file = file;
    return c;
}

Result<NetbootdConfig> load_netbootd_config(const std::filesystem::path& file, Diagnostics& diags,
                                            const NetbootdConfigOptions& options) {
    auto text = read_text_for(file, diags, "config");
    if (!text) return text.error();
    return parse_netbootd_config(*text, file, diags, options);
}

std::string netbootd_config_reference_markdown() { return key_reference_markdown(config_maps()); }

}  // namespace pib::netbootd
