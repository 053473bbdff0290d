#include "dhcp/proxy_reply.hpp"

#include "dhcp/options.hpp"

namespace pib::dhcp {
namespace {

constexpr Ipv4 kZero{};

// 43 for the Pi, byte for byte what dnsmasq 2.90 sends for
// `pxe-service=0,"Raspberry Pi Boot"` (rfc2131.c, pxe_opts(); captured here,
// tests/dhcp/data/pi4_offer_dnsmasq.hex):
//   06 01 03              discovery control 3: no broadcast, no multicast discovery
//   0a 04 00 'P' 'X' 'E'  menu prompt, timeout 0
//   09 len 00 00 n text   boot menu: one item of server type 0
//   ff
// The bootloader accepts the offer only when the menu text matches its
// PXE_OPTION43 setting (raspberrypi/documentation bootmodes/net.md).
Result<std::vector<std::uint8_t>> pi_menu_option(const std::string& text) {
    // 15 bytes of framing around the text must fit one 255-byte option 43.
    if (text.empty() || text.size() > 240) {
        return fail(Errc::invalid,
                    "dhcp: Pi menu text must be 1..240 bytes, got " + std::to_string(text.size()));
    }
    Options sub;
    sub.set(pxe_sub::discovery_control, std::vector<std::uint8_t>{3});
    sub.set(pxe_sub::menu_prompt, std::vector<std::uint8_t>{0, 'P', 'X', 'E'});
    std::vector<std::uint8_t> menu{0, 0, static_cast<std::uint8_t>(text.size())};
    menu.insert(menu.end(), text.begin(), text.end());
    sub.set(pxe_sub::boot_menu, std::move(menu));
    return encode_suboptions(sub);
}

// The proxy's header: reply_base plus ciaddr on 4011 and the broadcast bit.
DhcpPacket reply_header(const DhcpPacket& req, ProxyPort port) {
    DhcpPacket r = reply_base(req);
    if (port == ProxyPort::boot_server) r.ciaddr = req.ciaddr;
    // A client at the DISCOVER stage has no address to unicast to, and a
    // proxy offer carries no yiaddr either: dnsmasq sets the broadcast bit
    // whenever ciaddr is 0 (rfc2131.c, proxy branch), and so do we.
    if (r.ciaddr == kZero) r.flags |= kBroadcastFlag;
    return r;
}

// Puts the boot file where the firmware reads it: the `file` field (RFC 2131
// §2; every PXE ROM reads it), or option 67 (RFC 2132 §9.5) when it does not
// fit. iPXE and EDK2's HTTP boot read either.
Status put_boot_file(DhcpPacket& r, const std::string& name) {
    if (name.empty()) return fail(Errc::invalid, "dhcp: boot decision has no boot file");
    if (set_field_string(r.file, name)) return {};
    if (name.size() > 255) {
        return fail(Errc::invalid, "dhcp: boot file of " + std::to_string(name.size()) +
                                       " bytes does not fit option 67");
    }
    set_bootfile_name(r.options, name);
    return {};
}

// PXE 2.1 boot server discovery (port 4011): the ACK echoes the boot
// item (43/71, server type and layer) the client asked for.
void echo_boot_item(const DhcpPacket& req, DhcpPacket& r) {
    auto item = pxe_boot_item(req.options);
    if (!item) return;
    Options sub;
    sub.set(pxe_sub::boot_item,
            std::vector<std::uint8_t>{static_cast<std::uint8_t>(item->type >> 8),
                                      static_cast<std::uint8_t>(item->type),
                                      static_cast<std::uint8_t>(item->layer >> 8),
                                      static_cast<std::uint8_t>(item->layer)});
    set_vendor_options(r.options, sub);
}

Status check_message(const ClientInfo& c, const ReplyContext& ctx) {
    if (ctx.port == ProxyPort::dhcp) {
        // PXE 2.1 (proxyDHCP): the proxy answers the DISCOVER; the client's
        // REQUEST on port 67 belongs to the DHCP server that gave the address.
        if (c.message_type == MessageType::discover) return {};
    } else if (c.message_type == MessageType::request || c.message_type == MessageType::inform) {
        return {};
    }
    return fail(Errc::unsupported, "dhcp: proxy does not answer " +
                                       message_type_name(c.message_type) + " on port " +
                                       std::to_string(static_cast<unsigned>(ctx.port)));
}

}  // namespace

DhcpPacket reply_base(const DhcpPacket& req) {
    DhcpPacket r;
    r.op = kBootReply;
    r.htype = req.htype;
    r.hlen = req.hlen;
    r.xid = req.xid;
    r.flags = req.flags;
    r.giaddr = req.giaddr;
    r.chaddr = req.chaddr;
    return r;
}

Status add_boot_fields(DhcpPacket& r, const DhcpPacket& req, const ClientInfo& c,
                       const BootDecision& d, const ReplyContext& ctx) {
    if (c.kind == ClientKind::raspberry_pi && !d.pi_menu) {
        return fail(Errc::invalid, "dhcp: a Raspberry Pi bootloader boots only from the Pi menu");
    }
    const Ipv4 next = d.next_server == kZero ? ctx.server_id : d.next_server;

    if (d.pi_menu) {
        // The Pi menu reply is dnsmasq's, field for field: siaddr 0, no file,
        // no option 66; the bootloader takes its TFTP server from option 54.
        if (ctx.port != ProxyPort::dhcp) {
            return fail(Errc::unsupported, "dhcp: the Pi bootloader does no 4011 discovery");
        }
        if (d.next_server != kZero && d.next_server != ctx.server_id) {
            return fail(Errc::invalid, "dhcp: the Pi fetches by TFTP from option 54 (" +
                                           to_string(ctx.server_id) + "), not " +
                                           to_string(d.next_server));
        }
        auto menu = pi_menu_option(d.pi_menu_text);
        if (!menu) return menu.error();
        set_vendor_class(r.options, "PXEClient");
        if (c.guid) set_client_guid(r.options, *c.guid);
        r.options.set(code::vendor_specific, std::move(*menu));
        return {};
    }

    if (c.kind == ClientKind::uefi_http) {
        // UEFI 2.x §24.7 (HTTP Boot): an HTTP boot offer identifies itself as
        // HTTPClient and carries the boot URI; there is no 4011 phase.
        if (ctx.port != ProxyPort::dhcp) {
            return fail(Errc::unsupported, "dhcp: HTTP boot clients do no 4011 discovery");
        }
        set_vendor_class(r.options, "HTTPClient");
        if (c.guid) set_client_guid(r.options, *c.guid);
        return put_boot_file(r, d.boot_file);
    }

    // PXE 2.1 (proxyDHCP): a proxy offer must name itself PXEClient in option 60
    // or the ROM ignores it. Option 97 is echoed as dnsmasq (pxe_misc) and
    // pixiecore do; RFC 4578 §2.3 has PXE servers use it to identify clients.
    set_vendor_class(r.options, "PXEClient");
    if (c.guid) set_client_guid(r.options, *c.guid);
    r.siaddr = next;
    PIB_TRY(put_boot_file(r, d.boot_file));

    if (ctx.port == ProxyPort::boot_server) {
        echo_boot_item(req, r);
        return {};
    }
    const bool efi = c.kind == ClientKind::uefi_x64 || c.kind == ClientKind::uefi_arm64 ||
                     (c.kind == ClientKind::other_pxe && !c.arch.empty() && c.arch.front() >= 6);
    if (efi) {
        // UEFI PXE gets no option 43 on port 67: EDK2 then treats the offer
        // as "proxy BINL" and asks the offer's server on 4011, which every
        // UEFI firmware does reliably, while some ignore offers whose 43
        // bypasses discovery. dnsmasq ("Redirect EFI clients to port 4011",
        // siaddr = itself) and pixiecore agree. So siaddr names us here; a
        // separate TFTP server goes in the 4011 ACK.
        r.siaddr = ctx.server_id;
    } else if (c.kind != ClientKind::ipxe) {
        // PXE 2.1 option 43.6 PXE_DISCOVERY_CONTROL, bit 3: "download the
        // boot file named in the offer": no menu, no prompt, no boot server
        // discovery. pixiecore sends exactly this ({6: 8}) to x86 BIOS ROMs.
        Options sub;
        sub.set(pxe_sub::discovery_control, std::vector<std::uint8_t>{8});
        set_vendor_options(r.options, sub);
    }
    // iPXE needs no 43: it boots the URL in `file` (ipxe.org/howto/chainloading).
    return {};
}

Result<DhcpPacket> build_proxy_reply(const DhcpPacket& req, const ClientInfo& c,
                                     const BootDecision& d, const ReplyContext& ctx) {
    if (c.kind == ClientKind::not_pxe) {
        // PXE 2.1 (proxyDHCP): answering clients without the PXEClient class would
        // race the real DHCP server with an offer that has no address.
        return fail(Errc::unsupported, "dhcp: not a PXE or HTTP boot client");
    }
    PIB_TRY(check_message(c, ctx));
    DhcpPacket r = reply_header(req, ctx.port);
    set_message_type(r.options,
                     ctx.port == ProxyPort::dhcp ? MessageType::offer : MessageType::ack);
    set_server_id(r.options, ctx.server_id);
    PIB_TRY(add_boot_fields(r, req, c, d, ctx));
    return r;
}

Destination reply_destination(const DhcpPacket& req, const ReplyContext& ctx, const Ipv4& source,
                              std::uint16_t source_port) {
    // RFC 2131 §4.1: through a relay, reply to the relay's server port.
    if (req.giaddr != kZero) return Destination{req.giaddr, kServerPort, false};
    // PXE 2.1 boot server discovery: the server answers the client where it asked from.
    if (ctx.port == ProxyPort::boot_server) {
        if (source != kZero) return Destination{source, source_port, false};
        return Destination{Ipv4{255, 255, 255, 255}, source_port, true};
    }
    // RFC 2131 §4.1: ciaddr 0 and no yiaddr to unicast to: broadcast.
    return Destination{Ipv4{255, 255, 255, 255}, kClientPort, true};
}

}  // namespace pib::dhcp
