// Full-mode DHCP replies (RFC 2131 §4.3): reading what a client asks, the
// OFFER/ACK/NAK/INFORM-ACK it gets, and PXE clients getting an address and the
// same boot fields a proxy reply carries.
#include "dhcp/full_reply.hpp"

#include <gtest/gtest.h>

#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::load_packet;

constexpr Ipv4 kServer{10, 99, 0, 1};
constexpr Ipv4 kOther{10, 99, 0, 2};
constexpr Ipv4 kLeased{10, 99, 0, 100};
constexpr Ipv4 kZero{};

DhcpPacket plain(MessageType t, std::vector<std::uint8_t> prl = {}) {
    DhcpPacket p;
    p.xid = 0x01020304;
    p.chaddr = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x01};
    set_message_type(p.options, t);
    if (!prl.empty()) set_parameter_request_list(p.options, prl);
    return p;
}

void set_requested(DhcpPacket& p, const Ipv4& a) {
    p.options.set(code::requested_address, std::vector<std::uint8_t>(a.begin(), a.end()));
}

ClientRequest read(const DhcpPacket& p, bool broadcast = true) {
    auto r = read_client_request(p, *message_type(p.options), kServer, broadcast);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ClientRequest{};
}

Errc read_error(const DhcpPacket& p) {
    auto r = read_client_request(p, *message_type(p.options), kServer, true);
    EXPECT_FALSE(r.ok());
    return r.ok() ? Errc::invalid : r.error().code;
}

NetworkConfig net() {
    NetworkConfig n;
    n.netmask = {255, 255, 255, 0};
    n.routers = {kServer};
    n.dns = {{10, 99, 0, 53}, {10, 99, 0, 54}};
    return n;
}

FullAnswer grant(FullAnswer::Kind kind, std::string hostname = "") {
    FullAnswer a;
    a.kind = kind;
    a.address = kLeased;
    a.lease_seconds = 3600;
    a.hostname = std::move(hostname);
    return a;
}

DhcpPacket build(const DhcpPacket& req, const FullAnswer& a, const BootDecision* boot = nullptr) {
    auto c = classify(req);
    EXPECT_TRUE(c.ok());
    auto r = build_full_reply(req, *c, a, net(), kServer, boot);
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return DhcpPacket{};
    auto again = decode(encode(*r));  // every reply survives the wire
    EXPECT_TRUE(again.ok() && *again == *r);
    return *r;
}

std::vector<std::uint8_t> codes(const DhcpPacket& p) {
    std::vector<std::uint8_t> c;
    for (const Option& o : p.options) c.push_back(o.code);
    return c;
}

std::string hex_of(const DhcpPacket& p, std::uint8_t c) {
    const auto* v = p.options.find(c);
    return v ? to_hex(*v) : "<absent>";
}

TEST(DhcpFullReply, ReadsWhatEachMessageAsks) {
    auto d = plain(MessageType::discover);
    EXPECT_EQ(read(d), (ClientRequest{ClientRequestKind::discover, kZero}));
    set_requested(d, kLeased);
    EXPECT_EQ(read(d), (ClientRequest{ClientRequestKind::discover, kLeased}));

    // RFC 2131 §4.3.2: SELECTING names the server, INIT-REBOOT does not,
    // RENEWING/REBINDING put the address in ciaddr.
    auto sel = plain(MessageType::request);
    set_requested(sel, kLeased);
    set_server_id(sel.options, kServer);
    EXPECT_EQ(read(sel), (ClientRequest{ClientRequestKind::select, kLeased}));
    set_server_id(sel.options, kOther);
    EXPECT_EQ(read(sel).kind, ClientRequestKind::other_server);

    auto reboot = plain(MessageType::request);
    set_requested(reboot, kLeased);
    EXPECT_EQ(read(reboot), (ClientRequest{ClientRequestKind::init_reboot, kLeased}));

    auto renew = plain(MessageType::request);
    renew.ciaddr = kLeased;
    EXPECT_EQ(read(renew, false), (ClientRequest{ClientRequestKind::renew, kLeased}));
    EXPECT_EQ(read(renew, true), (ClientRequest{ClientRequestKind::rebind, kLeased}));

    auto decline = plain(MessageType::decline);
    set_requested(decline, kLeased);
    set_server_id(decline.options, kServer);
    EXPECT_EQ(read(decline), (ClientRequest{ClientRequestKind::decline, kLeased}));

    auto release = plain(MessageType::release);
    release.ciaddr = kLeased;
    EXPECT_EQ(read(release), (ClientRequest{ClientRequestKind::release, kLeased}));

    auto inform = plain(MessageType::inform);
    inform.ciaddr = kLeased;
    EXPECT_EQ(read(inform), (ClientRequest{ClientRequestKind::inform, kLeased}));
}

