#include "tftp/path.hpp"

#include <algorithm>

#include "tftp/packet.hpp"

namespace pib::tftp {

namespace {

constexpr std::size_t kMaxComponent = 255;  // NAME_MAX on Linux

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

bool is_serial(std::string_view s) {
    return s.size() == 8 && std::all_of(s.begin(), s.end(), is_lower_hex);
}

// "aa-bb-cc-dd-ee-ff": six lower-case hex pairs separated by '-'.
bool is_mac(std::string_view s) {
    if (s.size() != 17) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        bool ok = (i % 3 == 2) ? s[i] == '-' : is_lower_hex(s[i]);
        if (!ok) return false;
    }
    return true;
}

}  // namespace

Result<std::string> normalize_path(std::string_view requested) {
    const std::string shown = "\"" + sanitize(requested) + "\"";
    std::string out;
    out.reserve(requested.size());
    std::size_t pos = 0;
    while (pos <= requested.size()) {
        // Both separators end a component: tftp-hpa users add the remap rule
        // `rg \\ /` for the same clients, and mapping first means "..\..\x" is
        // caught by the same ".." check as "../../x".
        std::size_t end = requested.find_first_of("/\\", pos);
        if (end == std::string_view::npos) end = requested.size();
        std::string_view part = requested.substr(pos, end - pos);
        pos = end + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") return fail(Errc::invalid, "path " + shown + " leaves the root");
        if (part.size() > kMaxComponent) {
            return fail(Errc::invalid, "path " + shown + " has a component over 255 bytes");
        }
        for (char ch : part) {
            auto c = static_cast<unsigned char>(ch);
            if (c < 0x20 || c == 0x7f) {
                return fail(Errc::invalid, "path " + shown + " contains a control character");
            }
        }
        if (!out.empty()) out.push_back('/');
        out.append(part);
    }
    if (out.empty()) return fail(Errc::invalid, "path " + shown + " names no file");
    return out;
}

std::optional<PiPath> parse_pi_path(std::string_view normalized) {
    std::size_t slash = normalized.find('/');
    if (slash == std::string_view::npos || slash + 1 >= normalized.size()) return std::nullopt;
    std::string_view head = normalized.substr(0, slash);
    std::string_view rest = normalized.substr(slash + 1);
    if (is_serial(head)) return PiPath{PiPrefix::serial, std::string(head), std::string(rest)};
    if (is_mac(head)) return PiPath{PiPrefix::mac, std::string(head), std::string(rest)};
    return std::nullopt;
}

}  // namespace pib::tftp
