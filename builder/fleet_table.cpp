#include "builder/fleet_table.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

namespace pib::cli {

void Table::print(std::FILE* out, const char* empty_note) const {
    if (rows_.empty() && empty_note) {
        std::fprintf(out, "%s\n", empty_note);
        return;
    }
    std::vector<std::size_t> width(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
    };
    measure(header_);
    for (const auto& r : rows_) measure(r);
    auto line = [&](const std::vector<std::string>& row, bool upper) {
        std::string s;
        for (std::size_t i = 0; i < width.size(); ++i) {
            std::string cell = i < row.size() ? row[i] : "";
            if (upper) std::transform(cell.begin(), cell.end(), cell.begin(), [](unsigned char c) { return std::toupper(c); });
            s += cell;
            if (i + 1 < width.size()) s += std::string(width[i] - cell.size() + 2, ' ');
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        std::fprintf(out, "%s\n", s.c_str());
    };
    line(header_, true);
    for (const auto& r : rows_) line(r, false);
}

std::string short_release(const std::string& id) {
    if (id.empty()) return "-";
    const auto dash = id.rfind('-');
    if (dash == std::string::npos || id.size() - dash - 1 != 12) return id;
    if (!std::all_of(id.begin() + static_cast<std::ptrdiff_t>(dash) + 1, id.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
        return id;
    return id.substr(0, dash + 7);
}

std::string relative_time(std::int64_t at, std::int64_t now) {
    if (at == 0) return "never";
    const std::int64_t d = now - at;
    const std::int64_t a = d < 0 ? -d : d;
    std::string amount = a < 60      ? std::to_string(a) + "s"
                         : a < 3600  ? std::to_string(a / 60) + "m"
                         : a < 86400 ? std::to_string(a / 3600) + "h"
                                     : std::to_string(a / 86400) + "d";
    return d < 0 ? "in " + amount : amount + " ago";
}

std::string utc_time(std::int64_t at) {
    if (at == 0) return "-";
    std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

}  // namespace pib::cli
