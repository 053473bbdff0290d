// The DHCP server on UDP 67 and 4011. In proxy mode it runs beside the
// network's own DHCP server (which alone hands out addresses) and answers PXE
// clients with the boot half of an offer: decode -> classify -> policy ->
// build_proxy_reply -> encode -> send (STYLE.md rule 6). In full mode it is
// the network's DHCP server: every client on port 67 gets an address from the
// LeaseStore (build_full_reply), PXE clients the boot fields as well, and 4011
// is answered as in proxy mode. The protocol work is pib_dhcp's and the
// lease decisions dhcp_leases'; this file only owns sockets, logging and counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "common/log.hpp"
#include "common/result.hpp"
#include "dhcp/full_reply.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/proxy_reply.hpp"
#include "dhcp/pxe.hpp"
#include "netbootd/config.hpp"
#include "netbootd/dhcp_leases.hpp"
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

    /// proxy: answer PXE clients only, never with an address. full: answer
    /// every client on port 67 from `leases` (PXE clients get the boot fields too).
    pib::netbootd::DhcpMode mode = pib::netbootd::DhcpMode::proxy;
    /// Full mode: where addresses come from; must outlive the server.
    LeaseStore* leases = nullptr;
    /// Full mode: options 1, 3 and 6 (network_config() builds them from the pool).
    pib::dhcp::NetworkConfig network;
    /// Full mode: wall-clock time for lease expiry (tests inject one); empty: system_clock::now.
    std::function<std::chrono::system_clock::time_point()> wall_clock;
};

/// Counters for /metrics; plain values read on the loop's thread.
struct DhcpProxyMetrics {
    std::uint64_t received = 0;         ///< datagrams read on either port
    std::uint64_t replies = 0;          ///< replies sent
    std::uint64_t ignored_not_pxe = 0;  ///< ordinary DHCP clients: not ours to answer
    /// PXE messages a proxy does not answer (RELEASE, replies, ...); in full
    /// mode, messages no server acts on and relays from other subnets.
    std::uint64_t ignored_other = 0;
    std::uint64_t no_decision = 0;  ///< the policy declined, or its decision could not be expressed
    std::uint64_t dropped = 0;      ///< malformed packets
    std::uint64_t send_errors = 0;  ///< sendmsg failures
    // Full mode:
    std::uint64_t offers = 0;  ///< DHCPOFFERs sent
    std::uint64_t acks = 0;    ///< DHCPACKs sent (REQUEST and INFORM)
    std::uint64_t naks = 0;    ///< DHCPNAKs sent
    /// DISCOVERs or REQUESTs left unanswered (pool full, lease file unwritable).
    std::uint64_t no_address = 0;
    std::uint64_t releases = 0;  ///< DHCPRELEASEs received
    std::uint64_t declines = 0;  ///< DHCPDECLINEs received
};

class DhcpProxyServer {
  public:
    /// Binds the sockets and registers them on `loop`. `policy` and `log` must outlive the server.
    /// invalid: full mode without `config.leases`.
    static pib::Result<std::unique_ptr<DhcpProxyServer>> create(EventLoop& loop,
                                                                DhcpProxyConfig config,
                                                                BootPolicy& policy,
                                                                const pib::Logger& log);
    ~DhcpProxyServer();
    DhcpProxyServer(const DhcpProxyServer&) = delete;
    DhcpProxyServer& operator=(const DhcpProxyServer&) = delete;

    const DhcpProxyMetrics& metrics() const { return metrics_; }

    /// Where one datagram came from and arrived (from recvmsg + IP_PKTINFO).
    struct Arrival {
        pib::dhcp::Ipv4 source{};
        std::uint16_t source_port = 0;
        pib::dhcp::Ipv4 local{};  ///< the address a reply should come from
        pib::dhcp::Ipv4
            destination{};  ///< the datagram's destination (255.255.255.255 for a broadcast)
        int ifindex = 0;
        pib::dhcp::ProxyPort port = pib::dhcp::ProxyPort::dhcp;
    };

  private:
    DhcpProxyServer(EventLoop& loop, DhcpProxyConfig config, BootPolicy& policy,
                    const pib::Logger& log);

    void on_readable(int fd, pib::dhcp::ProxyPort port);
    void on_packet(int fd, std::span<const std::uint8_t> bytes, const Arrival& from);
    void on_full_packet(int fd, std::span<const std::uint8_t> bytes,
                        const pib::dhcp::DhcpPacket& request, const pib::dhcp::ClientInfo& client,
                        const Arrival& from);
    /// Full mode: asks the lease store about `what`; the reply to build, or nullopt to stay silent.
    std::optional<pib::dhcp::FullAnswer> answer_from_leases(const pib::dhcp::ClientRequest& what,
                                                            const pib::dhcp::ClientInfo& client,
                                                            LeaseAnswer& decided);
    void drop(std::span<const std::uint8_t> bytes, const Arrival& from, const std::string& why);
    bool send(int fd, std::span<const std::uint8_t> bytes, const pib::dhcp::Destination& to,
              const Arrival& from);

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