TEST(DhcpFullReply, RefusesWhatIsMalformedOrNotOurs) {
    auto sel = plain(MessageType::request);
    set_server_id(sel.options, kServer);
    EXPECT_EQ(read_error(sel), Errc::corrupted);  // SELECTING without option 50
    EXPECT_EQ(read_error(plain(MessageType::request)), Errc::corrupted);
    EXPECT_EQ(read_error(plain(MessageType::decline)), Errc::corrupted);
    EXPECT_EQ(read_error(plain(MessageType::release)), Errc::corrupted);  // ciaddr 0
    auto release = plain(MessageType::release);
    release.ciaddr = kLeased;
    set_server_id(release.options, kOther);
    EXPECT_EQ(read_error(release), Errc::unsupported);
    EXPECT_EQ(read_error(plain(MessageType::offer)), Errc::unsupported);
    EXPECT_EQ(read_error(plain(MessageType::ack)), Errc::unsupported);
}

TEST(DhcpFullReply, OfferCarriesTheAddressLeaseAndNetwork) {
    const auto req = plain(MessageType::discover, {12, 6, 3, 1, 51});
    const auto r = build(req, grant(FullAnswer::Kind::offer, "node-a"));
    EXPECT_EQ(r.op, kBootReply);
    EXPECT_EQ(r.xid, req.xid);
    EXPECT_EQ(r.chaddr, req.chaddr);
    EXPECT_EQ(r.yiaddr, kLeased);
    EXPECT_EQ(r.ciaddr, kZero);
    EXPECT_EQ(r.flags, 0);  // the client's flags, as table 3 says
    EXPECT_EQ(*message_type(r.options), MessageType::offer);
    EXPECT_EQ(*server_id(r.options), kServer);
    EXPECT_EQ(hex_of(r, code::lease_time), "00000e10");      // 3600
    EXPECT_EQ(hex_of(r, code::renewal_time), "00000708");    // T1 1800
    EXPECT_EQ(hex_of(r, code::rebinding_time), "00000c4e");  // T2 3150
    EXPECT_EQ(hex_of(r, code::subnet_mask), "ffffff00");
    EXPECT_EQ(hex_of(r, code::router), "0a630001");
    EXPECT_EQ(hex_of(r, code::dns_server), "0a6300350a630036");
    EXPECT_EQ(hex_of(r, code::host_name),
              to_hex(std::vector<std::uint8_t>{'n', 'o', 'd', 'e', '-', 'a'}));
    // 53 and 54 first, then option 55's order, then the rest.
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 12, 6, 3, 1, 51, 58, 59}));
    EXPECT_FALSE(r.options.contains(code::vendor_class));  // not a PXE client: no boot fields
    EXPECT_EQ(full_reply_destination(req, r),
              (Destination{{255, 255, 255, 255}, kClientPort, true}));
}

TEST(DhcpFullReply, AckOnRenewalIsUnicastToTheClient) {
    auto req = plain(MessageType::request);
    req.ciaddr = kLeased;
    const auto r = build(req, grant(FullAnswer::Kind::ack));
    EXPECT_EQ(*message_type(r.options), MessageType::ack);
    EXPECT_EQ(r.ciaddr, kLeased);
    EXPECT_EQ(r.yiaddr, kLeased);
    EXPECT_FALSE(r.options.contains(code::host_name));
    EXPECT_EQ(full_reply_destination(req, r), (Destination{kLeased, kClientPort, false}));
}

TEST(DhcpFullReply, NakCarriesOnlyTypeServerAndMessage) {
    auto req = plain(MessageType::request);
    req.ciaddr = kLeased;
    FullAnswer nak;
    nak.kind = FullAnswer::Kind::nak;
    nak.message = "wrong network";
    auto r = build(req, nak);
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 56}));
    EXPECT_EQ(r.yiaddr, kZero);
    EXPECT_EQ(r.ciaddr, kZero);
    // §4.1: NAKs are broadcast, even to a client that has an address...
    EXPECT_EQ(full_reply_destination(req, r),
              (Destination{{255, 255, 255, 255}, kClientPort, true}));
    // ...and through a relay go to the relay with the broadcast bit set.
    req.giaddr = {10, 98, 0, 1};
    r = build(req, nak);
    EXPECT_EQ(r.flags, kBroadcastFlag);
    EXPECT_EQ(full_reply_destination(req, r), (Destination{req.giaddr, kServerPort, false}));
}

