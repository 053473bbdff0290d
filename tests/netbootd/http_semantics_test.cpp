// Range, entity-tag and conditional-request rules of netbootd/http_semantics,
// without sockets. Section numbers are RFC 9110's.
#include "netbootd/http_semantics.hpp"

#include <gtest/gtest.h>

using namespace netbootd::http;
using Kind = RangeRequest::Kind;

namespace {

RangeRequest single(std::uint64_t first, std::uint64_t length) { return {Kind::single, {first, length}}; }
const RangeRequest kIgnore{};
const RangeRequest kUnsatisfiable{Kind::unsatisfiable, {}};

}  // namespace

TEST(HttpSemantics, RangeForms) {
    EXPECT_EQ(parse_range("bytes=0-99", 1000), single(0, 100));
    EXPECT_EQ(parse_range("bytes=100-", 1000), single(100, 900));
    EXPECT_EQ(parse_range("bytes=-50", 1000), single(950, 50));
    EXPECT_EQ(parse_range("bytes=999-999", 1000), single(999, 1));
    EXPECT_EQ(parse_range("BYTES = 5-9", 1000), single(5, 5));  // unit is case-insensitive
}

TEST(HttpSemantics, RangeClampsToTheFile) {
    EXPECT_EQ(parse_range("bytes=900-5000", 1000), single(900, 100));  // last-pos past the end
    EXPECT_EQ(parse_range("bytes=-5000", 1000), single(0, 1000));      // suffix longer than the file
    EXPECT_EQ(parse_range("bytes=0-99999999999999999999999", 10), single(0, 10));  // saturates
}

TEST(HttpSemantics, RangeUnsatisfiable) {
    EXPECT_EQ(parse_range("bytes=1000-", 1000), kUnsatisfiable);
    EXPECT_EQ(parse_range("bytes=5000-6000", 1000), kUnsatisfiable);
    EXPECT_EQ(parse_range("bytes=-0", 1000), kUnsatisfiable);  // §14.1.1: zero suffix
    EXPECT_EQ(parse_range("bytes=0-", 0), kUnsatisfiable);     // empty file
    EXPECT_EQ(parse_range("bytes=-5", 0), kUnsatisfiable);
    EXPECT_EQ(parse_range("bytes=99999999999999999999999-", 10), kUnsatisfiable);
}

TEST(HttpSemantics, InvalidRangeIsIgnored) {
    // §14.2: a server MAY ignore Range; invalid syntax or another unit means the whole file.
    for (const char* h : {"", "bytes", "bytes=", "items=0-5", "bytes=5-1", "bytes=a-b", "bytes=0-5-",
                          "bytes=--5", "bytes=1-2,x", "bytes=0x10-", "bytes=,,", "=0-5", "bytes=+5-"})
        EXPECT_EQ(parse_range(h, 1000), kIgnore) << h;
}

TEST(HttpSemantics, SeveralRanges) {
    EXPECT_EQ(parse_range("bytes=0-9,20-29", 100).kind, Kind::multiple);
    // Overlapping or adjacent ones merge into the single range they cover.
    EXPECT_EQ(parse_range("bytes=0-9,5-19", 100), single(0, 20));
    EXPECT_EQ(parse_range("bytes=10-19, 0-9", 100), single(0, 20));
    EXPECT_EQ(parse_range("bytes=0-9,,-10", 20), single(0, 20));
    // Unsatisfiable members are dropped; one left is a plain range.
    EXPECT_EQ(parse_range("bytes=500-600, 0-0", 100), single(0, 1));
    EXPECT_EQ(parse_range("bytes=500-600, 700-", 100), kUnsatisfiable);
    std::string many = "bytes=0-0";
    for (int i = 1; i <= 100; ++i) many += "," + std::to_string(2 * i) + "-" + std::to_string(2 * i);
    EXPECT_EQ(parse_range(many, 1000), kIgnore);  // more than kMaxRanges
}

