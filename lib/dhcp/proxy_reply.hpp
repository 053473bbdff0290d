// Builds proxyDHCP answers: the boot half of an offer, sent beside the
// network's own DHCP server, which alone hands out addresses (PXE 2.1 spec,
// "proxyDHCP"). Which file a node boots is policy and comes in as a
// BootDecision; this layer only knows how each kind of firmware wants to be
// told. Pure: no sockets, no clocks.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/pxe.hpp"

namespace pib::dhcp {

/// Where a request arrived: the DHCP port or PXE boot-server discovery.
enum class ProxyPort : std::uint16_t { dhcp = kServerPort, boot_server = kPxePort };

/// The policy's answer for one client ("what does it boot, from where").
struct BootDecision {
    /// TFTP server put in siaddr for PXE, UEFI and iPXE clients; all zero
    /// means the proxy itself (ReplyContext::server_id).
    Ipv4 next_server{};
    /// TFTP path for PXE/UEFI firmware, http(s) URL for iPXE and UEFI HTTP
    /// boot. Up to 127 bytes go in `file`, up to 255 in option 67.
    std::string boot_file;
    /// Answer with the Raspberry Pi boot menu (dnsmasq's
    /// `pxe-service=0,"Raspberry Pi Boot"`); the Pi then fetches
    /// `<serial>/start4.elf` by TFTP from the server in option 54.
    bool pi_menu = false;
    /// The menu text the bootloader matches (its PXE_OPTION43 setting).
    std::string pi_menu_text = "Raspberry Pi Boot";
};

/// Facts of the receiving socket, supplied by the server.
struct ReplyContext {
    Ipv4 server_id{};                  ///< this proxy's address on that interface (option 54)
    ProxyPort port = ProxyPort::dhcp;  ///< the port the request came in on
};

/// Builds the reply to `request` (classified as `client`): a DHCPOFFER to a
/// DISCOVER on port 67, a DHCPACK to a REQUEST or INFORM on port 4011.
/// yiaddr is always 0.0.0.0: a proxy never hands out an address.
/// unsupported: a message or client this proxy does not answer (the server
/// drops it); invalid: the decision cannot be expressed (no boot file, a
/// name too long, a Pi without its menu, a Pi TFTP server other than us).
Result<DhcpPacket> build_proxy_reply(const DhcpPacket& request, const ClientInfo& client,
                                     const BootDecision& decision, const ReplyContext& ctx);

/// The header every server reply starts from (RFC 2131 §4.3.1 table 3):
/// op BOOTREPLY; htype, hlen, xid, flags, giaddr and chaddr from the
/// request; everything else zero.
DhcpPacket reply_base(const DhcpPacket& request);

/// Adds the boot half of a reply to `r`, whose header, option 53 and option
/// 54 are already set: option 60, 97 echoed, the Pi menu or option 43, siaddr
/// and the boot file, as `client`'s firmware wants them. build_proxy_reply
/// and the full server's replies share it. Errors as build_proxy_reply's.
Status add_boot_fields(DhcpPacket& r, const DhcpPacket& request, const ClientInfo& client,
                       const BootDecision& decision, const ReplyContext& ctx);

/// Where to send a reply (RFC 2131 §4.1; PXE 2.1 boot server discovery).
struct Destination {
    Ipv4 address{};
    std::uint16_t port = kClientPort;
    bool broadcast = false;  ///< needs SO_BROADCAST; address is 255.255.255.255
    bool operator==(const Destination&) const = default;
};

/// The destination of the reply to `request`, which came from
/// `source`:`source_port` to `ctx.port`.
Destination reply_destination(const DhcpPacket& request, const ReplyContext& ctx,
                              const Ipv4& source, std::uint16_t source_port);

}  // namespace pib::dhcp
