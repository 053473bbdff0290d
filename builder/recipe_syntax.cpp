#include "builder/recipe_syntax.hpp"

#include <charconv>

#include "builder/recipe_reader.hpp"

namespace pib::recipe {

namespace {

bool lower_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_or_digit(c) || (c >= 'A' && c <= 'Z'); }

// True when s is non-empty, starts with first() and continues with rest().
template <class First, class Rest>
bool spelled(std::string_view s, First first, Rest rest) {
    if (s.empty() || !first(s[0])) return false;
    for (char c : s.substr(1))
        if (!rest(c)) return false;
    return true;
}

bool any_of(char c, std::string_view set) { return set.find(c) != std::string_view::npos; }

std::string got(std::string_view s) { return ", got " + quote_value(s); }

bool has_dotdot(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        if (path.substr(start, end - start) == "..") return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

std::string check_name(std::string_view s) {
    if (s.size() <= 64 &&
        spelled(s, lower_or_digit, [](char c) { return lower_or_digit(c) || any_of(c, "._-"); }))
        return "";
    return "must be 1-64 of a-z 0-9 . _ - starting with a letter or digit" + got(s);
}

std::string check_version(std::string_view s) {
    if (s.size() <= 64 &&
        spelled(s, lower_or_digit, [](char c) { return lower_or_digit(c) || any_of(c, "._-+~"); }))
        return "";
    return "must be 1-64 of a-z 0-9 . _ - + ~ starting with a letter or digit" + got(s);
}

std::string check_package(std::string_view s) {
    std::string_view name = s.substr(0, s.find_first_of(":=/"));
    std::string_view rest = s.substr(name.size());
    bool ok = name.size() >= 2 && spelled(name, lower_or_digit, [](char c) {
                  return lower_or_digit(c) || any_of(c, "+.-");
              });
    if (ok && rest.starts_with(':')) {  // multiarch qualifier, e.g. libc6:arm64
        std::string_view arch = rest.substr(1, rest.find_first_of("=/") - 1);
        ok = spelled(arch, lower_or_digit, [](char c) { return lower_or_digit(c) || c == '-'; });
        rest = rest.substr(1 + arch.size());
    }
    if (ok && !rest.empty()) {  // =version or /release, as apt-get install takes them
        ok = (rest[0] == '=' || rest[0] == '/') &&
             spelled(rest.substr(1), alnum, [](char c) { return alnum(c) || any_of(c, ".+~:-_"); });
    }
    return ok ? ""
              : "must be a Debian package name (a-z 0-9 + . -), optionally with :arch, =version or "
                "/release" +
                    got(s);
}

std::string check_unit(std::string_view s) {
    if (s.size() <= 255 &&
        spelled(s, alnum, [](char c) { return alnum(c) || any_of(c, ":_.@\\-"); }))
        return "";
    return "must be a systemd unit name like 'ssh.service'" + got(s);
}

std::string check_account(std::string_view s) {
    auto first = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    std::string_view body = s.ends_with('$') ? s.substr(0, s.size() - 1) : s;
    if (s.size() <= 32 &&
        spelled(body, first, [](char c) { return lower_or_digit(c) || any_of(c, "_.-"); }))
        return "";
    return "must be a user or group name (a-z 0-9 _ . -, starting with a letter or _, at most 32)" +
           got(s);
}

std::string check_owner(std::string_view s) {
    if (spelled(
            s, [](char c) { return c >= '0' && c <= '9'; },
            [](char c) { return c >= '0' && c <= '9'; }))
        return s.size() <= 10 ? "" : "is not a valid numeric id" + got(s);
    return check_account(s).empty() ? "" : "must be a user or group name or a numeric id" + got(s);
}

std::string check_root_path(std::string_view s) {
    if (!s.starts_with('/')) return "must be an absolute path inside the root" + got(s);
    if (has_dotdot(s)) return "must not contain '..'" + got(s);
    if (s.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos)
        return "must not contain line breaks" + got(s);
    return "";
}

std::string check_remove_path(std::string_view s) {
    if (auto problem = check_root_path(s); !problem.empty()) return problem;
    if (s.find_first_not_of('/') == std::string_view::npos || s == "/*")
        return "refusing to remove the whole root" + got(s);
    return "";
}

std::string check_initramfs(std::string_view s) {
    return s == "none" || s == "pib" ? "" : check_root_path(s);
}

std::string check_firmware_file(std::string_view s) {
    if (s.empty() || s.starts_with('/'))
        return "must be a file name relative to the firmware directory" + got(s);
    if (has_dotdot(s)) return "must not contain '..'" + got(s);
    return "";
}

std::string check_sha256(std::string_view s) {
    bool ok =
        s.size() == 64 && s.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
    return ok ? "" : "must be 64 hexadecimal digits" + got(s);
}

std::string check_suite(std::string_view s) {
    if (spelled(s, alnum, [](char c) { return alnum(c) || any_of(c, "._-"); })) return "";
    return "must be a Debian suite or codename like 'bookworm'" + got(s);
}

std::string check_component(std::string_view s) {
    if (spelled(s, lower_or_digit, [](char c) { return lower_or_digit(c) || c == '-'; })) return "";
    return "must be an archive component like 'main'" + got(s);
}

std::string check_mirror(std::string_view s) {
    for (std::string_view scheme : {"http://", "https://", "file://"})
        if (s.starts_with(scheme) && s.size() > scheme.size()) return "";
    return "must be an http://, https:// or file:// URL" + got(s);
}

std::string check_script(std::string_view s) {
    return s.find_first_not_of(" \t\n") == std::string_view::npos ? "must not be empty" : "";
}

std::string check_password_hash(std::string_view s) {
    if (s.empty() || s.find_first_of(":\n") != std::string_view::npos)
        return "must be a crypt(3) hash without ':' or line breaks (e.g. from 'mkpasswd -m "
               "yescrypt')";
    return "";
}

std::string check_cmdline(std::string_view s) {
    return s.find('\n') == std::string_view::npos ? "" : "must be a single line";
}

std::optional<unsigned> parse_mode(std::string_view s) {
    if (s.size() < 3 || s.size() > 5 || s.find_first_not_of("01234567") != std::string_view::npos)
        return std::nullopt;
    unsigned mode = 0;
    std::from_chars(s.data(), s.data() + s.size(), mode, 8);
    if (mode > 07777) return std::nullopt;
    return mode;
}

std::optional<std::uint64_t> parse_size(std::string_view s) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data() || n > (1ull << 40)) return std::nullopt;
    std::string_view unit = s.substr(static_cast<std::size_t>(end - s.data()));
    if (unit.empty()) return n;
    if (unit == "K" || unit == "k" || unit == "KiB") return n << 10;
    if (unit == "M" || unit == "MiB") return n << 20;
    return std::nullopt;
}

}  // namespace pib::recipe
