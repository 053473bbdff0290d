#include "netbootd/dhcp_proxy_server.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/hex.hpp"
#include "dhcp/describe.hpp"
#include "dhcp/options.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;
namespace dhcp = pib::dhcp;

namespace {

dhcp::Ipv4 to_ipv4(in_addr a) {
    dhcp::Ipv4 out{};
    std::memcpy(out.data(), &a.s_addr, 4);
    return out;
}

in_addr to_in_addr(const dhcp::Ipv4& a) {
    in_addr out{};
    std::memcpy(&out.s_addr, a.data(), 4);
    return out;
}

/// One UDP socket on `port` with what a DHCP server needs: shared port 67
/// (SO_REUSEADDR, as dnsmasq --bind-interfaces sets), broadcast replies and
/// the receiving interface of each datagram.
pib::Result<int> open_socket(const DhcpProxyConfig& config, std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Errc::io, std::string("socket: ") + std::strerror(errno));
    auto bail = [fd](const std::string& what) {
        int e = errno;
        close(fd);
        return fail(Errc::io, what + ": " + std::strerror(e));
    };
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        return bail("SO_REUSEADDR");
    if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0)
        return bail("SO_BROADCAST");
    if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) != 0) return bail("IP_PKTINFO");
    int rcvbuf = 1 << 20;  // a boot storm: keep discovers queued, not dropped
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (!config.interface.empty() &&
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, config.interface.c_str(),
                   static_cast<socklen_t>(config.interface.size())) != 0)
        return bail("SO_BINDTODEVICE " + config.interface);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);  // broadcasts only reach a wildcard socket
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0)
        return bail("bind 0.0.0.0:" + std::to_string(port));
    return fd;
}

}  // namespace

pib::Result<std::unique_ptr<DhcpProxyServer>> DhcpProxyServer::create(EventLoop& loop,
                                                                      DhcpProxyConfig config,
                                                                      BootPolicy& policy,
                                                                      const pib::Logger& log) {
    if (config.mode == pib::netbootd::DhcpMode::full && config.leases == nullptr)
        return fail(Errc::invalid, "full DHCP mode needs a lease store");
    std::optional<dhcp::Ipv4> override_addr;
    if (!config.server_address.empty()) {
        in_addr a{};
        if (inet_pton(AF_INET, config.server_address.c_str(), &a) != 1)
            return fail(Errc::invalid, "not an IPv4 address: " + config.server_address);
        override_addr = to_ipv4(a);
    }
    std::unique_ptr<DhcpProxyServer> server(
        new DhcpProxyServer(loop, std::move(config), policy, log));
    DhcpProxyServer* self = server.get();
    self->server_override_ = override_addr;
    auto fd = open_socket(self->config_, self->config_.dhcp_port);
    if (!fd) return fd.error();
    self->dhcp_fd_ = *fd;
    if (auto st = loop.add_fd(self->dhcp_fd_,
                              [self] { self->on_readable(self->dhcp_fd_, dhcp::ProxyPort::dhcp); });
        !st)
        return st.error();
    if (self->config_.pxe_port != 0) {
        auto pfd = open_socket(self->config_, self->config_.pxe_port);
        if (!pfd) return pfd.error();
        self->pxe_fd_ = *pfd;
        if (auto st = loop.add_fd(
                self->pxe_fd_,
                [self] { self->on_readable(self->pxe_fd_, dhcp::ProxyPort::boot_server); });
            !st)
            return st.error();
    }
    log.event(Level::info, "dhcp", "listening")
        .kv("interface",
            self->config_.interface.empty() ? std::string("*") : self->config_.interface)
        .kv("dhcp_port", static_cast<unsigned>(self->config_.dhcp_port))
        .kv("pxe_port", static_cast<unsigned>(self->config_.pxe_port));
    return server;
}

DhcpProxyServer::DhcpProxyServer(EventLoop& loop, DhcpProxyConfig config, BootPolicy& policy,
                                 const pib::Logger& log)
    : loop_(loop), config_(std::move(config)), policy_(policy), log_(log) {}

