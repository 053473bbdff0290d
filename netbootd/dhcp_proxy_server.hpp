// The proxyDHCP server: listens on UDP 67 and 4011 beside the network's own
// DHCP server (which alone hands out addresses) and answers PXE clients with
// the boot half of an offer. Per packet: decode -> classify -> policy ->
// build_proxy_reply -> encode -> send (STYLE.md rule 6). The protocol work is
// pib_dhcp's; this file only owns sockets, logging and counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "common/log.hpp"
#include "common/result.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/proxy_reply.hpp"
#include "dhcp/pxe.hpp"
#include "netbootd/event_loop.hpp"

namespace netbootd {

/// Decides what a PXE client boots; nullopt means "stay silent for this one".
class BootPolicy {
public:
    virtual ~BootPolicy() = default;
    virtual std::optional<pib::dhcp::BootDecision> decide(const pib::dhcp::ClientInfo& client) = 0;
};

struct DhcpProxyConfig {
    /// Interface to serve (SO_BINDTODEVICE); empty serves every interface. Set it
    /// when a DHCP server on the same host also binds port 67.
    std::string interface;
    std::uint16_t dhcp_port = pib::dhcp::kServerPort;
    std::uint16_t pxe_port = pib::dhcp::kPxePort;  ///< 0: no boot-server discovery socket
    /// Option 54 / siaddr; empty means the receiving interface's address (IP_PKTINFO).
    std::string server_address;
    pib::dhcp::ClassifyOptions classify;
    /// At most one "dropped malformed packet" line per client per interval.
    std::chrono::seconds drop_log_interval{10};
};

/// Counters for /metrics; plain values read on the loop's thread.
struct DhcpProxyMetrics {
    std::uint64_t received = 0;         ///< datagrams read on either port
    std::uint64_t replies = 0;          ///< replies sent
    std::uint64_t ignored_not_pxe = 0;  ///< ordinary DHCP clients: not ours to answer
    std::uint64_t ignored_other = 0;    ///< PXE messages a proxy does not answer (RELEASE, replies, ...)
    std::uint64_t no_decision = 0;      ///< the policy declined, or its decision could not be expressed
    std::uint64_t dropped = 0;          ///< malformed packets
    std::uint64_t send_errors = 0;      ///< sendmsg failures
};

class DhcpProxyServer {
public:
    /// Binds the sockets and registers them on `loop`. `policy` and `log` must outlive the server.
    static pib::Result<std::unique_ptr<DhcpProxyServer>> create(EventLoop& loop, DhcpProxyConfig config,
                                                                BootPolicy& policy, const pib::Logger& log);
    ~DhcpProxyServer();
    DhcpProxyServer(const DhcpProxyServer&) = delete;
    DhcpProxyServer& operator=(const DhcpProxyServer&) = delete;

    const DhcpProxyMetrics& metrics() const { return metrics_; }

    /// Where one datagram came from and arrived (from recvmsg + IP_PKTINFO).
    struct Arrival {
        pib::dhcp::Ipv4 source{};
        std::uint16_t source_port = 0;
        pib::dhcp::Ipv4 local{};  ///< the address a reply should come from
        int ifindex = 0;
        pib::dhcp::ProxyPort port = pib::dhcp::ProxyPort::dhcp;
    };

private:
    DhcpProxyServer(EventLoop& loop, DhcpProxyConfig config, BootPolicy& policy, const pib::Logger& log);

    void on_readable(int fd, pib::dhcp::ProxyPort port);
    void on_packet(int fd, std::span<const std::uint8_t> bytes, const Arrival& from);
    void drop(std::span<const std::uint8_t> bytes, const Arrival& from, const std::string& why);
    bool send(int fd, std::span<const std::uint8_t> bytes, const pib::dhcp::Destination& to, const Arrival& from);

    EventLoop& loop_;
    DhcpProxyConfig config_;
    BootPolicy& policy_;
    const pib::Logger& log_;
    int dhcp_fd_ = -1;
    int pxe_fd_ = -1;
    std::optional<pib::dhcp::Ipv4> server_override_;
    DhcpProxyMetrics metrics_;
    std::unordered_map<std::string, EventLoop::TimePoint> drop_logged_;
};

}  // namespace netbootd
