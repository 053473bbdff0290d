#include "dhcp/full_reply.hpp"

#include <optional>

namespace pib::dhcp {
namespace {

constexpr Ipv4 kZero{};
constexpr Ipv4 kBroadcast{255, 255, 255, 255};

std::vector<std::uint8_t> be32(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

std::vector<std::uint8_t> addresses(const std::vector<Ipv4>& list) {
    std::vector<std::uint8_t> v;
    for (const Ipv4& a : list) v.insert(v.end(), a.begin(), a.end());
    return v;
}

// Option 50 when it is a well-formed address.
std::optional<Ipv4> requested_address(const Options& o) {
    const auto* v = o.find(code::requested_address);
    if (!v || v->size() != 4) return std::nullopt;
    return Ipv4{(*v)[0], (*v)[1], (*v)[2], (*v)[3]};
}

// Option 54 names another server (absent counts as ours: RFC 2131 §4.4.4
// lets a RELEASE or DECLINE omit it in practice, and old clients do).
bool names_other_server(const Options& o, const Ipv4& ours) {
    auto id = server_id(o);
    return id.ok() && *id != ours;
}

// RFC 2131 §4.3.2: the client's state follows from option 54, option 50 and ciaddr.
Result<ClientRequest> read_request(const DhcpPacket& req, const Ipv4& ours, bool broadcast) {
    const auto wanted = requested_address(req.options);
    if (req.options.contains(code::server_id)) {
        if (names_other_server(req.options, ours)) {
            return ClientRequest{ClientRequestKind::other_server, wanted.value_or(kZero)};
        }
        // SELECTING: option 50 MUST be there; a client putting the offer in
        // ciaddr instead is forgiven.
        if (wanted) return ClientRequest{ClientRequestKind::select, *wanted};
        if (req.ciaddr != kZero) return ClientRequest{ClientRequestKind::select, req.ciaddr};
        return fail(Errc::corrupted, "dhcp: REQUEST with option 54 but no option 50");
    }
    if (req.ciaddr != kZero) {
        return ClientRequest{broadcast ? ClientRequestKind::rebind : ClientRequestKind::renew,
                             req.ciaddr};
    }
    if (wanted) return ClientRequest{ClientRequestKind::init_reboot, *wanted};
    return fail(Errc::corrupted, "dhcp: REQUEST with neither option 50 nor ciaddr");
}

// RFC 2131 §4.3.1 table 3: yiaddr and ciaddr per message type.
DhcpPacket reply_header(const DhcpPacket& req, const FullAnswer& a) {
    DhcpPacket r = reply_base(req);
    switch (a.kind) {
        case FullAnswer::Kind::offer:
            r.yiaddr = a.address;
            break;
        case FullAnswer::Kind::ack:
            r.yiaddr = a.address;
            r.ciaddr = req.ciaddr;
            break;
        case FullAnswer::Kind::inform_ack:
            r.ciaddr = req.ciaddr;
            break;
        case FullAnswer::Kind::nak:
            // §4.1: a NAK through a relay has the broadcast bit set, so that the
            // relay broadcasts it on the client's segment.
            if (req.giaddr != kZero) r.flags |= kBroadcastFlag;
            break;
    }
    return r;
}

void add_configuration(Options& o, const FullAnswer& a, const NetworkConfig& net) {
    if (a.kind == FullAnswer::Kind::offer || a.kind == FullAnswer::Kind::ack) {
        // §4.4.5: T1 defaults to 0.5 and T2 to 0.875 of the lease.
        const std::uint64_t lease = a.lease_seconds;
        o.set(code::lease_time, be32(a.lease_seconds));
        o.set(code::renewal_time, be32(static_cast<std::uint32_t>(lease / 2)));
        o.set(code::rebinding_time, be32(static_cast<std::uint32_t>(lease * 7 / 8)));
    }
    o.set(code::subnet_mask, std::vector<std::uint8_t>(net.netmask.begin(), net.netmask.end()));
    if (!net.routers.empty()) o.set(code::router, addresses(net.routers));
    if (!net.dns.empty()) o.set(code::dns_server, addresses(net.dns));
    if (a.kind != FullAnswer::Kind::inform_ack && !a.hostname.empty() && a.hostname.size() <= 255) {
        o.set(code::host_name, a.hostname);
    }
}

// 53 and 54 first, then what option 55 asks for in its order, then the rest
// as built. RFC 2131 §4.3.1 has the server return what was asked; the order is
// a courtesy that some embedded clients (and readers of captures) rely on.
Options ordered(const Options& built, const Options& req) {
    std::vector<std::uint8_t> order{code::message_type, code::server_id};
    if (auto prl = parameter_request_list(req); prl.ok()) {
        order.insert(order.end(), prl->begin(), prl->end());
    }
    Options out;
    for (std::uint8_t c : order) {
        if (const auto* v = built.find(c); v && !out.contains(c)) out.set(c, *v);
    }
    for (const Option& o : built) {
        if (!out.contains(o.code)) out.set(o.code, o.data);
    }
    return out;
}

// RFC 2132 §9.10: the client takes messages up to option 57 octets (576 when
// absent, RFC 2131 §2), counted here as the IP datagram to be safe. Options
// go from the end (unrequested first, as `ordered` put them last) until the
// reply fits; the lease and identity options stay.
void fit(DhcpPacket& r, const Options& req) {
    std::size_t limit = 576;
    if (auto m = max_message_size(req); m.ok()) limit = *m;
    limit -= 20 + 8;
    const auto keep = [](std::uint8_t c) {
        return c == code::message_type || c == code::server_id || c == code::lease_time;
    };
    while (encode(r).size() > limit) {
        std::uint8_t victim = 0;
        for (const Option& o : r.options) {
            if (!keep(o.code)) victim = o.code;
        }
        if (victim == 0) return;
        r.options.erase(victim);
    }
}

}  // namespace

const char* request_kind_name(ClientRequestKind k) {
    switch (k) {
        case ClientRequestKind::discover:
            return "discover";
        case ClientRequestKind::select:
            return "select";
        case ClientRequestKind::other_server:
            return "other_server";
        case ClientRequestKind::init_reboot:
            return "init_reboot";
        case ClientRequestKind::renew:
            return "renew";
        case ClientRequestKind::rebind:
            return "rebind";
        case ClientRequestKind::decline:
            return "decline";
        case ClientRequestKind::release:
            return "release";
        case ClientRequestKind::inform:
            return "inform";
    }
    return "?";
}

Result<ClientRequest> read_client_request(const DhcpPacket& req, MessageType type, const Ipv4& ours,
                                          bool broadcast) {
    switch (type) {
        case MessageType::discover:
            return ClientRequest{ClientRequestKind::discover,
                                 requested_address(req.options).value_or(kZero)};
        case MessageType::request:
            return read_request(req, ours, broadcast);
        case MessageType::decline: {
            // §4.3.3: the declined address is in option 50.
            if (names_other_server(req.options, ours)) break;
            auto a = requested_address(req.options);
            if (!a) return fail(Errc::corrupted, "dhcp: DECLINE without option 50");
            return ClientRequest{ClientRequestKind::decline, *a};
        }
        case MessageType::release:
            // §4.3.4: the released address is ciaddr.
            if (names_other_server(req.options, ours)) break;
            if (req.ciaddr == kZero) return fail(Errc::corrupted, "dhcp: RELEASE with ciaddr 0");
            return ClientRequest{ClientRequestKind::release, req.ciaddr};
        case MessageType::inform:
            return ClientRequest{ClientRequestKind::inform, req.ciaddr};
        default:
            break;
    }
    return fail(Errc::unsupported, "dhcp: not ours to act on: " + message_type_name(type));
}

Result<DhcpPacket> build_full_reply(const DhcpPacket& req, const ClientInfo& c, const FullAnswer& a,
                                    const NetworkConfig& net, const Ipv4& server_id,
                                    const BootDecision* boot) {
    DhcpPacket r = reply_header(req, a);
    Options& o = r.options;
    switch (a.kind) {
        case FullAnswer::Kind::offer:
            set_message_type(o, MessageType::offer);
            break;
        case FullAnswer::Kind::nak:
            // Table 3: a NAK carries 53, 54 and at most a message.
            set_message_type(o, MessageType::nak);
            set_server_id(o, server_id);
            if (!a.message.empty())
                o.set(code::message, std::string_view(a.message).substr(0, 255));
            return r;
        default:
            set_message_type(o, MessageType::ack);
            break;
    }
    set_server_id(o, server_id);
    add_configuration(o, a, net);
    if (boot && c.kind != ClientKind::not_pxe) {
        PIB_TRY(add_boot_fields(r, req, c, *boot, ReplyContext{server_id, ProxyPort::dhcp}));
    }
    r.options = ordered(r.options, req.options);
    fit(r, req.options);
    return r;
}

Destination full_reply_destination(const DhcpPacket& req, const DhcpPacket& reply) {
    if (req.giaddr != kZero) return Destination{req.giaddr, kServerPort, false};
    auto type = message_type(reply.options);
    const bool nak = type.ok() && *type == MessageType::nak;
    if (!nak && req.ciaddr != kZero) return Destination{req.ciaddr, kClientPort, false};
    return Destination{kBroadcast, kClientPort, true};
}

}  // namespace pib::dhcp