DhcpProxyServer::~DhcpProxyServer() {
    for (int fd : {dhcp_fd_, pxe_fd_}) {
        if (fd < 0) continue;
        loop_.remove_fd(fd);
        close(fd);
    }
}

void DhcpProxyServer::on_readable(int fd, dhcp::ProxyPort port) {
    std::vector<std::uint8_t> buf(dhcp::kMaxPacketSize);
    // Bounded per turn so a flood cannot starve the loop's other sockets.
    for (int i = 0; i < 64; ++i) {
        sockaddr_in src{};
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))];
        msghdr msg{};
        msg.msg_name = &src;
        msg.msg_namelen = sizeof src;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd, &msg, 0);
        if (n < 0) return;  // EAGAIN, or a transient error: nothing more to read now
        Arrival from;
        from.source = to_ipv4(src.sin_addr);
        from.source_port = ntohs(src.sin_port);
        from.port = port;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                in_pktinfo info{};
                std::memcpy(&info, CMSG_DATA(c), sizeof info);
                from.ifindex = info.ipi_ifindex;
                from.local = to_ipv4(info.ipi_spec_dst);
                from.destination = to_ipv4(info.ipi_addr);
            }
        }
        ++metrics_.received;
        on_packet(fd, std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)), from);
    }
}

void DhcpProxyServer::drop(std::span<const std::uint8_t> bytes, const Arrival& from,
                           const std::string& why) {
    ++metrics_.dropped;
    // Clients of a DHCP server have no address yet: tell them apart by chaddr when the
    // datagram is long enough to carry one, else by source address.
    std::string client = dhcp::to_string(from.source);
    if (bytes.size() >= 28 + 6) client += "/" + pib::to_hex(bytes.subspan(28, 6));
    const auto now = loop_.now();
    auto [it, fresh] = drop_logged_.try_emplace(client, now);
    if (!fresh) {
        if (now - it->second < config_.drop_log_interval) return;
        it->second = now;
    }
    if (drop_logged_.size() > 4096) drop_logged_.clear();  // bounded under a spoofed flood
    log_.event(Level::warn, "dhcp", "packet_dropped").kv("client", client).kv("reason", why);
}

void DhcpProxyServer::on_packet(int fd, std::span<const std::uint8_t> bytes, const Arrival& from) {
    auto request = dhcp::decode(bytes);
    if (!request) return drop(bytes, from, request.error().message);
    if (request->op != dhcp::kBootRequest) {
        ++metrics_.ignored_other;  // another server's reply seen on the shared port
        return;
    }
    auto client = dhcp::classify(*request, config_.classify);
    if (!client) return drop(bytes, from, client.error().message);
    if (config_.mode == pib::netbootd::DhcpMode::full && from.port == dhcp::ProxyPort::dhcp)
        return on_full_packet(fd, bytes, *request, *client, from);
    if (client->kind == dhcp::ClientKind::not_pxe) {
        ++metrics_.ignored_not_pxe;
        return;
    }
    if (client->message_type != dhcp::MessageType::discover &&
        client->message_type != dhcp::MessageType::request) {
        ++metrics_.ignored_other;
        return;
    }
    // A REQUEST on port 67 is the client taking the DHCP server's offer: not ours.
    if (client->message_type == dhcp::MessageType::request && from.port == dhcp::ProxyPort::dhcp) {
        ++metrics_.ignored_other;
        return;
    }
    const std::string mac = dhcp::colon_hex(client->hwaddr);
    auto decision = policy_.decide(*client);
    if (!decision) {
        ++metrics_.no_decision;
        log_.event(Level::debug, "dhcp", "no_decision")
            .kv("mac", mac)
            .kv("kind", dhcp::kind_name(client->kind));
        return;
    }
    dhcp::ReplyContext ctx;
    ctx.port = from.port;
    ctx.server_id = server_override_.value_or(from.local);
    auto reply = dhcp::build_proxy_reply(*request, *client, *decision, ctx);
    if (!reply) {
        ++metrics_.no_decision;
        log_.event(Level::warn, "dhcp", "reply_refused")
            .kv("mac", mac)
            .kv("kind", dhcp::kind_name(client->kind))
            .kv("reason", reply.error().message);
        return;
    }
    const auto to = dhcp::reply_destination(*request, ctx, from.source, from.source_port);
    const auto wire = dhcp::encode(*reply);
    if (!send(fd, wire, to, from)) return;
    ++metrics_.replies;
    log_.event(Level::info, "dhcp", "proxy_reply")
        .kv("mac", mac)
        .kv("kind", dhcp::kind_name(client->kind))
        .kv("type", dhcp::message_type_name(client->message_type))
        .kv("port", static_cast<unsigned>(static_cast<std::uint16_t>(from.port)))
        .kv("file", decision->pi_menu ? std::string("(pi menu)") : decision->boot_file)
        .kv("to", dhcp::to_string(to.address) + ":" + std::to_string(to.port));
}

