// TFTP codec: golden captures from real clients and servers (tests/tftp/data/README.md
// says who sent each), round trips, and every way a packet can be malformed.
#include "tftp/packet.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/hex.hpp"
#include "support/test_support.hpp"

namespace pib::tftp {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(PIB_TEST_DATA);

std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> read_capture(const std::string& name) {
    std::string hex = pib::test::read_text(kData / (name + ".hex"));
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
    auto b = from_hex(hex);
    EXPECT_TRUE(b.has_value()) << name << ".hex is not hex";
    return b.value_or(std::vector<std::uint8_t>{});
}

class Golden : public testing::TestWithParam<const char*> {};

// A capture decodes to its checked-in dump and re-encodes to the captured bytes.
TEST_P(Golden, DecodesToDumpAndReencodesExactly) {
    const std::string name = GetParam();
    auto wire = read_capture(name);
    ASSERT_FALSE(wire.empty());
    auto p = decode(wire);
    ASSERT_TRUE(p.ok()) << p.error().message;
    std::string dump = describe(*p) + "\n";
    const fs::path golden = kData / (name + ".txt");
    if (const char* u = std::getenv("PIB_UPDATE_GOLDEN"); u && std::string(u) == "1") {
        pib::test::write_text(golden, dump);
    }
    std::string expected = pib::test::read_text(golden);
    ASSERT_FALSE(expected.empty()) << golden << " missing; run with PIB_UPDATE_GOLDEN=1";
    EXPECT_EQ(dump, expected);
    EXPECT_EQ(encode(*p), wire);
}

INSTANTIATE_TEST_SUITE_P(Captures, Golden,
                         testing::Values("rrq_tftp_hpa_5.2", "rrq_atftp_0.8.0", "rrq_curl_7.88.1",
                                         "oack_dnsmasq_2.90", "data_dnsmasq_2.90",
                                         "error_dnsmasq_2.90"));

TEST(Packet, AtftpRequestFields) {
    auto p = decode(read_capture("rrq_atftp_0.8.0"));
    ASSERT_TRUE(p.ok());
    const auto& r = std::get<ReadRequest>(*p);
    EXPECT_EQ(r.filename, "start4.elf");
    EXPECT_EQ(r.mode, "octet");
    ASSERT_EQ(r.options.size(), 3u);
    EXPECT_EQ(r.options.entries()[0], (Option{"tsize", "0"}));
    EXPECT_EQ(r.options.get("BLKSIZE"), "1468");  // names are case-insensitive (RFC 2347)
    EXPECT_EQ(r.options.get_uint("WindowSize", 1, 65535).value(), 16u);
}

TEST(Packet, RoundTripsEveryKind) {
    std::vector<Packet> packets = {
        ReadRequest{"0a1b2c3d/start4.elf", "octet", {{"tsize", "0"}, {"blksize", "1024"}}},
        WriteRequest{"upload.bin", "OCTET", {}},
        Data{65535, std::vector<std::uint8_t>(1468, 0xa5)},
        Data{0, {}},
        Ack{0},
        Ack{0xffff},
        ErrorPacket{ErrorCode::not_defined, "early terminate"},
        ErrorPacket{ErrorCode::option_refused, ""},
        OptionAck{{{"blksize", "1468"}, {"tsize", "27000000"}, {"windowsize", "16"}}},
    };
    for (const Packet& p : packets) {
        auto back = decode(encode(p));
        ASSERT_TRUE(back.ok()) << describe(p) << ": " << back.error().message;
        EXPECT_EQ(*back, p) << describe(p);
    }
}

TEST(Packet, ExactBytes) {
    EXPECT_EQ(to_hex(encode(Ack{0x1234})), "00041234");
    EXPECT_EQ(to_hex(encode(Data{2, {1, 2}})), "000300020102");
    EXPECT_EQ(encode(ErrorPacket{ErrorCode::file_not_found, "nope"}), bytes({"\0\5\0\1nope\0", 9}));
    EXPECT_EQ(encode(OptionAck{{{"tsize", "7"}}}), bytes({"\0\6tsize\0"
                                                          "7\0",
                                                          10}));
}

struct Bad {
    std::string_view wire;
    Errc code;
    const char* why;
};

TEST(Packet, MalformedInputFailsCleanly) {
    using namespace std::string_view_literals;
    const Bad cases[] = {
        {""sv, Errc::truncated, "empty"},
        {"\0"sv, Errc::truncated, "half an opcode"},
        {"\0\1"sv, Errc::truncated, "RRQ without filename"},
        {"\0\1file"sv, Errc::truncated, "filename without NUL"},
        {"\0\1file\0"sv, Errc::truncated, "no mode"},
        {"\0\1file\0octet"sv, Errc::truncated, "mode without NUL"},
        {"\0\1\0octet\0"sv, Errc::corrupted, "empty filename"},
        {"\0\1file\0\0"sv, Errc::corrupted, "empty mode"},
        {"\0\1f\0octet\0tsize\0"sv, Errc::truncated, "option without value"},
        {"\0\1f\0octet\0tsize\0"
         "0"sv,
         Errc::truncated, "value without NUL"},
        {"\0\1f\0octet\0tsize\0\0"sv, Errc::corrupted, "empty value"},
        {"\0\1f\0octet\0tsize\0"
         "0\0TSIZE\0"
         "0\0"sv,
         Errc::corrupted, "duplicate option"},
        {"\0\1f\0octet\0\0x\0"sv, Errc::corrupted, "empty option name before more bytes"},
        {"\0\7abc"sv, Errc::unsupported, "unknown opcode"},
        {"\0\0abc"sv, Errc::unsupported, "opcode 0"},
        {"\0\3\0"sv, Errc::truncated, "short DATA"},
        {"\0\4\0"sv, Errc::truncated, "short ACK"},
        {"\0\4\0\1\0"sv, Errc::corrupted, "long ACK"},
        {"\0\5\0"sv, Errc::truncated, "short ERROR"},
        {"\0\6"sv, Errc::corrupted, "OACK without options"},
        {"\0\6tsize\0"sv, Errc::truncated, "OACK option without value"},
        {"\0\6tsize\0"
         "1\0\0\0"sv,
         Errc::corrupted, "OACK padding"},
    };
    for (const Bad& c : cases) {
        auto p = decode(bytes(c.wire));
        ASSERT_FALSE(p.ok()) << c.why;
        EXPECT_EQ(p.error().code, c.code) << c.why << ": " << p.error().message;
        EXPECT_FALSE(p.error().message.empty()) << c.why;
    }
}

TEST(Packet, OversizedPacketsAreRefused) {
    // RFC 2347: a request is at most 512 octets.
    std::string name(512 - 2 - 1 - 6, 'a');  // opcode, NUL, "octet" NUL
    auto fits = bytes(std::string("\0\1", 2) + name + '\0' + "octet" + '\0');
    ASSERT_EQ(fits.size(), 512u);
    EXPECT_TRUE(decode(fits).ok());
    fits.insert(fits.begin() + 3, 'b');
    auto over = decode(fits);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().code, Errc::unsupported);

