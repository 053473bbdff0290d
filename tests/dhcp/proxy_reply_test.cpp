// proxyDHCP replies: the Pi's byte for byte as dnsmasq 2.90 sends it, and
// what x86 BIOS, UEFI, iPXE and HTTP boot clients each need.
#include "dhcp/proxy_reply.hpp"

#include <gtest/gtest.h>

#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::load_hex;
using test::load_packet;

constexpr Ipv4 kServer{10, 99, 0, 1};
constexpr Ipv4 kZero{};

struct Built {
    ClientInfo client;
    Result<DhcpPacket> reply;
};

Built reply_to(const DhcpPacket& req, const BootDecision& d, ProxyPort port = ProxyPort::dhcp) {
    auto c = classify(req);
    EXPECT_TRUE(c.ok());
    return Built{*c, build_proxy_reply(req, *c, d, ReplyContext{kServer, port})};
}

DhcpPacket ok_reply(const DhcpPacket& req, const BootDecision& d,
                    ProxyPort port = ProxyPort::dhcp) {
    Built b = reply_to(req, d, port);
    EXPECT_TRUE(b.reply.ok()) << b.reply.error().message;
    return b.reply.ok() ? *b.reply : DhcpPacket{};
}

void expect_refused(const Result<DhcpPacket>& r, Errc code) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code) << r.error().message;
}

std::vector<std::uint8_t> codes(const DhcpPacket& p) {
    std::vector<std::uint8_t> c;
    for (const Option& o : p.options) c.push_back(o.code);
    return c;
}

BootDecision file(std::string name, Ipv4 next = kZero) {
    BootDecision d;
    d.boot_file = std::move(name);
    d.next_server = next;
    return d;
}

BootDecision pi_menu() {
    BootDecision d;
    d.pi_menu = true;
    return d;
}

TEST(DhcpProxyReply, PiOfferIsDnsmasqByteForByte) {
    const DhcpPacket req = load_packet("pi4_discover");
    const DhcpPacket reply = ok_reply(req, pi_menu());
    EXPECT_EQ(encode(reply), load_hex("pi4_offer_dnsmasq"));

    // The same, spelled out: the option set MACHINE-NOTES lists.
    const DhcpPacket ref = load_packet("pi4_offer_dnsmasq");
    for (std::uint8_t c : {53, 54, 60, 97, 43}) {
        ASSERT_NE(reply.options.find(c), nullptr) << int(c);
        EXPECT_EQ(*reply.options.find(c), *ref.options.find(c)) << int(c);
    }
    EXPECT_EQ(to_hex(*reply.options.find(43)),
              "0601030a0400505845091400001152617370626572727920506920426f6f74ff");
    EXPECT_FALSE(reply.options.contains(66));
    EXPECT_EQ(reply.yiaddr, kZero);
    EXPECT_EQ(reply.siaddr, kZero);
    EXPECT_EQ(reply.flags, kBroadcastFlag);
}

TEST(DhcpProxyReply, PiMenuTextFollowsTheBootloaderSetting) {
    BootDecision d = pi_menu();
    d.pi_menu_text = "Fleet";
    const DhcpPacket reply = ok_reply(load_packet("pi4_discover"), d);
    EXPECT_EQ(to_hex(*reply.options.find(43)), "0601030a04005058450908000005466c656574ff");
    d.pi_menu_text = std::string(241, 'x');
    expect_refused(reply_to(load_packet("pi4_discover"), d).reply, Errc::invalid);
    d.pi_menu_text.clear();
    expect_refused(reply_to(load_packet("pi4_discover"), d).reply, Errc::invalid);
}

TEST(DhcpProxyReply, PiRefusals) {
    const DhcpPacket req = load_packet("pi4_discover");
    // A Pi only boots from the menu.
    expect_refused(reply_to(req, file("start4.elf")).reply, Errc::invalid);
    // It fetches from option 54, so TFTP elsewhere cannot be expressed.
    BootDecision d = pi_menu();
    d.next_server = Ipv4{10, 99, 0, 2};
    expect_refused(reply_to(req, d).reply, Errc::invalid);
    d.next_server = kServer;
    EXPECT_TRUE(reply_to(req, d).reply.ok());
    // No 4011 phase for the Pi.
    DhcpPacket r = req;
    set_message_type(r.options, MessageType::request);
    expect_refused(reply_to(r, pi_menu(), ProxyPort::boot_server).reply, Errc::unsupported);
}

