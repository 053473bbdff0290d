#include "netbootd/tftp_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "tftp/packet.hpp"
#include "tftp/path.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;
namespace tftp = pib::tftp;

struct TftpServer::Session {
    int fd = -1;
    ClientAddress client;
    std::string file;
    tftp::Transfer transfer;
    EventLoop::TimerId timer = 0;
    std::string node;
    std::string release;
};

namespace {

pib::Result<sockaddr_in> parse_address(const std::string& address, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
        return fail(Errc::invalid, "not an IPv4 address: " + address);
    return sa;
}

}  // namespace

pib::Result<std::unique_ptr<TftpServer>> TftpServer::create(EventLoop& loop, TftpServerConfig config,
                                                            TftpFileResolver& resolver,
                                                            const pib::Logger& log) {
    auto sa = parse_address(config.address, config.port);
    if (!sa) return sa.error();
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Errc::io, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // A boot storm sends hundreds of RRQs at once; keep them queued, not dropped.
    int rcvbuf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&*sa), sizeof *sa) != 0) {
        int e = errno;
        close(fd);
        return fail(Errc::io, "bind " + config.address + ":" + std::to_string(config.port) + ": " +
                                  std::strerror(e));
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
    config.limits.max_blksize = std::min(config.limits.max_blksize, tftp::blksize_for_mtu(config.mtu));
    std::unique_ptr<TftpServer> server(
        new TftpServer(loop, std::move(config), resolver, log, fd, ntohs(bound.sin_port)));
    TftpServer* self = server.get();
    if (auto st = loop.add_fd(fd, [self] { self->on_listen_readable(); }); !st) return st.error();
    log.event(Level::info, "tftp", "listening")
        .kv("address", self->config_.address)
        .kv("port", static_cast<unsigned>(self->port_))
        .kv("max_blksize", static_cast<unsigned>(self->config_.limits.max_blksize));
    return server;
}

TftpServer::TftpServer(EventLoop& loop, TftpServerConfig config, TftpFileResolver& resolver,
                       const pib::Logger& log, int fd, std::uint16_t port)
    : loop_(loop), config_(std::move(config)), resolver_(resolver), log_(log), fd_(fd), port_(port) {}

TftpServer::~TftpServer() {
    for (auto& [fd, s] : sessions_) {
        loop_.cancel_timer(s->timer);
        loop_.remove_fd(fd);
        close(fd);
    }
    loop_.remove_fd(fd_);
    close(fd_);
}

void TftpServer::on_listen_readable() {
    std::uint8_t buf[tftp::kMaxRequestSize + 1];
    // Bounded per turn so a flood on port 69 cannot starve running transfers.
    for (int i = 0; i < 64; ++i) {
        ClientAddress client;
        socklen_t len = sizeof client.addr;
        ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&client.addr), &len);
        if (n < 0) return;  // EAGAIN, or a transient error: nothing more to read now
        on_request(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)), client);
    }
}

void TftpServer::drop(const ClientAddress& client, const std::string& why) {
    ++metrics_.dropped;
    const auto now = loop_.now();
    auto [it, fresh] = drop_logged_.try_emplace(client.addr.sin_addr.s_addr, now);
    if (!fresh) {
        if (now - it->second < config_.drop_log_interval) return;
        it->second = now;
    }
    if (drop_logged_.size() > 4096) drop_logged_.clear();  // bounded under a spoofed flood
    log_.event(Level::warn, "tftp", "packet_dropped").kv("client", client.text()).kv("reason", why);
}

void TftpServer::on_request(std::span<const std::uint8_t> bytes, const ClientAddress& client) {
    // classify -> validate -> resolve -> start -> send (STYLE.md rule 6)
    auto packet = tftp::decode(bytes);
    if (!packet) return drop(client, packet.error().message);
    if (std::holds_alternative<tftp::WriteRequest>(*packet)) {
        ++metrics_.requests;
        return refuse(client, tftp::ErrorCode::access_violation, "read-only server");
    }
    auto* rrq = std::get_if<tftp::ReadRequest>(&*packet);
    if (!rrq) return drop(client, "unexpected " + tftp::describe(*packet) + " on the request port");
    ++metrics_.requests;
    auto clean = tftp::normalize_path(rrq->filename);
    if (!clean) return refuse(client, tftp::error_code_for(clean.error().code), "access violation");
    auto file = resolver_.open(*clean, client);
    if (!file) {
        // Unknown clients retry: one line per client per interval, not per request.
        auto& last = refusal_logged_[client.addr.sin_addr.s_addr];
        if (last == EventLoop::TimePoint{} || loop_.now() - last >= config_.drop_log_interval) {
            last = loop_.now();
            if (refusal_logged_.size() > 4096) refusal_logged_.clear();
            log_.event(Level::info, "tftp", "request_refused")
                .kv("client", client.text())
                .kv("file", tftp::sanitize(*clean))
                .kv("reason", file.error().message);
        }
        return refuse(client, tftp::error_code_for(file.error().code),
                      file.error().code == Errc::not_found ? "file not found" : "access violation");
    }
    int fd = open_ephemeral(client);
    if (fd < 0) return;
    std::string node = file->node, release = file->release;
    auto transfer = tftp::Transfer::start(*rrq, std::move(*file), config_.limits, loop_.now(), actions_);
    auto session = std::make_unique<Session>(
        Session{fd, client, *clean, std::move(transfer), 0, std::move(node), std::move(release)});
    Session& s = *session;
    sessions_.emplace(fd, std::move(session));
    ++metrics_.in_flight;
    if (auto st = loop_.add_fd(fd, [this, fd] { on_session_readable(fd); }); !st) {
        log_.event(Level::error, "tftp", "register_failed").kv("reason", st.error().message);
    }
    log_.event(Level::debug, "tftp", "transfer_start").kv("client", client.text()).kv("file", tftp::sanitize(s.file));
    // Some Raspberry Pi bootloader versions cannot follow block numbers past 65535
    // (issue 3): served anyway, but worth a line when a Pi stalls at that offset.
    if (!actions_.finished && tftp::needs_rollover(s.transfer.file_size(), s.transfer.negotiated().blksize))
        log_.event(Level::warn, "tftp", "block_rollover")
            .kv("client", client.text())
            .kv("file", tftp::sanitize(s.file))
            .kv("blksize", static_cast<unsigned>(s.transfer.negotiated().blksize));
    apply(s);
}

