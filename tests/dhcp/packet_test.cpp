// The DHCP codec: field layout, re-encoding, RFC 3396 reassembly, option
// overload and every malformed shape we could think of: each either a clean
// error or a documented tolerant result.
#include "dhcp/packet.hpp"

#include <gtest/gtest.h>

#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::load_hex;
using test::load_packet;

std::vector<std::uint8_t> codes(const DhcpPacket& p) {
    std::vector<std::uint8_t> c;
    for (const Option& o : p.options) c.push_back(o.code);
    return c;
}

// A minimal DHCP message: header, cookie, then `options` verbatim.
std::vector<std::uint8_t> message(std::vector<std::uint8_t> options) {
    // Sized once and filled by index: GCC 12 reports a false -Warray-bounds
    // for vector::insert after a sized construction.
    std::vector<std::uint8_t> b(kHeaderSize + kMagicCookie.size() + options.size(), 0);
    b[0] = kBootRequest;
    b[1] = 1;
    b[2] = 6;
    std::copy(kMagicCookie.begin(), kMagicCookie.end(), b.begin() + kHeaderSize);
    std::copy(options.begin(), options.end(), b.begin() + kHeaderSize + kMagicCookie.size());
    return b;
}

TEST(DhcpPacket, DecodesThePiDiscoverHeader) {
    DhcpPacket p = load_packet("pi4_discover");
    EXPECT_EQ(p.op, kBootRequest);
    EXPECT_EQ(p.xid, 0x6b0bd4cfu);
    EXPECT_EQ(p.flags, 0);
    EXPECT_EQ(to_hex(hardware_address(p)), "dca6322ef8ed");
    EXPECT_EQ(codes(p), (std::vector<std::uint8_t>{53, 55, 93, 94, 97, 60}));
}

TEST(DhcpPacket, ReencodesCapturesByteForByte) {
    // Option order is kept and none of these carries padding, so encode()
    // reproduces the wire bytes exactly (what dnsmasq sent included).
    for (const char* name : {"pi4_discover", "pi4_offer_dnsmasq", "ipxe_bios_discover",
                             "uefi_x64_discover", "uefi_http_discover"}) {
        const auto bytes = load_hex(name);
        auto p = decode(bytes);
        ASSERT_TRUE(p.ok()) << name;
        EXPECT_EQ(encode(*p), bytes) << name;
    }
}

TEST(DhcpPacket, RoundTripsEveryFixture) {
    for (const std::string& name : test::kFixtures) {
        DhcpPacket p = load_packet(name);
        auto again = decode(encode(p));
        ASSERT_TRUE(again.ok()) << name << ": " << again.error().message;
        EXPECT_EQ(*again, p) << name;
    }
}

TEST(DhcpPacket, EncodePadsToTheBootpMinimum) {
    DhcpPacket p;
    p.options.set(53, std::vector<std::uint8_t>{1});
    auto bytes = encode(p);
    ASSERT_EQ(bytes.size(), kMinPacketSize);
    EXPECT_EQ(bytes[240], 53);
    EXPECT_EQ(bytes[243], 255);
    EXPECT_EQ(bytes[299], 0);
}

TEST(DhcpPacket, LongOptionsAreSplitAndReassembled) {
    DhcpPacket p;
    std::vector<std::uint8_t> big(600);
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i);
    p.options.set(224, big);
    p.options.set(53, std::vector<std::uint8_t>{1});
    const auto bytes = encode(p);
    // RFC 3396: 255 + 255 + 90 in consecutive instances.
    EXPECT_EQ(bytes[240], 224);
    EXPECT_EQ(bytes[241], 255);
    EXPECT_EQ(bytes[240 + 257], 224);
    EXPECT_EQ(bytes[240 + 514], 224);
    EXPECT_EQ(bytes[240 + 515], 90);
    auto q = decode(bytes);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(*q, p);
}

TEST(DhcpPacket, FramingCodesAreNeverEncoded) {
    DhcpPacket p;
    p.options.set(52, std::vector<std::uint8_t>{3});
    p.options.set(0, std::vector<std::uint8_t>{1});
    p.options.set(255, std::vector<std::uint8_t>{1});
    auto bytes = encode(p);
    EXPECT_EQ(bytes[240], 255);
}

