// The DHCP client of pib-init as a pure state machine (STYLE.md rule 4): it
// builds DISCOVER and REQUEST with lib/dhcp's codec, picks an OFFER, takes the
// ACK, and retransmits with exponential back-off (RFC 2131 §4.1: 4 s doubling;
// we start at 1 s because a netboot client is waiting, capped). No sockets and
// no clocks: the caller feeds packets and timeouts, with the time in ms.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"

namespace pib::client {

using Mac = std::array<std::uint8_t, 6>;

/// What the ACK gave us.
struct Lease {
    dhcp::Ipv4 address{};
    dhcp::Ipv4 netmask{};             ///< option 1; 255.255.255.0 when absent
    dhcp::Ipv4 router{};              ///< option 3 (first); all zero when absent
    dhcp::Ipv4 server_id{};           ///< option 54
    std::uint32_t lease_seconds = 0;  ///< option 51; 0 when absent
    std::string hostname;             ///< option 12
    bool operator==(const Lease&) const = default;
};

/// "address=10.0.0.5 netmask=255.255.255.0 router=10.0.0.1 server=10.0.0.1 lease=3600"
std::string describe(const Lease& l);

/// Retransmission timing: first wait, doubling, up to `cap_ms`.
struct Backoff {
    std::int64_t first_ms = 1000;
    std::int64_t cap_ms = 16000;
    /// Transmissions of one REQUEST before starting again with DISCOVER.
    int request_tries = 4;
    /// Transmissions in total before giving up; 0 = never give up (the init).
    int max_sends = 0;
};

/// The client's four messages (RFC 2131 §3.1) as a state machine.
class DhcpClientMachine {
  public:
    enum class State { init, selecting, requesting, bound, failed };

    /// What the caller does next: send `send` (if not empty) as a broadcast to
    /// port 67, then wait for a packet until `deadline_ms`.
    struct Action {
        std::vector<std::uint8_t> send;
        std::int64_t deadline_ms = 0;
        /// A line for the console when something happened worth telling.
        std::string note;
    };

    DhcpClientMachine(const Mac& mac, std::uint32_t xid, Backoff backoff = {});

    /// Sends the first DISCOVER.
    Action start(std::int64_t now_ms);
    /// A UDP payload arrived on port 68. Replies for other clients, with the
    /// wrong xid, without yiaddr (proxyDHCP, RFC 4578 / PXE 2.1: netbootd's
    /// proxy replies carry yiaddr 0) or from another server are ignored:
    /// the returned action then sends nothing and keeps the deadline.
    Action on_packet(std::span<const std::uint8_t> udp_payload, std::int64_t now_ms);
    /// The deadline passed: retransmit (or give up after max_sends).
    Action on_timeout(std::int64_t now_ms);

    State state() const { return state_; }
    /// Valid once state() == bound.
    const Lease& lease() const { return lease_; }
    /// Transmissions so far.
    int sends() const { return sends_; }

  private:
    Action send_discover(std::int64_t now_ms);
    Action send_request(std::int64_t now_ms);
    std::int64_t next_wait();
    dhcp::DhcpPacket base(dhcp::MessageType t) const;

    Mac mac_;
    std::uint32_t xid_;
    Backoff backoff_;
    State state_ = State::init;
    std::int64_t start_ms_ = 0;
    std::int64_t deadline_ms_ = 0;
    std::int64_t wait_ms_ = 0;
    int sends_ = 0;
    int request_sends_ = 0;
    dhcp::DhcpPacket offer_;
    Lease lease_;
};

/// Reads the lease out of an ACK (or an OFFER, for the same fields).
Lease lease_from(const dhcp::DhcpPacket& reply);

/// Where DHCP payloads go and come from: a packet socket in pib-init, a
/// scripted server in the tests. Times are milliseconds on one clock.
class DhcpTransport {
  public:
    virtual ~DhcpTransport() = default;
    /// Broadcasts one DHCP payload from port 68 to port 67.
    virtual Status send(std::span<const std::uint8_t> payload) = 0;
    /// The next UDP payload for port 68, or nullopt when `deadline_ms` passes first.
    virtual Result<std::optional<std::vector<std::uint8_t>>> receive(std::int64_t deadline_ms) = 0;
    virtual std::int64_t now_ms() = 0;
};

/// Runs `machine` over `transport` until bound (the lease) or failed
/// (Errc::not_found); `say` gets each console line.
Result<Lease> run_dhcp(DhcpTransport& transport, DhcpClientMachine& machine,
                       const std::function<void(const std::string&)>& say);

}  // namespace pib::client
