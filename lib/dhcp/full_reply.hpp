// The address-giving half of a DHCP server (RFC 2131 §4.3): what a client
// message asks for, and the reply once the lease store has decided. PXE
// clients also get the boot fields build_proxy_reply would give them, so one
// server answers both. Which address a client gets is the lease store's
// business (netbootd/dhcp_leases); this layer only speaks the protocol.
// Pure: no sockets, no clocks, no files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/proxy_reply.hpp"
#include "dhcp/pxe.hpp"

namespace pib::dhcp {

/// Option codes a full server sends or reads besides those of options.hpp (RFC 2132).
namespace code {
inline constexpr std::uint8_t subnet_mask = 1;         ///< §3.3
inline constexpr std::uint8_t router = 3;              ///< §3.5
inline constexpr std::uint8_t dns_server = 6;          ///< §3.8
inline constexpr std::uint8_t host_name = 12;          ///< §3.14
inline constexpr std::uint8_t requested_address = 50;  ///< §9.1
inline constexpr std::uint8_t lease_time = 51;         ///< §9.2
inline constexpr std::uint8_t message = 56;            ///< §9.9
inline constexpr std::uint8_t renewal_time = 58;       ///< §9.11, T1
inline constexpr std::uint8_t rebinding_time = 59;     ///< §9.12, T2
}  // namespace code

/// What a client message asks of an address-giving server (RFC 2131 §4.3).
enum class ClientRequestKind : std::uint8_t {
    discover,      ///< DHCPDISCOVER; `address` is its option 50 hint, 0.0.0.0 when absent
    select,        ///< REQUEST in SELECTING: takes our offer of `address` (option 54 is ours)
    other_server,  ///< REQUEST in SELECTING that took another server's offer: ours is free again
    init_reboot,   ///< REQUEST with option 50, no 54, ciaddr 0: checks `address` after a reboot
    renew,         ///< REQUEST with ciaddr, unicast to us (RENEWING)
    rebind,        ///< REQUEST with ciaddr, broadcast (REBINDING)
    decline,       ///< DHCPDECLINE: `address` (option 50) is in use by another host
    release,       ///< DHCPRELEASE of `address` (ciaddr)
    inform,        ///< DHCPINFORM: configuration only, for `address` (ciaddr)
};

/// "discover", "select", ... for logs.
const char* request_kind_name(ClientRequestKind k);

/// A client message as the lease store sees it.
struct ClientRequest {
    ClientRequestKind kind = ClientRequestKind::discover;
    Ipv4 address{};
    bool operator==(const ClientRequest&) const = default;
};

/// Reads `request` (of message type `type`, classified already) for a server
/// whose option 54 is `server_id`; `broadcast` says whether it arrived as a
/// broadcast (tells RENEWING from REBINDING). unsupported: a message a server
/// does not act on (OFFER, ACK, NAK, unknown types; DECLINE or RELEASE naming
/// another server); corrupted: a REQUEST or DECLINE missing what RFC 2131
/// §4.3.2/§4.3.3 require (option 50, ciaddr).
Result<ClientRequest> read_client_request(const DhcpPacket& request, MessageType type,
                                          const Ipv4& server_id, bool broadcast);

/// Host configuration handed out with every address (RFC 2132 §3).
struct NetworkConfig {
    Ipv4 netmask{};             ///< option 1
    std::vector<Ipv4> routers;  ///< option 3; empty: not sent
    std::vector<Ipv4> dns;      ///< option 6; empty: not sent
    bool operator==(const NetworkConfig&) const = default;
};

/// The lease store's answer to one client message.
struct FullAnswer {
    enum class Kind : std::uint8_t {
        offer,       ///< DHCPOFFER of `address` for `lease_seconds`
        ack,         ///< DHCPACK of `address` for `lease_seconds`
        nak,         ///< DHCPNAK; `message` goes in option 56
        inform_ack,  ///< DHCPACK to an INFORM: configuration, no yiaddr, no lease time
    };
    Kind kind = Kind::offer;
    Ipv4 address{};
    std::uint32_t lease_seconds = 0;
    std::string hostname;  ///< option 12 when the address is reserved for a named node
    std::string message;
};

/// Builds the reply to `request` (classified as `client`) from `answer`:
/// header per RFC 2131 §4.3.1 table 3, options 53, 54, 51/58/59 (T1 = 1/2,
/// T2 = 7/8 of the lease, §4.4.5), 1, 3, 6 and 12, ordered as the client's
/// option 55 lists them, and cut to fit its option 57. With `boot` (PXE
/// clients) it adds what build_proxy_reply would (add_boot_fields); an
/// error then is add_boot_fields' (the caller may answer without `boot`).
Result<DhcpPacket> build_full_reply(const DhcpPacket& request, const ClientInfo& client,
                                    const FullAnswer& answer, const NetworkConfig& net,
                                    const Ipv4& server_id, const BootDecision* boot = nullptr);

/// Where a full server sends `reply` to `request` (RFC 2131 §4.1): a relay's
/// server port; a NAK broadcast; ciaddr when the client has one; otherwise a
/// broadcast, since unicasting to yiaddr would need an ARP entry we do not
/// inject (netbootd runs without CAP_NET_ADMIN once the ports are bound).
Destination full_reply_destination(const DhcpPacket& request, const DhcpPacket& reply);

}  // namespace pib::dhcp
