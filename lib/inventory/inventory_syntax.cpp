#include "config/ipv4.hpp"
#include "inventory/inventory_syntax.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "config/yaml_reader.hpp"

namespace pib::inventory {

namespace {

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_or_digit(c) || (c >= 'A' && c <= 'Z'); }
bool hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool any_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }
bool lower_or_digit_or_dash(char c) { return lower_or_digit(c) || c == '-'; }

std::string got(std::string_view s) { return ", got " + quote_value(s); }

// [a-z0-9-] (or `ok`), 1..max, no '-' at either end: a DNS label (RFC 1123 2.1).
template <class Ok>
bool label(std::string_view s, std::size_t max, Ok ok) {
    if (s.empty() || s.size() > max || s.front() == '-' || s.back() == '-') return false;
    for (char c : s)
        if (!ok(c)) return false;
    return true;
}

// The key types OpenSSH 9 accepts in authorized_keys (ssh-dss is disabled by default).
constexpr std::array<std::string_view, 7> kKeyTypes = {"ssh-ed25519",
                                                       "ssh-rsa",
                                                       "ecdsa-sha2-nistp256",
                                                       "ecdsa-sha2-nistp384",
                                                       "ecdsa-sha2-nistp521",
                                                       "sk-ssh-ed25519@openssh.com",
                                                       "sk-ecdsa-sha2-nistp256@openssh.com"};

bool is_key_type(std::string_view t) {
    for (auto k : kKeyTypes)
        if (k == t) return true;
    return false;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view s) {
    if (s.empty() || s.size() % 4 != 0) return std::nullopt;
    std::vector<std::uint8_t> out;
    std::uint32_t acc = 0;
    std::size_t pad = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        int v = c >= 'A' && c <= 'Z'            ? c - 'A'
                : c >= 'a' && c <= 'z'          ? c - 'a' + 26
                : c >= '0' && c <= '9'          ? c - '0' + 52
                : c == '+'                      ? 62
                : c == '/'                      ? 63
                : c == '=' && i + 2 >= s.size() ? 0
                                                : -1;
        if (v < 0 || (pad && c != '=')) return std::nullopt;
        if (c == '=') ++pad;
        acc = acc << 6 | static_cast<std::uint32_t>(v);
        if (i % 4 == 3) {
            out.push_back(static_cast<std::uint8_t>(acc >> 16));
            out.push_back(static_cast<std::uint8_t>(acc >> 8));
            out.push_back(static_cast<std::uint8_t>(acc));
            acc = 0;
        }
    }
    out.resize(out.size() - pad);
    return out;
}

// The next white-space separated word of an authorized_keys line; options may
// hold quoted spaces (sshd(8) AUTHORIZED_KEYS FILE FORMAT).
std::string_view next_word(std::string_view& s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    std::size_t i = 0;
    bool quoted = false;
    for (; i < s.size() && (quoted || (s[i] != ' ' && s[i] != '\t')); ++i)
        if (s[i] == '"' && (i == 0 || s[i - 1] != '\\')) quoted = !quoted;
    std::string_view w = s.substr(0, i);
    s.remove_prefix(i);
    return w;
}

// Paths the overlay writes itself, and what to write instead (DESIGN.md: a node overlay).
struct Generated {
    std::string_view path;
    std::string_view why;
};
constexpr Generated kGenerated[] = {
    {"/etc/hostname", "is generated from hostname: set hostname instead"},
    {"/etc/hosts", "is generated from hostname and network: set those instead"},
    {"/etc/machine-id", "is generated once per node and kept across releases; it cannot be given"},
    {"/etc/fstab", "is generated from fstab: use the fstab key instead"},
    {"/root/.ssh/authorized_keys", "is generated from authorized-keys: use that key instead"},
};

// Filesystems mounted over these at boot would hide the file.
constexpr std::string_view kMounted[] = {"/proc", "/sys", "/dev", "/run"};

}  // namespace

