// DHCP client state machine for pib-init (RFC 2131 §3.1, §4.1, §4.4).
#include "client/dhcp_client.hpp"

#include <algorithm>
#include <cstring>

namespace pib::client {

namespace {

constexpr std::uint8_t kOptSubnetMask = 1;    // RFC 2132 §3.3
constexpr std::uint8_t kOptRouter = 3;        // §3.5
constexpr std::uint8_t kOptHostname = 12;     // §3.14
constexpr std::uint8_t kOptRequestedIp = 50;  // §9.1
constexpr std::uint8_t kOptLeaseTime = 51;    // §9.2

bool is_zero(const dhcp::Ipv4& a) { return a == dhcp::Ipv4{}; }

std::optional<dhcp::Ipv4> ipv4_option(const dhcp::Options& o, std::uint8_t code) {
    const auto* v = o.find(code);
    if (v == nullptr || v->size() < 4) return std::nullopt;
    return dhcp::Ipv4{(*v)[0], (*v)[1], (*v)[2], (*v)[3]};
}

}  // namespace

std::string describe(const Lease& l) {
    std::string s =
        "address=" + dhcp::to_string(l.address) + " netmask=" + dhcp::to_string(l.netmask);
    if (!is_zero(l.router)) s += " router=" + dhcp::to_string(l.router);
    s += " server=" + dhcp::to_string(l.server_id) + " lease=" + std::to_string(l.lease_seconds);
    if (!l.hostname.empty()) s += " hostname=" + l.hostname;
    return s;
}

Lease lease_from(const dhcp::DhcpPacket& reply) {
    Lease l;
    l.address = reply.yiaddr;
    l.netmask = ipv4_option(reply.options, kOptSubnetMask).value_or(dhcp::Ipv4{255, 255, 255, 0});
    l.router = ipv4_option(reply.options, kOptRouter).value_or(dhcp::Ipv4{});
    if (auto sid = dhcp::server_id(reply.options)) l.server_id = *sid;
    if (const auto* t = reply.options.find(kOptLeaseTime); t != nullptr && t->size() == 4)
        l.lease_seconds = (std::uint32_t((*t)[0]) << 24) | (std::uint32_t((*t)[1]) << 16) |
                          (std::uint32_t((*t)[2]) << 8) | std::uint32_t((*t)[3]);
    if (const auto* h = reply.options.find(kOptHostname); h != nullptr)
        l.hostname.assign(h->begin(), std::find(h->begin(), h->end(), std::uint8_t{0}));
    return l;
}

DhcpClientMachine::DhcpClientMachine(const Mac& mac, std::uint32_t xid, Backoff backoff)
    : mac_(mac), xid_(xid), backoff_(backoff) {}

dhcp::DhcpPacket DhcpClientMachine::base(dhcp::MessageType t) const {
    dhcp::DhcpPacket p;
    p.op = dhcp::kBootRequest;
    p.xid = xid_;
    // We have no address yet and our packet socket sees every frame anyway,
    // but a server must not unicast to an address the NIC does not own yet.
    p.flags = dhcp::kBroadcastFlag;
    std::copy(mac_.begin(), mac_.end(), p.chaddr.begin());
    dhcp::set_message_type(p.options, t);
    static constexpr std::uint8_t kWanted[] = {
        kOptSubnetMask, kOptRouter, 6, kOptHostname, 15, 28, kOptLeaseTime, dhcp::code::server_id};
    dhcp::set_parameter_request_list(p.options, kWanted);
    dhcp::set_max_message_size(p.options, 1500);
    return p;
}

std::int64_t DhcpClientMachine::next_wait() {
    wait_ms_ = wait_ms_ == 0 ? backoff_.first_ms : std::min(wait_ms_ * 2, backoff_.cap_ms);
    return wait_ms_;
}

DhcpClientMachine::Action DhcpClientMachine::send_discover(std::int64_t now_ms) {
    state_ = State::selecting;
    request_sends_ = 0;
    auto p = base(dhcp::MessageType::discover);
    p.secs = static_cast<std::uint16_t>(std::min<std::int64_t>((now_ms - start_ms_) / 1000, 65535));
    ++sends_;
    deadline_ms_ = now_ms + next_wait();
    return {dhcp::encode(p), deadline_ms_,
            "dhcp: sent DHCPDISCOVER (attempt " + std::to_string(sends_) + "), waiting " +
                std::to_string(wait_ms_ / 1000) + " s for an offer"};
}

DhcpClientMachine::Action DhcpClientMachine::send_request(std::int64_t now_ms) {
    state_ = State::requesting;
    auto p = base(dhcp::MessageType::request);
    p.secs = static_cast<std::uint16_t>(std::min<std::int64_t>((now_ms - start_ms_) / 1000, 65535));
    // RFC 2131 §4.3.2 SELECTING: server identifier and requested IP address set, ciaddr zero.
    p.options.set(kOptRequestedIp,
                  std::vector<std::uint8_t>(offer_.yiaddr.begin(), offer_.yiaddr.end()));
    if (auto sid = dhcp::server_id(offer_.options)) dhcp::set_server_id(p.options, *sid);
    ++sends_;
    ++request_sends_;
    deadline_ms_ = now_ms + next_wait();
    return {dhcp::encode(p), deadline_ms_,
            "dhcp: sent DHCPREQUEST for " + dhcp::to_string(offer_.yiaddr) + " (attempt " +
                std::to_string(request_sends_) + "), waiting " + std::to_string(wait_ms_ / 1000) +
                " s for the ack"};
}

DhcpClientMachine::Action DhcpClientMachine::start(std::int64_t now_ms) {
    start_ms_ = now_ms;
    sends_ = 0;
    wait_ms_ = 0;
    return send_discover(now_ms);
}

DhcpClientMachine::Action DhcpClientMachine::on_packet(std::span<const std::uint8_t> bytes,
                                                       std::int64_t now_ms) {
    Action keep{{}, deadline_ms_, ""};
    if (state_ != State::selecting && state_ != State::requesting) return keep;
    auto decoded = dhcp::decode(bytes);
    if (!decoded) return keep;
    const dhcp::DhcpPacket& r = *decoded;
    if (r.op != dhcp::kBootReply || r.xid != xid_ || r.hlen != 6 ||
        !std::equal(mac_.begin(), mac_.end(), r.chaddr.begin()))
        return keep;
    auto type = dhcp::message_type(r.options);
    if (!type) return keep;
    if (state_ == State::selecting) {
        if (*type != dhcp::MessageType::offer) return keep;
        if (is_zero(r.yiaddr)) {
            keep.note = "dhcp: ignored an offer without an address (proxyDHCP)";
            return keep;
        }
        if (!dhcp::server_id(r.options)) return keep;  // RFC 2131 §4.3.1: MUST be present
        offer_ = r;
        wait_ms_ = 0;
        Action a = send_request(now_ms);
        a.note = "dhcp: offer of " + dhcp::to_string(r.yiaddr) + " from " +
                 dhcp::to_string(*dhcp::server_id(r.options)) + "; " + a.note;
        return a;
    }
    // requesting: only the server we asked may answer.
    auto sid = dhcp::server_id(r.options);
    auto want = dhcp::server_id(offer_.options);
    if (sid && want && *sid != *want) return keep;
    if (*type == dhcp::MessageType::nak) {
        wait_ms_ = 0;
        Action a = send_discover(now_ms);
        a.note = "dhcp: DHCPNAK from " + (sid ? dhcp::to_string(*sid) : std::string("?")) +
                 "; starting over; " + a.note;
        return a;
    }
    if (*type != dhcp::MessageType::ack || is_zero(r.yiaddr)) return keep;
    lease_ = lease_from(r);
    if (is_zero(lease_.server_id) && want) lease_.server_id = *want;
    state_ = State::bound;
    return {{}, 0, "dhcp: bound " + describe(lease_)};
}

DhcpClientMachine::Action DhcpClientMachine::on_timeout(std::int64_t now_ms) {
    if (state_ != State::selecting && state_ != State::requesting) return {{}, 0, ""};
    if (backoff_.max_sends > 0 && sends_ >= backoff_.max_sends) {
        state_ = State::failed;
        return {{}, 0, "dhcp: no lease after " + std::to_string(sends_) + " transmissions"};
    }
    if (state_ == State::requesting && request_sends_ < backoff_.request_tries)
        return send_request(now_ms);
    if (state_ == State::requesting) {
        // RFC 2131 §4.4.1: no ACK after retransmissions, back to INIT.
        wait_ms_ = 0;
    }
    return send_discover(now_ms);
}

Result<Lease> run_dhcp(DhcpTransport& transport, DhcpClientMachine& machine,
                       const std::function<void(const std::string&)>& say) {
    auto act = machine.start(transport.now_ms());
    for (;;) {
        if (!act.note.empty()) say(act.note);
        if (machine.state() == DhcpClientMachine::State::bound) return machine.lease();
        if (machine.state() == DhcpClientMachine::State::failed)
            return fail(Errc::not_found, "no DHCP lease after " + std::to_string(machine.sends()) +
                                             " transmissions");
        if (!act.send.empty()) PIB_TRY(transport.send(act.send));
        auto got = transport.receive(act.deadline_ms);
        if (!got) return got.error();
        if (got->has_value())
            act = machine.on_packet(**got, transport.now_ms());
        else
            act = machine.on_timeout(transport.now_ms());
    }
}

}  // namespace pib::client
