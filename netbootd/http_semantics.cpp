#include "netbootd/http_semantics.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>
#include <vector>

namespace netbootd::http {

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

/// 1*DIGIT; values past 2^64-1 saturate (a position that large is past any
/// file, which is the right answer for both first-pos and suffix-length).
std::optional<std::uint64_t> parse_digits(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        const auto d = static_cast<std::uint64_t>(c - '0');
        v = (v > (kMax - d) / 10) ? kMax : v * 10 + d;
    }
    return v;
}

/// Splits a comma-separated list (§5.6.1) outside quoted strings; empty members dropped.
template <class F>
void for_each_member(std::string_view list, F&& f) {
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= list.size(); ++i) {
        if (i < list.size()) {
            if (list[i] == '"') quoted = !quoted;
            if (list[i] != ',' || quoted) continue;
        }
        std::string_view member = trim(list.substr(start, i - start));
        if (!member.empty() && !f(member)) return;
        start = i + 1;
    }
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
    RangeRequest ignore;
    header = trim(header);
    const auto eq = header.find('=');
    if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes")) return ignore;

    std::vector<ByteRange> ranges;
    bool valid = true;
    std::size_t members = 0;
    for_each_member(header.substr(eq + 1), [&](std::string_view spec) {
        if (++members > kMaxRanges) return valid = false;
        const auto dash = spec.find('-');
        if (dash == std::string_view::npos) return valid = false;
        const auto first_text = trim(spec.substr(0, dash));
        const auto last_text = trim(spec.substr(dash + 1));
        if (first_text.empty()) {  // suffix-range: the last N bytes
            auto n = parse_digits(last_text);
            if (!n) return valid = false;
            // A zero-length suffix, or any suffix of an empty file, is unsatisfiable (§14.1.1).
            if (*n > 0 && size > 0) {
                const std::uint64_t len = std::min(*n, size);
                ranges.push_back({size - len, len});
            }
            return true;
        }
        auto first = parse_digits(first_text);
        if (!first) return valid = false;
        std::uint64_t last = kMax;
        if (!last_text.empty()) {
            auto l = parse_digits(last_text);
            if (!l || *l < *first) return valid = false;  // last < first is invalid syntax
            last = *l;
        }
        if (*first < size) ranges.push_back({*first, std::min(last, size - 1) - *first + 1});
        return true;
    });
    if (!valid || members == 0) return ignore;
    if (ranges.empty()) return {RangeRequest::Kind::unsatisfiable, {}};

    // Overlapping or adjacent ranges are one range to the client that asked for them.
    std::sort(ranges.begin(), ranges.end(),
              [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
    ByteRange merged = ranges.front();
    for (std::size_t i = 1; i < ranges.size(); ++i) {
        const ByteRange& r = ranges[i];
        const std::uint64_t end = merged.first + merged.length;  // <= size, no overflow
        if (r.first > end) return {RangeRequest::Kind::multiple, {}};
        merged.length = std::max(end, r.first + r.length) - merged.first;
    }
    return {RangeRequest::Kind::single, merged};
}

std::optional<EntityTag> parse_entity_tag(std::string_view text) {
    EntityTag tag;
    if (text.size() >= 2 && text[0] == 'W' && text[1] == '/') {
        tag.weak = true;
        text.remove_prefix(2);
    }
    if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
    // etagc = %x21 / %x23-7E / obs-text
    for (std::size_t i = 1; i + 1 < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '"' || c < 0x21 || c == 0x7f) return std::nullopt;
    }
    tag.opaque = text;
    return tag;
}

bool strong_match(const EntityTag& a, const EntityTag& b) {
    return !a.weak && !b.weak && a.opaque == b.opaque;
}

bool weak_match(const EntityTag& a, const EntityTag& b) { return a.opaque == b.opaque; }

bool if_none_match(std::string_view header, std::string_view etag) {
    header = trim(header);
    if (header == "*") return true;  // any current representation; a served file exists
    const auto ours = parse_entity_tag(etag);
    if (!ours) return false;
    bool matched = false;
    for_each_member(header, [&](std::string_view member) {
        auto theirs = parse_entity_tag(member);
        matched = theirs && weak_match(*theirs, *ours);
        return !matched;
    });
    return matched;
}

bool if_range_holds(std::string_view header, std::string_view etag, std::string_view last_modified) {
    header = trim(header);
    if (!header.empty() && (header.front() == '"' || header.starts_with("W/"))) {
        const auto theirs = parse_entity_tag(header);
        const auto ours = parse_entity_tag(etag);
        return theirs && ours && strong_match(*theirs, *ours);
    }
    return !last_modified.empty() && header == last_modified;
}

FilePlan plan_file(const FileRequest& request, std::uint64_t size, std::string_view etag,
                   std::string_view last_modified) {
    FilePlan plan;
    plan.slice = {0, size};
    plan.send_body = !request.head;
    if (!request.get) return plan;

    // §13.2.2 step 3/4: If-None-Match wins over If-Modified-Since.
    const bool not_modified =
        request.if_none_match
            ? if_none_match(*request.if_none_match, etag)
            : (request.if_modified_since && !last_modified.empty() &&
               trim(*request.if_modified_since) == last_modified);
    if (not_modified) return {304, {}, false, ""};

    // §14.2: Range is defined for GET only; HEAD answers as a plain GET would.
    if (request.head || !request.range) return plan;
    if (request.if_range && !if_range_holds(*request.if_range, etag, last_modified)) return plan;
    const RangeRequest range = parse_range(*request.range, size);
    switch (range.kind) {
        case RangeRequest::Kind::ignore:
        case RangeRequest::Kind::multiple:
            return plan;
        case RangeRequest::Kind::unsatisfiable:
            return {416, {}, false, "bytes */" + std::to_string(size)};
        case RangeRequest::Kind::single:
            break;
    }
    const ByteRange r = range.range;
    return {206, r, true,
            "bytes " + std::to_string(r.first) + "-" + std::to_string(r.first + r.length - 1) + "/" +
                std::to_string(size)};
}

std::string http_date(std::int64_t epoch_seconds) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(epoch_seconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) return "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                  kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return buf;
}

std::string log_safe(std::string_view text, std::size_t max) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::min(text.size(), max) + 8);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == max) {
            out += "...";
            break;
        }
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x21 && c < 0x7f && c != '\\' && c != '"' && c != '=') {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 15];
        }
    }
    return out;
}

}  // namespace netbootd::http
