// The TFTP server: a listening UDP socket for requests and one connected ephemeral
// socket per transfer (as tftp-hpa and dnsmasq do, so the kernel checks the client's
// TID), each driving a pure tftp::Transfer with the event loop's timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/event_loop.hpp"
#include "netbootd/file_resolver.hpp"
#include "netbootd/metrics.hpp"
#include "tftp/transfer.hpp"

namespace netbootd {

/// Listening address and per-transfer bounds.
struct TftpServerConfig {
    std::string address = "0.0.0.0";
    std::uint16_t port = 69;  ///< 0 picks a free port (tests); see TftpServer::port()
    /// Link MTU; blksize is clamped to tftp::blksize_for_mtu(mtu) and limits.max_blksize.
    unsigned mtu = 1500;
    pib::tftp::Limits limits;
    /// At most one "dropped malformed packet" line per client address per interval.
    std::chrono::seconds drop_log_interval{10};
};

/// Counters for /metrics; plain values read on the loop's thread.
struct TftpMetrics {
    std::uint64_t requests = 0;       ///< RRQs and WRQs received
    std::uint64_t completed = 0;      ///< transfers acknowledged to the end
    std::uint64_t bytes_sent = 0;     ///< DATA payload bytes, retransmissions included
    std::uint64_t in_flight = 0;      ///< transfers currently running
    std::uint64_t errors = 0;         ///< requests refused or transfers that failed/timed out
    std::uint64_t dropped = 0;        ///< malformed or unexpected packets dropped
    /// Seconds from RRQ to the last ACK of transfers that completed.
    Histogram durations = Histogram::transfer_seconds();
};

class TftpServer {
public:
    /// Binds the listening socket and registers it on `loop`. `resolver` and `log`
    /// must outlive the server.
    static pib::Result<std::unique_ptr<TftpServer>> create(EventLoop& loop, TftpServerConfig config,
                                                           TftpFileResolver& resolver,
                                                           const pib::Logger& log);
    ~TftpServer();
    TftpServer(const TftpServer&) = delete;
    TftpServer& operator=(const TftpServer&) = delete;

    /// The bound port (the real one when config.port was 0).
    std::uint16_t port() const { return port_; }
    const TftpMetrics& metrics() const { return metrics_; }

private:
    struct Session;
    TftpServer(EventLoop& loop, TftpServerConfig config, TftpFileResolver& resolver,
               const pib::Logger& log, int fd, std::uint16_t port);

    void on_listen_readable();
    void on_request(std::span<const std::uint8_t> bytes, const ClientAddress& client);
    void on_session_readable(int fd);
    void apply(Session& s);
    void end_session(int fd);
    void refuse(const ClientAddress& client, pib::tftp::ErrorCode code, const std::string& message);
    int open_ephemeral(const ClientAddress& client);
    void drop(const ClientAddress& client, const std::string& why);

    EventLoop& loop_;
    TftpServerConfig config_;
    TftpFileResolver& resolver_;
    const pib::Logger& log_;
    int fd_;
    std::uint16_t port_;
    TftpMetrics metrics_;
    pib::tftp::Actions actions_;  // reused by every transfer (see tftp::Actions)
    std::unordered_map<int, std::unique_ptr<Session>> sessions_;
    std::unordered_map<std::uint32_t, EventLoop::TimePoint> drop_logged_;
    std::unordered_map<std::uint32_t, EventLoop::TimePoint> refusal_logged_;
};

}  // namespace netbootd
