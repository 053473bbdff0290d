// HTTP semantics of serving a file, as pure functions over header values: byte
// ranges (RFC 9110 §14), entity-tag comparison and If-None-Match / If-Range
// (§8.8.3, §13.1.2, §13.1.5), and the decision that turns them into a status and
// a slice of the file. No sockets, no clock, no libmicrohttpd: the server calls
// plan_file(), the unit tests and fuzz/http_fuzz.cpp call everything here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netbootd::http {

/// A satisfiable byte range: `length` bytes from `first`, both within the file.
struct ByteRange {
    std::uint64_t first = 0;
    std::uint64_t length = 0;
    bool operator==(const ByteRange&) const = default;
};

/// What a Range header asks of a file of a given size.
struct RangeRequest {
    enum class Kind {
        ignore,         ///< no header, another unit, or invalid syntax: send the whole file (§14.2)
        single,         ///< one range (overlapping or adjacent ranges are merged into one): 206
        multiple,       ///< disjoint ranges: we send the whole file with 200 (allowed by §14.2)
        unsatisfiable,  ///< no range overlaps the file: 416
    };
    Kind kind = Kind::ignore;
    ByteRange range;  ///< for `single`
    bool operator==(const RangeRequest&) const = default;
};

/// More ranges than this in one header are ignored (whole file): a cheap
/// defence against many-small-ranges requests (§14.2 allows ignoring them).
inline constexpr std::size_t kMaxRanges = 64;

/// Parses a Range header value (`bytes=0-99`, `bytes=100-`, `bytes=-50`, lists) against `size`.
RangeRequest parse_range(std::string_view header, std::uint64_t size);

/// An entity-tag split into its parts; `opaque` includes the quotes.
struct EntityTag {
    bool weak = false;
    std::string_view opaque;
};

/// Parses one entity-tag (`"abc"` or `W/"abc"`, §8.8.3); nullopt when malformed.
std::optional<EntityTag> parse_entity_tag(std::string_view text);

/// Strong comparison (§8.8.3.2): neither weak, same opaque-tag.
bool strong_match(const EntityTag& a, const EntityTag& b);
/// Weak comparison (§8.8.3.2): same opaque-tag, weakness ignored.
bool weak_match(const EntityTag& a, const EntityTag& b);

/// True when an If-None-Match value (`*` or a list of entity-tags) matches
/// `etag` by weak comparison (§13.1.2). Malformed members never match.
bool if_none_match(std::string_view header, std::string_view etag);

/// True when an If-Range value still validates the representation: an
/// entity-tag by strong comparison, or a date exactly equal to `last_modified`
/// (§13.1.5; an exact match is also nginx's default for dates).
bool if_range_holds(std::string_view header, std::string_view etag, std::string_view last_modified);

/// The conditional and range headers of a request for a file, as received.
struct FileRequest {
    bool head = false;   ///< HEAD: same status and headers as GET, no body
    bool get = true;     ///< GET or HEAD; other methods get the file with 200, no conditionals
    std::optional<std::string_view> range;
    std::optional<std::string_view> if_range;
    std::optional<std::string_view> if_none_match;
    std::optional<std::string_view> if_modified_since;
};

/// How to answer a request for a file.
struct FilePlan {
    int status = 200;          ///< 200, 206, 304 or 416
    ByteRange slice;           ///< the bytes to send (200/206); empty otherwise
    bool send_body = true;     ///< false for HEAD, 304 and 416
    std::string content_range; ///< Content-Range value for 206 and 416, else ""
    bool operator==(const FilePlan&) const = default;
};

/// The pipeline of §13.2.2 for GET/HEAD of a file: If-None-Match (or, without
/// it, If-Modified-Since by exact date) -> 304; then Range (GET only), gated by
/// If-Range -> 206 or 416; else the whole file with 200.
FilePlan plan_file(const FileRequest& request, std::uint64_t size, std::string_view etag,
                   std::string_view last_modified);

/// IMF-fixdate (§5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::int64_t epoch_seconds);

/// A client-supplied string made safe for one log line: bytes outside printable
/// ASCII as \xNN, cut at `max` bytes with "..." appended.
std::string log_safe(std::string_view text, std::size_t max = 200);

}  // namespace netbootd::http