std::string check_node_name(std::string_view s) {
    if (label(s, 63, lower_or_digit_or_dash)) return "";
    return "must be 1-63 of a-z 0-9 -, not starting or ending with '-'" + got(s);
}

std::string check_hostname(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 253;
    for (std::size_t start = 0; ok && start <= s.size();) {
        std::size_t end = std::min(s.find('.', start), s.size());
        ok = label(s.substr(start, end - start), 63, [](char c) { return alnum(c) || c == '-'; });
        start = end + 1;
    }
    if (ok) return "";
    return "must be a host name (labels of a-z 0-9 - separated by '.', each 1-63 long and not "
           "starting or ending with '-')" +
           got(s);
}

std::optional<std::string> normalise_serial(std::string_view s) {
    if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
    if (s.size() != 8 && s.size() != 16) return std::nullopt;
    for (char c : s)
        if (!hex(c)) return std::nullopt;
    std::string out(s.substr(s.size() - 8));
    for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    return out;
}

std::string check_serial(std::string_view s) {
    if (normalise_serial(s)) return "";
    return "must be a Raspberry Pi serial: 8 or 16 hex digits, optionally with 0x" + got(s);
}

std::string check_mac(std::string_view s) {
    return parse_mac(s) ? "" : "must be a MAC address like dc:a6:32:01:02:03" + got(s);
}

std::string check_channel(std::string_view s) {
    if (label(s, 63, lower_or_digit_or_dash)) return "";
    return "must be a channel name: 1-63 of a-z 0-9 -, not starting or ending with '-'" + got(s);
}

std::string check_release_id(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 128 && s.front() != '.';
    for (char c : s) ok = ok && (alnum(c) || any_of(c, "._-+"));
    return ok ? "" : "must be a release id (letters, digits, '.', '_', '-', '+')" + got(s);
}

std::optional<Ipv4> parse_ipv4(std::string_view s) { return ::pib::parse_ipv4(s); }

std::string ipv4_text(Ipv4 a) { return ::pib::ipv4_text(a); }

std::string check_ipv4(std::string_view s) {
    return parse_ipv4(s) ? "" : "must be an IPv4 address like 192.168.1.1" + got(s);
}

std::optional<StaticNetwork> parse_host_cidr(std::string_view s) {
    auto slash = s.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto a = parse_ipv4(s.substr(0, slash));
    auto tail = s.substr(slash + 1);
    int prefix = -1;
    auto [end, ec] = std::from_chars(tail.data(), tail.data() + tail.size(), prefix);
    if (!a || tail.empty() || ec != std::errc() || end != tail.data() + tail.size() || prefix < 1 ||
        prefix > 32 || (tail.size() > 1 && tail[0] == '0'))
        return std::nullopt;
    StaticNetwork n;
    n.address = *a;
    n.prefix = prefix;
    return n;
}

std::string check_host_cidr(std::string_view s) {
    auto n = parse_host_cidr(s);
    if (!n) return "must be an address with its prefix length like 192.168.1.50/24" + got(s);
    if (n->prefix > 30) return "";  // RFC 3021 /31 and host /32 have no network or broadcast
    const Ipv4 mask = ~Ipv4{0} << (32 - n->prefix);
    const std::string net = ipv4_text(n->address & mask) + "/" + std::to_string(n->prefix);
    if ((n->address & ~mask) == 0) return "is the network address of " + net + got(s);
    if ((n->address & ~mask) == ~mask) return "is the broadcast address of " + net + got(s);
    return "";
}