TEST(DhcpPacketMalformed, ShortPacketsAreTruncated) {
    const auto pi = load_hex("pi4_discover");
    for (std::size_t n : {0u, 1u, 100u, 235u, 236u, 239u}) {
        auto p = decode(std::span(pi).first(n));
        ASSERT_FALSE(p.ok()) << n;
        EXPECT_EQ(p.error().code, Errc::truncated) << n;
    }
    EXPECT_TRUE(decode(std::span(pi).first(240)).ok());  // cookie, no options
}

TEST(DhcpPacketMalformed, BadCookieIsUnsupported) {
    auto b = load_hex("pi4_discover");
    b[236] = 0x63;
    b[239] = 0x64;
    auto p = decode(b);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, Errc::unsupported);
}

TEST(DhcpPacketMalformed, OptionRunningPastTheEndIsTruncated) {
    const auto pi = load_hex("pi4_discover");
    auto p = decode(std::span(pi).first(250));  // inside option 55's 14 bytes
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, Errc::truncated);
    EXPECT_NE(p.error().message.find("option 55 at offset 243"), std::string::npos)
        << p.error().message;

    auto q = decode(message({53, 1, 1, 60}));  // a code with no length byte
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.error().code, Errc::truncated);
}

TEST(DhcpPacketMalformed, MissingEndIsTolerated) {
    auto pi = load_hex("pi4_discover");
    pi.pop_back();  // the END byte
    auto p = decode(pi);
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(*p, load_packet("pi4_discover"));
}

TEST(DhcpPacketMalformed, BytesAfterEndAreIgnored) {
    auto p = decode(message({53, 1, 1, 255, 60, 200, 1, 2}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(codes(*p), (std::vector<std::uint8_t>{53}));
}

TEST(DhcpPacketMalformed, PadOnlyOptionsGiveNoOptions) {
    auto p = decode(message(std::vector<std::uint8_t>(60, 0)));
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->options.empty());
}

TEST(DhcpPacketMalformed, ZeroLengthOptionsAreKeptEmpty) {
    auto p = decode(message({60, 0, 53, 1, 1, 255}));
    ASSERT_TRUE(p.ok());
    ASSERT_NE(p->options.find(60), nullptr);
    EXPECT_TRUE(p->options.find(60)->empty());
    auto again = decode(encode(*p));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *p);
}

TEST(DhcpPacketMalformed, DuplicateOptionsAreConcatenatedInPlace) {
    // RFC 3396: instances of one code are joined in wire order; the option
    // keeps the place of its first instance.
    auto p =
        decode(message({60, 3, 'P', 'X', 'E', 53, 1, 1, 60, 6, 'C', 'l', 'i', 'e', 'n', 't', 255}));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(codes(*p), (std::vector<std::uint8_t>{60, 53}));
    const auto* vc = p->options.find(60);
    ASSERT_NE(vc, nullptr);
    EXPECT_EQ(std::string(vc->begin(), vc->end()), "PXEClient");
}

TEST(DhcpPacketMalformed, HugePacketsDecodeUpToTheUdpLimit) {
    // 230 instances of a 255-byte option fill ~59 KB: legal, just big.
    std::vector<std::uint8_t> opts;
    for (int i = 0; i < 230; ++i) {
        opts.push_back(224);
        opts.push_back(255);
        opts.insert(opts.end(), 255, static_cast<std::uint8_t>(i));
    }
    opts.push_back(255);
    auto p = decode(message(opts));
    ASSERT_TRUE(p.ok());
    ASSERT_NE(p->options.find(224), nullptr);
    EXPECT_EQ(p->options.find(224)->size(), 230u * 255u);
    auto again = decode(encode(*p));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *p);

    auto max = message({});
    max.resize(kMaxPacketSize, 0);
    EXPECT_TRUE(decode(max).ok());
    max.push_back(0);
    auto over = decode(max);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().code, Errc::unsupported);
}