TEST(HttpSemantics, EntityTags) {
    auto strong = parse_entity_tag("\"abc\"");
    auto weak = parse_entity_tag("W/\"abc\"");
    ASSERT_TRUE(strong && weak);
    EXPECT_FALSE(strong->weak);
    EXPECT_TRUE(weak->weak);
    EXPECT_EQ(weak->opaque, "\"abc\"");
    // §8.8.3.2's table.
    auto w2 = parse_entity_tag("W/\"2\""), s2 = parse_entity_tag("\"2\""), w1 = parse_entity_tag("W/\"1\"");
    EXPECT_FALSE(strong_match(*w1, *w1));
    EXPECT_TRUE(weak_match(*w1, *w1));
    EXPECT_FALSE(strong_match(*w1, *w2));
    EXPECT_FALSE(weak_match(*w1, *w2));
    EXPECT_FALSE(strong_match(*w1, *parse_entity_tag("\"1\"")));
    EXPECT_TRUE(weak_match(*w1, *parse_entity_tag("\"1\"")));
    EXPECT_TRUE(strong_match(*s2, *s2));
    for (const char* bad : {"", "\"", "abc", "\"a\"b\"", "w/\"a\"", "W/abc", "\"a b\"", "\"a\x7f\""})
        EXPECT_FALSE(parse_entity_tag(bad)) << bad;
    EXPECT_TRUE(parse_entity_tag("\"\""));  // an empty opaque-tag is valid
}

TEST(HttpSemantics, IfNoneMatch) {
    const char* etag = "\"v1\"";
    EXPECT_TRUE(if_none_match("\"v1\"", etag));
    EXPECT_TRUE(if_none_match("W/\"v1\"", etag));  // weak comparison
    EXPECT_TRUE(if_none_match("\"v0\", \"v1\"", etag));
    EXPECT_TRUE(if_none_match(" * ", etag));
    EXPECT_TRUE(if_none_match("\"a,b\", \"v1\"", etag));  // comma inside a quoted tag
    EXPECT_FALSE(if_none_match("\"v2\"", etag));
    EXPECT_FALSE(if_none_match("v1", etag));
    EXPECT_FALSE(if_none_match("", etag));
    EXPECT_FALSE(if_none_match("\"v1\"", ""));  // we have no validator
}

TEST(HttpSemantics, IfRange) {
    const char* etag = "\"v1\"";
    const char* lm = "Sun, 06 Nov 1994 08:49:37 GMT";
    EXPECT_TRUE(if_range_holds("\"v1\"", etag, lm));
    EXPECT_FALSE(if_range_holds("W/\"v1\"", etag, lm));  // strong comparison only
    EXPECT_FALSE(if_range_holds("\"v2\"", etag, lm));
    EXPECT_TRUE(if_range_holds(lm, etag, lm));
    EXPECT_FALSE(if_range_holds("Sun, 06 Nov 1994 08:49:38 GMT", etag, lm));
    EXPECT_FALSE(if_range_holds(lm, etag, ""));
}

TEST(HttpSemantics, PlanWholeFileAndHead) {
    FileRequest get;
    EXPECT_EQ(plan_file(get, 10, "\"e\"", ""), (FilePlan{200, {0, 10}, true, ""}));
    FileRequest head;
    head.head = true;
    head.range = "bytes=0-1";  // ignored for HEAD
    EXPECT_EQ(plan_file(head, 10, "\"e\"", ""), (FilePlan{200, {0, 10}, false, ""}));
}

TEST(HttpSemantics, PlanConditionals) {
    const char* lm = "Sun, 06 Nov 1994 08:49:37 GMT";
    FileRequest r;
    r.if_none_match = "\"e\"";
    r.range = "bytes=0-1";
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm).status, 304);
    r.if_none_match = "\"other\"";
    r.if_modified_since = lm;  // ignored when If-None-Match is present (§13.1.3)
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm), (FilePlan{206, {0, 2}, true, "bytes 0-1/10"}));
    r.if_none_match.reset();
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm).status, 304);
    r.if_modified_since.reset();
    r.range = "bytes=10-";
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm), (FilePlan{416, {}, false, "bytes */10"}));
    r.range = "bytes=2-";
    r.if_range = "\"stale\"";
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm), (FilePlan{200, {0, 10}, true, ""}));
    r.if_range = "\"e\"";
    EXPECT_EQ(plan_file(r, 10, "\"e\"", lm), (FilePlan{206, {2, 8}, true, "bytes 2-9/10"}));
    FileRequest post;
    post.get = false;
    post.if_none_match = "*";
    EXPECT_EQ(plan_file(post, 10, "\"e\"", lm).status, 200);
}

TEST(HttpSemantics, HttpDateAndLogSafe) {
    EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(log_safe("/a b\n\"x\"=\x01\xff"), "/a\\x20b\\x0a\\x22x\\x22\\x3d\\x01\\xff");
    EXPECT_EQ(log_safe(std::string(300, 'a'), 4), "aaaa...");
}