TEST(DhcpProxyReply, BiosPxeGetsTheFileAndNoDiscovery) {
    const DhcpPacket req = load_packet("bios_pxe_discover");
    const DhcpPacket r = ok_reply(req, file("undionly.kpxe"));
    EXPECT_EQ(r.op, kBootReply);
    EXPECT_EQ(*message_type(r.options), MessageType::offer);
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 60, 97, 43}));
    EXPECT_EQ(*server_id(r.options), kServer);
    EXPECT_EQ(*vendor_class(r.options), "PXEClient");
    EXPECT_EQ(*r.options.find(97), *req.options.find(97));
    // PXE_DISCOVERY_CONTROL = 8: boot the file in the offer, no menu.
    EXPECT_EQ(*r.options.find(43), (std::vector<std::uint8_t>{6, 1, 8, 255}));
    EXPECT_EQ(field_string(r.file), "undionly.kpxe");
    EXPECT_EQ(r.siaddr, kServer);  // next_server 0 means the proxy itself
    EXPECT_EQ(r.yiaddr, kZero);
    EXPECT_EQ(r.xid, req.xid);
    EXPECT_EQ(r.chaddr, req.chaddr);
    EXPECT_TRUE(r.flags & kBroadcastFlag);

    const DhcpPacket other = ok_reply(req, file("undionly.kpxe", Ipv4{10, 99, 0, 9}));
    EXPECT_EQ(other.siaddr, (Ipv4{10, 99, 0, 9}));
}

TEST(DhcpProxyReply, UefiIsSentToPort4011) {
    for (const char* name : {"uefi_x64_discover", "uefi_arm64_discover"}) {
        const DhcpPacket r = ok_reply(load_packet(name), file("ipxe.efi"));
        // No option 43: EDK2 asks this server on 4011 (dnsmasq, pixiecore).
        EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 60, 97})) << name;
        EXPECT_EQ(r.siaddr, kServer) << name;
        EXPECT_EQ(field_string(r.file), "ipxe.efi") << name;
        EXPECT_EQ(r.yiaddr, kZero) << name;
        // Even with TFTP elsewhere, siaddr names the proxy: EDK2 goes there for 4011.
        const Ipv4 tftp{10, 99, 0, 9};
        EXPECT_EQ(ok_reply(load_packet(name), file("ipxe.efi", tftp)).siaddr, kServer) << name;
    }
}

TEST(DhcpProxyReply, BootServerAckOn4011) {
    const DhcpPacket req = load_packet("uefi_x64_request_4011");
    const DhcpPacket r = ok_reply(req, file("ipxe.efi"), ProxyPort::boot_server);
    EXPECT_EQ(*message_type(r.options), MessageType::ack);
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 60, 97}));
    EXPECT_EQ(r.ciaddr, (Ipv4{10, 99, 0, 57}));  // RFC 2131 table 3: ciaddr from the REQUEST
    EXPECT_EQ(r.yiaddr, kZero);
    EXPECT_EQ(r.flags & kBroadcastFlag, 0);  // it has an address: unicast
    EXPECT_EQ(field_string(r.file), "ipxe.efi");
    EXPECT_EQ(r.siaddr, kServer);
    const Ipv4 tftp{10, 99, 0, 9};
    EXPECT_EQ(ok_reply(req, file("ipxe.efi", tftp), ProxyPort::boot_server).siaddr, tftp);

    // A BIOS client that went through a menu names its boot item; it is echoed.
    DhcpPacket bios = load_packet("bios_pxe_discover");
    set_message_type(bios.options, MessageType::request);
    bios.ciaddr = Ipv4{10, 99, 0, 58};
    Options sub;
    sub.set(71, std::vector<std::uint8_t>{0x80, 0x00, 0x00, 0x00});
    set_vendor_options(bios.options, sub);
    const DhcpPacket rb = ok_reply(bios, file("undionly.kpxe"), ProxyPort::boot_server);
    EXPECT_EQ(*rb.options.find(43), (std::vector<std::uint8_t>{71, 4, 0x80, 0, 0, 0, 255}));
}