TEST(DhcpPacketOverload, OptionsInFileAndSnameAreMerged) {
    auto b = message({53, 1, 1, 52, 1, 3, 60, 3, 'P', 'X', 'E', 255});
    const std::vector<std::uint8_t> in_file = {60,  6,   'C', 'l', 'i', 'e',
                                               'n', 't', 66,  1,   'x', 255};
    const std::vector<std::uint8_t> in_sname = {67, 2, 'b', 'f', 52, 1, 1, 255};
    std::copy(in_file.begin(), in_file.end(), b.begin() + 108);
    std::copy(in_sname.begin(), in_sname.end(), b.begin() + 44);
    auto p = decode(b);
    ASSERT_TRUE(p.ok()) << p.error().message;
    // Options field, then file, then sname; 52 itself (and the stray 52 in
    // sname) is framing and gone; both fields are cleared.
    EXPECT_EQ(codes(*p), (std::vector<std::uint8_t>{53, 60, 66, 67}));
    const auto* vc = p->options.find(60);
    EXPECT_EQ(std::string(vc->begin(), vc->end()), "PXEClient");
    EXPECT_EQ(p->file, (std::array<std::uint8_t, 128>{}));
    EXPECT_EQ(p->sname, (std::array<std::uint8_t, 64>{}));
    auto again = decode(encode(*p));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *p);
}

TEST(DhcpPacketOverload, FileWithoutOverloadIsAName) {
    auto b = message({53, 1, 1, 255});
    b[108] = 60;  // would be an option only if 52 said so
    b[109] = 1;
    auto p = decode(b);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->file[0], 60);
    EXPECT_EQ(codes(*p), (std::vector<std::uint8_t>{53}));
}

TEST(DhcpPacketOverload, MalformedOverloadIsCorrupted) {
    for (const auto& opts : std::vector<std::vector<std::uint8_t>>{
             {52, 1, 0, 255}, {52, 1, 4, 255}, {52, 2, 1, 1, 255}, {52, 0, 255}}) {
        auto p = decode(message(opts));
        ASSERT_FALSE(p.ok());
        EXPECT_EQ(p.error().code, Errc::corrupted);
    }
    auto b = message({52, 1, 1, 255});
    b[108 + 126] = 60;  // option 60 at the last-but-one byte of file, length past it
    b[108 + 127] = 9;
    auto p = decode(b);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, Errc::corrupted);
}

TEST(DhcpPacket, HardwareAddressIsCappedAtChaddr) {
    DhcpPacket p;
    p.hlen = 200;
    EXPECT_EQ(hardware_address(p).size(), 16u);
    p.hlen = 0;
    EXPECT_TRUE(hardware_address(p).empty());
}

TEST(DhcpPacket, FieldStrings) {
    std::array<std::uint8_t, 8> f{};
    EXPECT_TRUE(set_field_string(f, "abc"));
    EXPECT_EQ(field_string(f), "abc");
    EXPECT_FALSE(set_field_string(f, "12345678"));  // no room for the NUL
    EXPECT_EQ(field_string(f), "abc");
}

TEST(DhcpSuboptions, ParseAndEncode) {
    auto sub = decode_suboptions(std::vector<std::uint8_t>{6, 1, 8, 0, 71, 4, 0, 0, 0, 0, 255, 9});
    ASSERT_TRUE(sub.ok());
    EXPECT_EQ(sub->size(), 2u);
    EXPECT_EQ(encode_suboptions(*sub),
              (std::vector<std::uint8_t>{6, 1, 8, 71, 4, 0, 0, 0, 0, 255}));
    auto bad = decode_suboptions(std::vector<std::uint8_t>{6, 5, 8});
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::corrupted);
}

TEST(DhcpOptions, SetKeepsPositionAppendCreatesAtEnd) {
    Options o;
    o.set(53, std::vector<std::uint8_t>{1});
    o.set(60, "a");
    o.set(53, std::vector<std::uint8_t>{2});
    std::vector<std::uint8_t> more = {'b'};
    o.append(60, more);
    o.append(97, more);
    std::vector<std::uint8_t> got;
    for (const Option& x : o) got.push_back(x.code);
    EXPECT_EQ(got, (std::vector<std::uint8_t>{53, 60, 97}));
    EXPECT_EQ(*o.find(53), std::vector<std::uint8_t>{2});
    EXPECT_EQ(*o.find(60), (std::vector<std::uint8_t>{'a', 'b'}));
    EXPECT_TRUE(o.erase(53));
    EXPECT_FALSE(o.erase(53));
    EXPECT_EQ(o.size(), 2u);
}

}  // namespace
}  // namespace pib::dhcp