TEST(DhcpFullReply, InformGetsConfigurationWithoutALease) {
    auto req = plain(MessageType::inform, {1, 3, 6});
    req.ciaddr = {10, 99, 0, 7};
    FullAnswer a;
    a.kind = FullAnswer::Kind::inform_ack;
    const auto r = build(req, a);
    EXPECT_EQ(*message_type(r.options), MessageType::ack);
    EXPECT_EQ(r.yiaddr, kZero);
    EXPECT_EQ(r.ciaddr, req.ciaddr);
    EXPECT_EQ(codes(r), (std::vector<std::uint8_t>{53, 54, 1, 3, 6}));
    EXPECT_EQ(full_reply_destination(req, r), (Destination{req.ciaddr, kClientPort, false}));
}

TEST(DhcpFullReply, PiGetsAnAddressAndTheBootMenu) {
    const DhcpPacket req = load_packet("pi4_discover");
    BootDecision menu;
    menu.pi_menu = true;
    const auto r = build(req, grant(FullAnswer::Kind::offer), &menu);
    EXPECT_EQ(r.yiaddr, kLeased);
    EXPECT_EQ(hex_of(r, code::vendor_specific),
              "0601030a0400505845091400001152617370626572727920506920426f6f74ff");
    EXPECT_EQ(hex_of(r, code::vendor_class),
              to_hex(std::vector<std::uint8_t>{'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't'}));
    EXPECT_EQ(*r.options.find(code::client_guid), *req.options.find(code::client_guid));
    EXPECT_EQ(r.siaddr, kZero);
    EXPECT_TRUE(r.options.contains(code::lease_time));
    // The Pi's option 55 (1 3 43 60 66 67 ...) orders the reply.
    EXPECT_EQ(codes(r)[2], code::subnet_mask);
    EXPECT_EQ(codes(r)[3], code::router);
    EXPECT_EQ(codes(r)[4], code::vendor_specific);

    // A Pi boots only from the menu: the decision is refused, the caller answers without it.
    BootDecision file;
    file.boot_file = "start4.elf";
    auto c = classify(req);
    auto refused = build_full_reply(req, *c, grant(FullAnswer::Kind::offer), net(), kServer, &file);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, Errc::invalid);
}

TEST(DhcpFullReply, PxeClientsGetTheBootFileInOfferAndAck) {
    BootDecision d;
    d.boot_file = "undionly.kpxe";
    const auto offer = build(load_packet("bios_pxe_discover"), grant(FullAnswer::Kind::offer), &d);
    EXPECT_EQ(offer.yiaddr, kLeased);
    EXPECT_EQ(field_string(offer.file), "undionly.kpxe");
    EXPECT_EQ(offer.siaddr, kServer);
    EXPECT_EQ(hex_of(offer, code::vendor_specific),
              "060108ff");  // PXE discovery control: boot the file

    DhcpPacket req = load_packet("uefi_x64_discover");
    set_message_type(req.options, MessageType::request);
    d.boot_file = "ipxe.efi";
    const auto ack = build(req, grant(FullAnswer::Kind::ack), &d);
    EXPECT_EQ(*message_type(ack.options), MessageType::ack);
    EXPECT_EQ(ack.yiaddr, kLeased);
    EXPECT_EQ(field_string(ack.file), "ipxe.efi");
    EXPECT_EQ(ack.siaddr, kServer);  // UEFI: siaddr names us, discovery goes on to 4011
    EXPECT_FALSE(ack.options.contains(code::vendor_specific));

    // A client that is not PXE gets no boot fields even when given a decision.
    const auto other = build(plain(MessageType::discover), grant(FullAnswer::Kind::offer), &d);
    EXPECT_EQ(field_string(other.file), "");
    EXPECT_FALSE(other.options.contains(code::vendor_class));
}

TEST(DhcpFullReply, ReplyFitsTheClientsMaximumSize) {
    NetworkConfig big = net();
    for (std::uint8_t i = 0; i < 60; ++i)
        big.dns.push_back({10, 99, 1, i});  // 248 bytes of option 6
    auto req = plain(MessageType::discover, {1, 3, 6});
    auto c = classify(req);
    FullAnswer a = grant(FullAnswer::Kind::offer, std::string(200, 'h'));
    // No option 57: 576-byte datagrams (RFC 2131 §2), 548 bytes of DHCP.
    auto r = build_full_reply(req, *c, a, big, kServer);
    ASSERT_TRUE(r.ok());
    EXPECT_LE(encode(*r).size(), 548u);
    EXPECT_TRUE(r->options.contains(code::lease_time));
    EXPECT_TRUE(
        r->options.contains(code::dns_server));  // asked for: kept over the unrequested hostname
    EXPECT_FALSE(r->options.contains(code::host_name));
    set_max_message_size(req.options, 1500);
    r = build_full_reply(req, *c, a, big, kServer);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->options.contains(code::host_name));
}

}  // namespace
}  // namespace pib::dhcp