std::optional<dhcp::FullAnswer> DhcpProxyServer::answer_from_leases(const dhcp::ClientRequest& what,
                                                                    const dhcp::ClientInfo& client,
                                                                    LeaseAnswer& decided) {
    LeaseStore& leases = *config_.leases;
    const auto now = config_.wall_clock ? config_.wall_clock() : std::chrono::system_clock::now();
    const std::uint32_t address = from_wire(what.address);
    using K = dhcp::ClientRequestKind;
    dhcp::FullAnswer answer;
    switch (what.kind) {
        case K::discover:
            decided = leases.offer(client.hwaddr, address, now);
            answer.kind = dhcp::FullAnswer::Kind::offer;
            break;
        case K::select:
        case K::init_reboot:
        case K::renew:
        case K::rebind:
            decided = leases.request(client.hwaddr, what.kind, address, now);
            answer.kind = dhcp::FullAnswer::Kind::ack;
            break;
        case K::other_server:
            leases.forget_offer(client.hwaddr);
            ++metrics_.ignored_other;
            return std::nullopt;
        case K::decline:
            ++metrics_.declines;
            leases.decline(client.hwaddr, address, now);
            return std::nullopt;
        case K::release:
            ++metrics_.releases;
            leases.release(client.hwaddr, address, now);
            log_.event(Level::info, "dhcp", "lease_released")
                .kv("mac", dhcp::colon_hex(client.hwaddr))
                .kv("ip", dhcp::to_string(what.address));
            return std::nullopt;
        case K::inform:
            answer.kind = dhcp::FullAnswer::Kind::inform_ack;
            return answer;
    }
    switch (decided.verdict) {
        case LeaseAnswer::Verdict::ignore:
            ++metrics_.no_address;
            log_.event(Level::warn, "dhcp", "no_address")
                .kv("mac", dhcp::colon_hex(client.hwaddr))
                .kv("request", dhcp::request_kind_name(what.kind))
                .kv("reason", decided.reason);
            return std::nullopt;
        case LeaseAnswer::Verdict::refuse:
            answer.kind = dhcp::FullAnswer::Kind::nak;
            answer.message = decided.reason;
            break;
        case LeaseAnswer::Verdict::grant:
            answer.address = to_wire(decided.address);
            answer.lease_seconds = static_cast<std::uint32_t>(decided.lease_time.count());
            answer.hostname = decided.hostname;
            break;
    }
    return answer;
}