int TftpServer::open_ephemeral(const ClientAddress& client) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        log_.event(Level::error, "tftp", "socket_failed").kv("reason", std::strerror(errno));
        return -1;
    }
    auto local = parse_address(config_.address, 0);
    int sndbuf = 1 << 20;  // one window of the largest blocks
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&*local), sizeof *local) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&client.addr), sizeof client.addr) != 0) {
        log_.event(Level::error, "tftp", "socket_failed").kv("client", client.text()).kv("reason", std::strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void TftpServer::refuse(const ClientAddress& client, tftp::ErrorCode code, const std::string& message) {
    ++metrics_.errors;
    // Sent from a fresh TID like any reply, as tftp-hpa does; clients expect that.
    int fd = open_ephemeral(client);
    if (fd < 0) return;
    auto bytes = tftp::encode(tftp::ErrorPacket{code, message});
    [[maybe_unused]] auto r = send(fd, bytes.data(), bytes.size(), 0);
    close(fd);
}

void TftpServer::on_session_readable(int fd) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    Session& s = *it->second;
    std::uint8_t buf[tftp::kMaxPacketSize];
    for (int i = 0; i < 64; ++i) {
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) return;  // EAGAIN; ECONNREFUSED (client gone) is left to the timer
        auto packet = tftp::decode(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
        if (!packet) {
            drop(s.client, packet.error().message);
            continue;
        }
        s.transfer.step(*packet, loop_.now(), actions_);
        apply(s);
        if (sessions_.find(fd) == sessions_.end()) return;  // finished
    }
}

void TftpServer::apply(Session& s) {
    const std::size_t n = actions_.datagram_count();
    if (n > 0) {
        // One sendmmsg per window (RFC 7440) instead of n send() calls.
        std::vector<iovec> iov(n);
        std::vector<mmsghdr> msgs(n);
        for (std::size_t i = 0; i < n; ++i) {
            auto d = actions_.datagram(i);
            iov[i] = iovec{const_cast<std::uint8_t*>(d.data()), d.size()};
            msgs[i] = mmsghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            if (d.size() > 4 && d[1] == static_cast<std::uint8_t>(tftp::Opcode::data))
                metrics_.bytes_sent += d.size() - 4;
        }
        // A short or failed send is a lost datagram: the transfer's timer retransmits.
        [[maybe_unused]] int sent = sendmmsg(s.fd, msgs.data(), static_cast<unsigned>(n), 0);
    }
    if (actions_.finished) {
        const tftp::Finished& f = *actions_.finished;
        if (f.outcome == tftp::Outcome::completed) {
            ++metrics_.completed;
            metrics_.durations.observe(std::chrono::duration<double>(f.duration).count());
        } else if (f.outcome != tftp::Outcome::client_aborted) ++metrics_.errors;
        auto ev = log_.event(Level::info, "tftp", "transfer_done");
        ev.kv("client", s.client.text());
        if (!s.node.empty()) ev.kv("node", s.node);
        if (!s.release.empty()) ev.kv("release", s.release);
        ev.kv("file", tftp::sanitize(s.file))
            .kv("bytes", f.bytes_acked)
            .kv("ms", static_cast<std::int64_t>(f.duration.count()))
            .kv("retransmits", f.retransmits)
            .kv("result", tftp::outcome_name(f.outcome));
        return end_session(s.fd);
    }
    if (actions_.timer) {
        loop_.cancel_timer(s.timer);
        const int fd = s.fd;
        s.timer = loop_.add_timer(*actions_.timer, [this, fd] {
            auto it = sessions_.find(fd);
            if (it == sessions_.end()) return;
            it->second->timer = 0;
            it->second->transfer.step(tftp::TimerFired{}, loop_.now(), actions_);
            apply(*it->second);
        });
    }
}

void TftpServer::end_session(int fd) {
    auto it = sessions_.find(fd);
    if (it == sessions_.end()) return;
    loop_.cancel_timer(it->second->timer);
    loop_.remove_fd(fd);
    close(fd);
    sessions_.erase(it);
    --metrics_.in_flight;
}

}  // namespace netbootd
