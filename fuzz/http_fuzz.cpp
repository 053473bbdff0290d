// libFuzzer target for netbootd's HTTP file semantics (netbootd/http_semantics):
// Range, If-None-Match, If-Range and If-Modified-Since values from the network
// must parse to a plan that never points outside the file, and log_safe() must
// emit only printable ASCII. Input: 8 bytes of file size, then the header values
// separated by '\n' (range, if-none-match, if-range, if-modified-since, etag).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "netbootd/http_semantics.hpp"

namespace {

using namespace netbootd::http;

void check(bool ok) {
    if (!ok) std::abort();
}

void check_range(const RangeRequest& r, std::uint64_t size) {
    if (r.kind != RangeRequest::Kind::single) return;
    check(r.range.length > 0 && r.range.first < size && r.range.length <= size - r.range.first);
}

void check_plan(const FilePlan& p, const FileRequest& req, std::uint64_t size) {
    switch (p.status) {
        case 200:
            check(p.slice.first == 0 && p.slice.length == size && p.content_range.empty());
            check(p.send_body == !req.head);
            break;
        case 206:
            check(!req.head && req.get && p.send_body && !p.content_range.empty());
            check(p.slice.length > 0 && p.slice.first < size && p.slice.length <= size - p.slice.first);
            break;
        case 304:
        case 416:
            check(!p.send_body && p.slice.length == 0 && req.get);
            break;
        default:
            std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t n) {
    std::uint64_t size = 0;
    if (n >= 8) {
        std::memcpy(&size, data, 8);
        data += 8;
        n -= 8;
    }
    // Small sizes are where the edge cases are; keep most of them small.
    if ((size >> 63) == 0) size &= 0xffff;
    const std::string_view all(reinterpret_cast<const char*>(data), n);
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= all.size() && fields.size() < 5; ++i) {
        if (i == all.size() || all[i] == '\n') {
            fields.push_back(all.substr(start, i - start));
            start = i + 1;
        }
    }
    while (fields.size() < 5) fields.push_back({});
    const std::string etag = fields[4].empty() ? "\"v1\"" : std::string(fields[4]);

    for (std::string_view f : fields) {
        check_range(parse_range(f, size), size);
        auto tag = parse_entity_tag(f);
        if (tag) check(weak_match(*tag, *tag) && strong_match(*tag, *tag) == !tag->weak);
        (void)if_none_match(f, etag);
        (void)if_range_holds(f, etag, fields[3]);
        for (unsigned char c : log_safe(f, 64)) check(c >= 0x21 && c < 0x7f);
    }
    const std::string date = http_date(static_cast<std::int64_t>(size));
    check(date.empty() || date.size() == 29);

    for (int variant = 0; variant < 3; ++variant) {
        FileRequest req;
        req.head = variant == 1;
        req.get = variant != 2;
        if (!fields[0].empty()) req.range = fields[0];
        if (!fields[1].empty()) req.if_none_match = fields[1];
        if (!fields[2].empty()) req.if_range = fields[2];
        if (!fields[3].empty()) req.if_modified_since = fields[3];
        check_plan(plan_file(req, size, etag, date), req, size);
    }
    return 0;
}