void DhcpProxyServer::on_full_packet(int fd, std::span<const std::uint8_t> bytes,
                                     const dhcp::DhcpPacket& req, const dhcp::ClientInfo& client,
                                     const Arrival& from) {
    const LeaseStore& leases = *config_.leases;
    const dhcp::Ipv4 server_id = server_override_.value_or(from.local);
    const std::string mac = dhcp::colon_hex(client.hwaddr);
    // Leases are keyed by chaddr (see dhcp_leases.hpp): without one there is no client to key.
    if (client.hwaddr.empty()) return drop(bytes, from, "hlen 0: no hardware address to lease to");
    // One subnet per server: a relay from elsewhere needs a server of its own.
    if (req.giaddr != dhcp::Ipv4{} && !leases.in_subnet(from_wire(req.giaddr))) {
        ++metrics_.ignored_other;
        log_.event(Level::debug, "dhcp", "relay_ignored")
            .kv("mac", mac)
            .kv("giaddr", dhcp::to_string(req.giaddr));
        return;
    }
    const bool broadcast = (from_wire(from.destination) | leases.options().netmask) == 0xffffffffu;
    auto what = dhcp::read_client_request(req, client.message_type, server_id, broadcast);
    if (!what) {
        if (what.error().code == Errc::unsupported) {
            ++metrics_.ignored_other;
            return;
        }
        return drop(bytes, from, what.error().message);
    }
    LeaseAnswer decided;
    auto maybe_answer = answer_from_leases(*what, client, decided);
    if (!maybe_answer) return;
    dhcp::FullAnswer& answer = *maybe_answer;
    const std::string ip = dhcp::to_string(what->address);
    // PXE clients get the policy's boot fields exactly as in proxy mode.
    std::optional<dhcp::BootDecision> boot;
    if (client.kind != dhcp::ClientKind::not_pxe && answer.kind != dhcp::FullAnswer::Kind::nak)
        boot = policy_.decide(client);
    auto reply = dhcp::build_full_reply(req, client, answer, config_.network, server_id,
                                        boot ? &*boot : nullptr);
    if (!reply && boot) {
        // The address still goes out: the client may boot from elsewhere, or not at all.
        ++metrics_.no_decision;
        log_.event(Level::warn, "dhcp", "reply_refused")
            .kv("mac", mac)
            .kv("kind", dhcp::kind_name(client.kind))
            .kv("reason", reply.error().message);
        boot.reset();
        reply = dhcp::build_full_reply(req, client, answer, config_.network, server_id, nullptr);
    }
    if (!reply) return drop(bytes, from, reply.error().message);
    const auto to = dhcp::full_reply_destination(req, *reply);
    if (!send(fd, dhcp::encode(*reply), to, from)) return;
    ++metrics_.replies;
    const char* event = "lease_ack";
    switch (answer.kind) {
        case dhcp::FullAnswer::Kind::offer:
            ++metrics_.offers;
            event = "lease_offer";
            break;
        case dhcp::FullAnswer::Kind::nak:
            ++metrics_.naks;
            event = "lease_nak";
            break;
        case dhcp::FullAnswer::Kind::inform_ack:
            ++metrics_.acks;
            event = "inform_ack";
            break;
        case dhcp::FullAnswer::Kind::ack:
            ++metrics_.acks;
            break;
    }
    auto line = log_.event(answer.kind == dhcp::FullAnswer::Kind::nak ? Level::warn : Level::info,
                           "dhcp", event);
    line.kv("mac", mac)
        .kv("request", dhcp::request_kind_name(what->kind))
        .kv("ip", answer.kind == dhcp::FullAnswer::Kind::nak ? ip : dhcp::to_string(reply->yiaddr))
        .kv("kind", dhcp::kind_name(client.kind));
    if (!decided.node.empty()) line.kv("node", decided.node);
    if (boot) line.kv("file", boot->pi_menu ? std::string("(pi menu)") : boot->boot_file);
    if (!decided.reason.empty()) line.kv("reason", decided.reason);
    line.kv("to", dhcp::to_string(to.address) + ":" + std::to_string(to.port));
}

bool DhcpProxyServer::send(int fd, std::span<const std::uint8_t> bytes, const dhcp::Destination& to,
                           const Arrival& from) {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(to.port);
    dst.sin_addr = to_in_addr(to.address);
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_name = &dst;
    msg.msg_namelen = sizeof dst;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    // Out of the interface the request came in on, from the address it reached
    // (255.255.255.255 has no route of its own to choose an interface by).
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))]{};
    if (from.ifindex != 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_ifindex = from.ifindex;
        info.ipi_spec_dst = to_in_addr(server_override_.value_or(from.local));
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    if (sendmsg(fd, &msg, 0) < 0) {
        ++metrics_.send_errors;
        log_.event(Level::warn, "dhcp", "send_failed")
            .kv("to", dhcp::to_string(to.address) + ":" + std::to_string(to.port))
            .kv("reason", std::strerror(errno));
        return false;
    }
    return true;
}

}  // namespace netbootd