TEST(DhcpProxyReply, IpxeGetsTheScriptUrl) {
    const std::string url = "http://10.99.0.1:8080/ipxe/node-01.ipxe";
    const DhcpPacket r = ok_reply(load_packet("ipxe_bios_discover"), file(url));
    EXPECT_EQ(field_string(r.file), url);
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 60, 97}));  // no 43 for iPXE

    // Too long for `file`: option 67 instead; too long for one option: refused.
    const std::string long_url = "http://10.99.0.1:8080/" + std::string(180, 'a');
    const DhcpPacket l = ok_reply(load_packet("ipxe_bios_discover"), file(long_url));
    EXPECT_EQ(l.file, (std::array<std::uint8_t, 128>{}));
    EXPECT_EQ(std::string(l.options.find(67)->begin(), l.options.find(67)->end()), long_url);
    expect_refused(reply_to(load_packet("ipxe_bios_discover"), file(std::string(256, 'a'))).reply,
                   Errc::invalid);
}

TEST(DhcpProxyReply, HttpBootGetsHttpClientAndTheUrl) {
    const std::string url = "http://10.99.0.1:8080/boot/bootx64.efi";
    const DhcpPacket req = load_packet("uefi_http_discover");
    const DhcpPacket r = ok_reply(req, file(url));
    EXPECT_EQ(*vendor_class(r.options), "HTTPClient");
    EXPECT_EQ(field_string(r.file), url);
    EXPECT_EQ(r.siaddr, kZero);
    EXPECT_FALSE(r.options.contains(43));
    DhcpPacket again = req;
    set_message_type(again.options, MessageType::request);
    expect_refused(reply_to(again, file(url), ProxyPort::boot_server).reply, Errc::unsupported);
}

TEST(DhcpProxyReply, WhatAProxyMustNotAnswer) {
    DhcpPacket plain = load_packet("pi4_discover");
    plain.options.erase(code::vendor_class);
    expect_refused(reply_to(plain, file("x")).reply, Errc::unsupported);

    // DISCOVER on 4011, REQUEST / RELEASE on 67.
    const DhcpPacket disc = load_packet("uefi_x64_discover");
    expect_refused(reply_to(disc, file("x"), ProxyPort::boot_server).reply, Errc::unsupported);
    DhcpPacket req = disc;
    set_message_type(req.options, MessageType::request);
    expect_refused(reply_to(req, file("x")).reply, Errc::unsupported);
    set_message_type(req.options, MessageType::release);
    expect_refused(reply_to(req, file("x"), ProxyPort::boot_server).reply, Errc::unsupported);

    // No boot file for a client that needs one.
    expect_refused(reply_to(disc, BootDecision{}).reply, Errc::invalid);
}

TEST(DhcpProxyReply, NeverAnAddressAndAlwaysDecodable) {
    for (const std::string& name : test::kFixtures) {
        DhcpPacket req = load_packet(name);
        if (req.op != kBootRequest) continue;
        auto c = classify(req);
        ASSERT_TRUE(c.ok()) << name;
        BootDecision d = c->kind == ClientKind::raspberry_pi ? pi_menu() : file("f");
        const auto port =
            c->message_type == MessageType::discover ? ProxyPort::dhcp : ProxyPort::boot_server;
        auto r = build_proxy_reply(req, *c, d, ReplyContext{kServer, port});
        ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
        EXPECT_EQ(r->yiaddr, kZero) << name;
        auto back = decode(encode(*r));
        ASSERT_TRUE(back.ok()) << name;
        EXPECT_EQ(*back, *r) << name;
    }
}

TEST(DhcpProxyReply, Destinations) {
    const ReplyContext dhcp{kServer, ProxyPort::dhcp};
    const ReplyContext pxe{kServer, ProxyPort::boot_server};
    DhcpPacket req = load_packet("pi4_discover");
    EXPECT_EQ(reply_destination(req, dhcp, kZero, 68),
              (Destination{Ipv4{255, 255, 255, 255}, 68, true}));
    EXPECT_EQ(reply_destination(req, pxe, Ipv4{10, 99, 0, 57}, 68),
              (Destination{Ipv4{10, 99, 0, 57}, 68, false}));
    EXPECT_EQ(reply_destination(req, pxe, kZero, 4011),
              (Destination{Ipv4{255, 255, 255, 255}, 4011, true}));
    req.giaddr = Ipv4{10, 1, 0, 1};
    EXPECT_EQ(reply_destination(req, dhcp, Ipv4{10, 1, 0, 1}, 67),
              (Destination{Ipv4{10, 1, 0, 1}, 67, false}));
}

}  // namespace
}  // namespace pib::dhcp
