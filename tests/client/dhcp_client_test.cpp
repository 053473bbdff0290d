// The DHCP client state machine against a scripted server: no sockets, no sleeps.
#include "client/dhcp_client.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "client/udp_frame.hpp"

namespace pib::client {
namespace {

using dhcp::DhcpPacket;
using dhcp::Ipv4;
using dhcp::MessageType;

const Mac kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
const Ipv4 kServer = {10, 0, 0, 1};

DhcpPacket reply_to(const DhcpPacket& req, MessageType t, Ipv4 yiaddr, Ipv4 server = kServer) {
    DhcpPacket r;
    r.op = dhcp::kBootReply;
    r.xid = req.xid;
    r.flags = req.flags;
    r.chaddr = req.chaddr;
    r.yiaddr = yiaddr;
    dhcp::set_message_type(r.options, t);
    dhcp::set_server_id(r.options, server);
    r.options.set(1, std::vector<std::uint8_t>{255, 255, 255, 0});
    r.options.set(3, std::vector<std::uint8_t>{10, 0, 0, 254});
    r.options.set(51, std::vector<std::uint8_t>{0, 0, 0x0e, 0x10});
    r.options.set(12, std::string_view("pc-01"));
    return r;
}

// A server scripted per received message: returns the replies to queue.
class ScriptedTransport : public DhcpTransport {
  public:
    std::function<std::vector<DhcpPacket>(const DhcpPacket&, int index)> script;
    std::vector<DhcpPacket> sent;
    std::vector<std::int64_t> sent_at;
    std::int64_t now = 0;

    Status send(std::span<const std::uint8_t> payload) override {
        auto p = dhcp::decode(payload);
        EXPECT_TRUE(p.ok());
        sent.push_back(*p);
        sent_at.push_back(now);
        for (auto& r : script(*p, static_cast<int>(sent.size()) - 1))
            inbox.push_back(dhcp::encode(r));
        return {};
    }
    Result<std::optional<std::vector<std::uint8_t>>> receive(std::int64_t deadline) override {
        if (inbox.empty()) {
            now = deadline;
            return std::optional<std::vector<std::uint8_t>>{};
        }
        now += 5;
        auto b = inbox.front();
        inbox.pop_front();
        return std::optional<std::vector<std::uint8_t>>{b};
    }
    std::int64_t now_ms() override { return now; }