    std::vector<std::uint8_t> data(kMaxPacketSize, 0x55);
    data[0] = 0;
    data[1] = 3;
    EXPECT_TRUE(decode(data).ok());
    data.push_back(0);
    auto big = decode(data);
    ASSERT_FALSE(big.ok());
    EXPECT_EQ(big.error().code, Errc::unsupported);
}

TEST(Packet, TrailingNulPaddingAfterOptionsIsTolerated) {
    auto p =
        decode(bytes({"\0\1f\0octet\0tsize\0"
                      "0\0\0\0\0",
                      21}));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(std::get<ReadRequest>(*p).options, (Options{{"tsize", "0"}}));
    auto q = decode(bytes({"\0\1f\0octet\0\0", 11}));
    ASSERT_TRUE(q.ok()) << q.error().message;
    EXPECT_TRUE(std::get<ReadRequest>(*q).options.empty());
}

TEST(Packet, ErrorIsReadLiberally) {
    // An ERROR without its NUL, or without any message, still ends a transfer.
    auto p = decode(bytes({"\0\5\0\0early", 9}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(std::get<ErrorPacket>(*p), (ErrorPacket{ErrorCode::not_defined, "early"}));
    auto q = decode(bytes({"\0\5\0\10", 4}));
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(std::get<ErrorPacket>(*q), (ErrorPacket{ErrorCode::option_refused, ""}));
}

TEST(Packet, DescribeEscapesClientBytes) {
    ReadRequest r{"a\nb\"c", "octet", {{"x y", "1=2"}}};
    EXPECT_EQ(describe(r), "RRQ file=\"a\\x0ab\\x22c\" mode=\"octet\" x\\x20y=1\\x3d2");
    EXPECT_EQ(sanitize("\x01\xff ok"), "\\x01\\xff ok");
}

TEST(Packet, ErrorCodeForLibraryErrors) {
    EXPECT_EQ(error_code_for(Errc::not_found), ErrorCode::file_not_found);
    EXPECT_EQ(error_code_for(Errc::invalid), ErrorCode::access_violation);
    EXPECT_EQ(error_code_for(Errc::unsupported), ErrorCode::illegal_operation);
    EXPECT_EQ(error_code_for(Errc::io), ErrorCode::not_defined);
}

TEST(Options, CaseInsensitiveNamesKeepOrderAndSpelling) {
    Options o;
    ASSERT_TRUE(o.add("BlkSize", "1024").ok());
    ASSERT_TRUE(o.add("tsize", "0").ok());
    EXPECT_FALSE(o.add("BLKSIZE", "512").ok());
    EXPECT_EQ(o.add("blksize", "512").error().code, Errc::corrupted);
    EXPECT_EQ(o.add("", "1").error().code, Errc::corrupted);
    EXPECT_EQ(o.add("x", "").error().code, Errc::corrupted);
    o.set("TSIZE", "99");
    ASSERT_EQ(o.size(), 2u);
    EXPECT_EQ(o.entries()[0].name, "BlkSize");
    EXPECT_EQ(o.entries()[1], (Option{"tsize", "99"}));
    EXPECT_TRUE(o.contains("blksize"));
    EXPECT_FALSE(o.contains("windowsize"));
}

TEST(Options, TypedGetterFailsCleanly) {
    Options o{{"blksize", "1468"}, {"timeout", "abc"}, {"windowsize", "99999999999999999999999"}};
    EXPECT_EQ(o.get_uint("blksize", 8, 65464).value(), 1468u);
    EXPECT_EQ(o.get_uint("blksize", 8, 1000).error().code, Errc::unsupported);
    EXPECT_EQ(o.get_uint("timeout", 1, 255).error().code, Errc::corrupted);
    EXPECT_EQ(o.get_uint("windowsize", 1, 65535).error().code, Errc::corrupted);  // overflow
    EXPECT_EQ(o.get_uint("tsize", 0, 10).error().code, Errc::not_found);
    EXPECT_FALSE(parse_decimal("+1").has_value());
    EXPECT_FALSE(parse_decimal(" 1").has_value());
    EXPECT_FALSE(parse_decimal("").has_value());
    EXPECT_EQ(parse_decimal("007"), 7u);
}

}  // namespace
}  // namespace pib::tftp
