#include "store/rollout_plan.hpp"

#include <charconv>
#include <limits>
#include <optional>

namespace pib::store {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A whole decimal number, or nullopt.
std::optional<std::int64_t> number(std::string_view s) {
    std::int64_t v = 0;
    if (s.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::string describe(const WaveTarget& t) { return std::to_string(t.value) + (t.percent ? "%" : ""); }

}  // namespace

Result<std::vector<WaveTarget>> parse_waves(std::string_view spec) {
    std::vector<WaveTarget> out;
    const std::string all(spec);
    if (trim(spec).empty()) return fail(Errc::invalid, "waves: empty; expected e.g. " + std::string(kDefaultWaves));
    int last_count = 0, last_percent = 0;
    std::size_t start = 0;
    for (int i = 1;; ++i) {
        const auto comma = spec.find(',', start);
        std::string_view item = trim(spec.substr(start, comma == std::string_view::npos ? spec.npos : comma - start));
        const std::string where = "waves \"" + all + "\": item " + std::to_string(i) + " \"" + std::string(item) + "\"";
        WaveTarget t;
        t.percent = !item.empty() && item.back() == '%';
        if (t.percent) item.remove_suffix(1);
        auto v = number(item);
        if (!v) return fail(Errc::invalid, where + ": expected a node count (e.g. 5) or a percentage (e.g. 10%)");
        if (t.percent && (*v < 1 || *v > 100)) return fail(Errc::invalid, where + ": a percentage is 1% to 100%");
        if (!t.percent && (*v < 1 || *v > std::numeric_limits<int>::max()))
            return fail(Errc::invalid, where + ": a node count is at least 1");
        t.value = static_cast<int>(*v);
        int& last = t.percent ? last_percent : last_count;
        if (t.value <= last)
            return fail(Errc::invalid, where + ": targets are cumulative and must increase (the one before was " +
                                           std::to_string(last) + (t.percent ? "%" : "") + ")");
        last = t.value;
        out.push_back(t);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

Result<std::vector<std::vector<std::string>>> split_waves(const std::vector<WaveTarget>& targets,
                                                          const std::vector<std::string>& nodes) {
    if (nodes.empty()) return fail(Errc::invalid, "there are no nodes to roll out to");
    const auto n = static_cast<std::int64_t>(nodes.size());
    std::vector<std::vector<std::string>> waves;
    std::int64_t done = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto& t = targets[i];
        const std::int64_t want =
            t.percent ? (static_cast<std::int64_t>(t.value) * n + 99) / 100 : std::min<std::int64_t>(t.value, n);
        if (want < done)
            return fail(Errc::invalid, "waves: target " + describe(t) + " (" + std::to_string(want) +
                                           " nodes) is below the one before it (" + std::to_string(done) +
                                           " nodes) for " + std::to_string(n) + " nodes");
        if (want == done) continue;  // adds nobody at this fleet size
        waves.emplace_back(nodes.begin() + done, nodes.begin() + want);
        done = want;
    }
    if (done < n)
        return fail(Errc::invalid, "waves: the last target " + describe(targets.back()) + " covers " +
                                       std::to_string(done) + " of " + std::to_string(n) +
                                       " nodes; end the list with 100% (or " + std::to_string(n) + ")");
    return waves;
}

Result<std::int64_t> parse_duration(std::string_view text) {
    const std::string all(text);
    auto bad = [&] {
        return fail(Errc::invalid, "duration \"" + all + "\": expected e.g. 90s, 10m, 2h or 1h30m");
    };
    if (auto plain = number(text)) {
        if (*plain <= 0) return bad();
        return *plain;
    }
    std::int64_t total = 0;
    std::string_view rest = text;
    while (!rest.empty()) {
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
        if (digits == 0 || digits == rest.size() || digits > 9) return bad();
        const auto v = number(rest.substr(0, digits));
        const char unit = rest[digits];
        const std::int64_t scale = unit == 'h' ? 3600 : unit == 'm' ? 60 : unit == 's' ? 1 : 0;
        if (!scale) return bad();
        total += *v * scale;
        rest.remove_prefix(digits + 1);
    }
    if (total <= 0) return bad();
    return total;
}

std::string format_duration(std::int64_t s) {
    if (s <= 0) return "0s";
    std::string out;
    if (s >= 3600) out += std::to_string(s / 3600) + "h";
    if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "m";
    if (s % 60 || out.empty()) out += std::to_string(s % 60) + "s";
    return out;
}

}  // namespace pib::store
