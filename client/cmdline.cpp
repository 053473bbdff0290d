// Kernel command line parsing for pib-init (docs/boot.md lists every parameter).
#include "client/cmdline.hpp"

#include <charconv>

namespace pib::client {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

// pib.server: plain http only (the initramfs has no CA store and the payload is
// signed anyway), numeric IPv4 host (a static init has no resolver).
std::string server_problem(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme)
        return "must start with http:// (https is not supported)";
    std::string_view rest = url.substr(scheme.size());
    std::string_view hostport = rest.substr(0, rest.find('/'));
    std::string_view host = hostport.substr(0, hostport.find(':'));
    if (!parse_ipv4(host))
        return "host must be a numeric IPv4 address (pib-init has no DNS resolver)";
    if (hostport.size() > host.size()) {
        std::string_view port = hostport.substr(host.size() + 1);
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
            return "port must be 1-65535";
    }
    return "";
}

// A release id or node name becomes a URL path segment.
bool is_path_word(std::string_view s) {
    if (s.empty() || s.front() == '.') return false;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::optional<std::array<std::uint8_t, 4>> parse_ipv4(std::string_view text) {
    auto parts = split(text, '.');
    if (parts.size() != 4) return std::nullopt;
    std::array<std::uint8_t, 4> out{};
    for (std::size_t i = 0; i < 4; ++i) {
        unsigned v = 0;
        const auto& p = parts[i];
        if (p.empty() || p.size() > 3) return std::nullopt;
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (ec != std::errc() || end != p.data() + p.size() || v > 255) return std::nullopt;
        out[i] = static_cast<std::uint8_t>(v);
    }
    return out;
}

std::vector<std::string> split_cmdline(std::string_view line) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false, quoted = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
            in_word = true;
        } else if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
            if (in_word) words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur += c;
            in_word = true;
        }
    }
    if (in_word) words.push_back(std::move(cur));
    return words;
}

std::string effective_cmdline(std::string_view baked, std::string_view proc_cmdline) {
    std::string out;
    for (const auto& w : split_cmdline(baked)) {
        if (w == "--") break;
        // Re-quote so that split_cmdline() gives the same word back.
        out += (w.find(' ') != std::string::npos ? "\"" + w + "\"" : w) + " ";
    }
    return out + std::string(proc_cmdline);
}

Result<std::optional<StaticIp>> parse_ip_param(std::string_view value) {
    // Documentation/admin-guide/nfs/nfsroot.rst:
    // ip=<client-ip>:<server-ip>:<gw-ip>:<netmask>:<hostname>:<device>:<autoconf>:...
    if (value.empty() || value == "dhcp" || value == "on" || value == "any" || value == "off" ||
        value == "none" || value == "both" || value == "bootp" || value == "rarp")
        return std::optional<StaticIp>{};
    auto f = split(value, ':');
    if (f[0].empty()) {
        // No client address: the kernel would autoconfigure; we use DHCP.
        return std::optional<StaticIp>{};
    }
    StaticIp ip;
    auto addr = parse_ipv4(f[0]);
    if (!addr)
        return fail(Errc::invalid, "ip: client address \"" + std::string(f[0]) + "\" is not IPv4");
    ip.address = *addr;
    if (f.size() > 2 && !f[2].empty()) {
        auto gw = parse_ipv4(f[2]);
        if (!gw)
            return fail(Errc::invalid, "ip: gateway \"" + std::string(f[2]) + "\" is not IPv4");
        ip.gateway = *gw;
    }
    if (f.size() > 3 && !f[3].empty()) {
        auto nm = parse_ipv4(f[3]);
        if (!nm)
            return fail(Errc::invalid, "ip: netmask \"" + std::string(f[3]) + "\" is not IPv4");
        ip.netmask = *nm;
    } else {
        ip.netmask = {255, 255, 255,
                      0};  // nfsroot.rst: derived from the class; /24 is what we meet
    }
    if (f.size() > 4) ip.hostname = std::string(f[4]);
    if (f.size() > 5) ip.device = std::string(f[5]);
    return std::optional<StaticIp>{ip};
}

Result<BootParams> parse_cmdline(std::string_view line) {
    BootParams p;
    std::vector<std::string> problems;
    bool have_server = false, have_release = false;
    for (const std::string& word : split_cmdline(line)) {
        // Everything after a bare "--" is for init, not the kernel (kernel-parameters.txt).
        if (word == "--") break;
        std::size_t eq = word.find('=');
        std::string_view key = std::string_view(word).substr(0, eq);
        std::string_view val =
            eq == std::string::npos ? std::string_view() : std::string_view(word).substr(eq + 1);
        if (key == "pib.server") {
            std::string url(val);
            while (url.size() > 7 && url.back() == '/') url.pop_back();
            if (auto why = server_problem(url); !why.empty())
                problems.push_back("pib.server: " + why);
            p.server = url;
            have_server = true;
        } else if (key == "pib.release") {
            if (!is_path_word(val))
                problems.push_back("pib.release: \"" + std::string(val) + "\" is not a release id");
            p.release = std::string(val);
            have_release = true;
        } else if (key == "pib.node") {
            if (!is_path_word(val))
                problems.push_back("pib.node: \"" + std::string(val) + "\" is not a node name");
            p.node = std::string(val);
        } else if (key == "pib.root") {
            if (val == "http")
                p.root = RootSource::http;
            else if (val == "nfs")
                p.root = RootSource::nfs;
            else
                problems.push_back("pib.root: must be http or nfs, not \"" + std::string(val) +
                                   "\"");
        } else if (key == "pib.nfs") {
            std::size_t colon = val.find(':');
            if (colon == std::string_view::npos || colon == 0 || colon + 1 >= val.size() ||
                val[colon + 1] != '/')
                problems.push_back("pib.nfs: must be SERVER:/PATH");
            p.nfs = std::string(val);
        } else if (key == "ip") {
            auto ip = parse_ip_param(val);
            if (!ip)
                problems.push_back(ip.error().message);
            else
                p.ip = *ip;
        } else if (key == "pib.iface") {
            if (val.empty() || val.size() > 15 || val.find('/') != std::string_view::npos)
                problems.push_back("pib.iface: \"" + std::string(val) +
                                   "\" is not an interface name");
            p.iface = std::string(val);
        } else if (key == "pib.modules") {
            p.modules.clear();
            for (auto m : split(val, ','))
                if (!m.empty()) p.modules.emplace_back(m);
        } else if (key == "pib.debug") {
            p.debug = val.empty() || val == "1" || val == "yes" || val == "true";
        } else if (key == "init") {
            if (val.empty() || val.front() != '/')
                problems.push_back("init: must be an absolute path");
            else
                p.init = std::string(val);
        }
        // Anything else belongs to the kernel or to the root's init.
    }
    if (!have_server) problems.push_back("pib.server: missing (pib.server=http://ADDRESS[:PORT])");
    if (!have_release) problems.push_back("pib.release: missing (pib.release=ID)");
    if (p.root == RootSource::nfs && p.nfs.empty())
        problems.push_back("pib.nfs: required with pib.root=nfs");
    if (!problems.empty()) {
        std::string msg;
        for (const auto& s : problems) msg += (msg.empty() ? "" : "; ") + s;
        return fail(Errc::invalid, msg);
    }
    return p;
}

}  // namespace pib::client
