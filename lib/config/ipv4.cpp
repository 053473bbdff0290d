#include "config/ipv4.hpp"

#include <charconv>

namespace pib {

std::optional<std::uint32_t> parse_ipv4(std::string_view s) {
    std::uint32_t a = 0;
    for (int i = 0; i < 4; ++i) {
        auto dot = i < 3 ? s.find('.') : s.size();
        if (dot == std::string_view::npos) return std::nullopt;
        auto part = s.substr(0, dot);
        unsigned v = 256;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        // Leading zeros are refused: inet_aton(3) would read them as octal.
        if (part.empty() || part.size() > 3 || ec != std::errc() ||
            end != part.data() + part.size() || v > 255 || (part.size() > 1 && part[0] == '0'))
            return std::nullopt;
        a = a << 8 | v;
        s.remove_prefix(i < 3 ? dot + 1 : dot);
    }
    return a;
}

std::string ipv4_text(std::uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
           std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
}

}  // namespace pib