std::string check_owner(std::string_view s) {
    bool digits = !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) return s.size() <= 10 ? "" : "is not a valid numeric id" + got(s);
    // As useradd accepts them: a-z 0-9 _ . -, starting with a letter or '_'.
    bool ok = !s.empty() && s.size() <= 32 && ((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_');
    for (char c : s) ok = ok && (lower_or_digit(c) || any_of(c, "_.-"));
    return ok ? "" : "must be a user or group name or a numeric id" + got(s);
}

std::string check_single_line(std::string_view s) {
    return s.find_first_of(std::string_view("\n\r\0", 3)) == std::string_view::npos
               ? ""
               : "must be a single line";
}

std::string check_fstab_field(std::string_view s) {
    if (s.empty()) return "must not be empty";
    if (s.find_first_of(" \t\n\r") != std::string_view::npos)
        return "must not contain white space (write a space as \\040)" + got(s);
    if (s.front() == '#') return "must not start with '#'" + got(s);
    return "";
}

std::string check_mountpoint(std::string_view s) {
    if (s == "none") return "";
    if (!s.starts_with('/')) return "must be an absolute path or none" + got(s);
    return check_fstab_field(s);
}

std::string check_source(std::string_view s) {
    if (s.empty()) return "must not be empty";
    return check_single_line(s);
}

std::string check_label_key(std::string_view s) {
    bool ok = !s.empty() && s.size() <= 63 && alnum(s.front()) && alnum(s.back());
    for (char c : s) ok = ok && (alnum(c) || any_of(c, "-_./"));
    return ok ? ""
              : "must be 1-63 of letters, digits, '-', '_', '.', '/', starting and ending with "
                "a letter or digit" +
                    got(s);
}

std::string check_authorized_key(std::string_view s) {
    if (!check_single_line(s).empty()) return "must be a single authorized_keys line";
    const std::string want =
        "must be an OpenSSH public key line like 'ssh-ed25519 AAAAC3Nza... comment'" + got(s);
    std::string_view rest = s;
    std::string_view type = next_word(rest);
    if (!is_key_type(type)) type = next_word(rest);  // the first word was options
    if (!is_key_type(type)) return want;
    auto blob = base64_decode(next_word(rest));
    // The blob starts with the key type as an SSH string (RFC 4253 6.6).
    const std::size_t n = type.size();
    if (!blob || blob->size() < 4 + n || (*blob)[0] || (*blob)[1] || (*blob)[2] ||
        (*blob)[3] != n ||
        std::string_view(reinterpret_cast<const char*>(blob->data()) + 4, n) != type)
        return "the key data of this " + std::string(type) +
               " key is damaged (cut short or mis-pasted?)" + got(s);
    return "";
}

std::optional<unsigned> parse_mode(std::string_view s) {
    if (s.size() < 3 || s.size() > 5 || s.find_first_not_of("01234567") != std::string_view::npos)
        return std::nullopt;
    unsigned mode = 0;
    std::from_chars(s.data(), s.data() + s.size(), mode, 8);
    if (mode > 07777) return std::nullopt;
    return mode;
}

NormalPath normalise_file_path(std::string_view s) {
    if (!s.starts_with('/')) return {"", "must be an absolute path" + got(s)};
    if (!check_single_line(s).empty()) return {"", "must not contain line breaks" + got(s)};
    std::string path;
    for (std::size_t start = 1; start <= s.size();) {
        std::size_t end = std::min(s.find('/', start), s.size());
        std::string_view part = s.substr(start, end - start);
        if (part == "..") return {"", "must not contain '..'" + got(s)};
        if (!part.empty() && part != ".") path += "/" + std::string(part);
        start = end + 1;
    }
    if (path.empty()) return {"", "must name a file, not '/'" + got(s)};
    if (s.ends_with('/')) return {"", "must name a file, not a directory" + got(s)};
    for (const auto& g : kGenerated)
        if (path == g.path) return {"", quote_value(path) + " " + std::string(g.why)};
    if (path.starts_with("/etc/ssh/ssh_host_"))
        return {"", quote_value(path) +
                        " is an SSH host key: host keys are generated once per node and kept in "
                        "the secrets directory; they cannot be given"};
    for (auto m : kMounted)
        if (path == m || (path.starts_with(m) && path[m.size()] == '/'))
            return {"", "must not be under " + std::string(m) +
                            " (a filesystem is mounted there at boot)" + got(s)};
    return {path, ""};
}

}  // namespace pib::inventory