  private:
    std::deque<std::vector<std::uint8_t>> inbox;
};

MessageType type_of(const DhcpPacket& p) { return *dhcp::message_type(p.options); }

TEST(DhcpClient, DiscoverOfferRequestAck) {
    ScriptedTransport t;
    t.script = [](const DhcpPacket& req, int) -> std::vector<DhcpPacket> {
        if (type_of(req) == MessageType::discover)
            return {reply_to(req, MessageType::offer, {10, 0, 0, 5})};
        return {reply_to(req, MessageType::ack, {10, 0, 0, 5})};
    };
    DhcpClientMachine m(kMac, 0xabcdef01);
    std::vector<std::string> lines;
    auto lease = run_dhcp(t, m, [&](const std::string& l) { lines.push_back(l); });
    ASSERT_TRUE(lease.ok()) << lease.error().message;
    EXPECT_EQ(lease->address, (Ipv4{10, 0, 0, 5}));
    EXPECT_EQ(lease->router, (Ipv4{10, 0, 0, 254}));
    EXPECT_EQ(lease->server_id, kServer);
    EXPECT_EQ(lease->lease_seconds, 3600u);
    EXPECT_EQ(lease->hostname, "pc-01");
    ASSERT_EQ(t.sent.size(), 2u);
    const DhcpPacket& req = t.sent[1];
    EXPECT_EQ(type_of(req), MessageType::request);
    EXPECT_EQ(*req.options.find(50),
              (std::vector<std::uint8_t>{10, 0, 0, 5}));  // requested address
    EXPECT_EQ(*dhcp::server_id(req.options), kServer);
    EXPECT_EQ(req.ciaddr, Ipv4{});
    EXPECT_EQ(req.flags, dhcp::kBroadcastFlag);
    EXPECT_EQ(t.sent[0].xid, 0xabcdef01u);
    EXPECT_NE(lines.back().find("bound address=10.0.0.5"), std::string::npos) << lines.back();
}

TEST(DhcpClient, RetransmitsWithExponentialBackoffCapped) {
    ScriptedTransport t;
    t.script = [](const DhcpPacket& req, int i) -> std::vector<DhcpPacket> {
        if (i < 6) return {};  // silence for six discovers
        if (type_of(req) == MessageType::discover)
            return {reply_to(req, MessageType::offer, {10, 0, 0, 7})};
        return {reply_to(req, MessageType::ack, {10, 0, 0, 7})};
    };
    DhcpClientMachine m(kMac, 1, Backoff{1000, 8000, 4, 0});
    auto lease = run_dhcp(t, m, [](const std::string&) {});
    ASSERT_TRUE(lease.ok());
    std::vector<std::int64_t> gaps;
    for (std::size_t i = 1; i < 7; ++i) gaps.push_back(t.sent_at[i] - t.sent_at[i - 1]);
    EXPECT_EQ(gaps, (std::vector<std::int64_t>{1000, 2000, 4000, 8000, 8000, 8000}));
    EXPECT_EQ(t.sent[5].secs, 23);  // secs counts from the first DISCOVER
}

TEST(DhcpClient, IgnoresProxyDhcpWrongXidAndOtherClients) {
    ScriptedTransport t;
    t.script = [](const DhcpPacket& req, int) -> std::vector<DhcpPacket> {
        if (type_of(req) != MessageType::discover)
            return {reply_to(req, MessageType::ack, {10, 0, 0, 9})};
        DhcpPacket proxy = reply_to(req, MessageType::offer, {0, 0, 0, 0});  // netbootd proxyDHCP
        DhcpPacket wrong_xid = reply_to(req, MessageType::offer, {10, 0, 0, 8});
        wrong_xid.xid ^= 1;
        DhcpPacket other = reply_to(req, MessageType::offer, {10, 0, 0, 8});
        other.chaddr[5] ^= 1;
        DhcpPacket ack_early = reply_to(req, MessageType::ack, {10, 0, 0, 8});
        return {proxy, wrong_xid, other, ack_early,
                reply_to(req, MessageType::offer, {10, 0, 0, 9})};
    };
    DhcpClientMachine m(kMac, 42);
    std::vector<std::string> lines;
    auto lease = run_dhcp(t, m, [&](const std::string& l) { lines.push_back(l); });
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(lease->address, (Ipv4{10, 0, 0, 9}));
    EXPECT_EQ(t.sent.size(), 2u);
    EXPECT_NE(std::find(lines.begin(), lines.end(),
                        "dhcp: ignored an offer without an address (proxyDHCP)"),
              lines.end());
}

TEST(DhcpClient, NakStartsOverAndAckFromAnotherServerIsIgnored) {
    ScriptedTransport t;
    int requests = 0;
    t.script = [&](const DhcpPacket& req, int) -> std::vector<DhcpPacket> {
        if (type_of(req) == MessageType::discover)
            return {reply_to(req, MessageType::offer, {10, 0, 0, 5})};
        if (++requests == 1) return {reply_to(req, MessageType::nak, {0, 0, 0, 0})};
        return {reply_to(req, MessageType::ack, {10, 0, 0, 6}, {10, 0, 0, 99}),
                reply_to(req, MessageType::ack, {10, 0, 0, 5})};
    };
    DhcpClientMachine m(kMac, 7);
    auto lease = run_dhcp(t, m, [](const std::string&) {});
    ASSERT_TRUE(lease.ok());
    EXPECT_EQ(lease->address, (Ipv4{10, 0, 0, 5}));
    ASSERT_EQ(t.sent.size(), 4u);
    EXPECT_EQ(type_of(t.sent[2]), MessageType::discover);
}

TEST(DhcpClient, RequestUnansweredFallsBackToDiscoverAndGivesUp) {
    ScriptedTransport t;
    t.script = [](const DhcpPacket& req, int) -> std::vector<DhcpPacket> {
        if (type_of(req) == MessageType::discover)
            return {reply_to(req, MessageType::offer, {10, 0, 0, 5})};
        return {};
    };
    DhcpClientMachine m(kMac, 7, Backoff{1000, 4000, 2, 7});
    auto lease = run_dhcp(t, m, [](const std::string&) {});
    ASSERT_FALSE(lease.ok());
    EXPECT_EQ(m.state(), DhcpClientMachine::State::failed);
    std::string types;
    for (const auto& p : t.sent) types += type_of(p) == MessageType::discover ? 'D' : 'R';
    EXPECT_EQ(types, "DRRDRRDR");  // an offer is always answered; timeouts count
}

TEST(UdpFrame, RoundTripAndChecksums) {
    UdpDatagram d;
    d.src = {0, 0, 0, 0};
    d.dst = {255, 255, 255, 255};
    d.src_port = 68;
    d.dst_port = 67;
    d.payload = {1, 2, 3, 4, 5};
    auto b = encode_udp_ipv4(d);
    EXPECT_EQ(b.size(), 33u);
    EXPECT_EQ(inet_checksum(std::span(b).first(20)), 0);
    auto back = decode_udp_ipv4(b);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->payload, d.payload);
    EXPECT_EQ(back->dst_port, 67);
    b[12] ^= 1;  // IP header damaged
    EXPECT_FALSE(decode_udp_ipv4(b).has_value());
    b[12] ^= 1;
    b[6] = 0x20;  // more fragments
    EXPECT_FALSE(decode_udp_ipv4(b).has_value());
    EXPECT_FALSE(decode_udp_ipv4(std::span(b).first(27)).has_value());
}

}  // namespace
}  // namespace pib::client
