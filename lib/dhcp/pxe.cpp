#include "dhcp/pxe.hpp"

#include <algorithm>

namespace pib::dhcp {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// "PXEClient:Arch:00007:UNDI:003000" -> 7 (PXE 2.1 and RFC 4578 §2.1
// describe the string; UEFI 2.x §24.7 uses the same layout for HTTPClient).
std::optional<std::uint16_t> arch_from_vendor_class(std::string_view vc) {
    const auto at = vc.find(":Arch:");
    if (at == std::string_view::npos || vc.size() < at + 11) return std::nullopt;
    unsigned v = 0;
    for (char c : vc.substr(at + 6, 5)) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 0xffff) return std::nullopt;
    return static_cast<std::uint16_t>(v);
}

std::uint32_t le32(const std::array<std::uint8_t, 16>& b, std::size_t at) {
    return std::uint32_t{b[at]} | std::uint32_t{b[at + 1]} << 8 | std::uint32_t{b[at + 2]} << 16 |
           std::uint32_t{b[at + 3]} << 24;
}

// Prefixes registered to Raspberry Pi Foundation / Raspberry Pi Trading Ltd
// in the IEEE MA-L registry. b8:27:eb is on Pi 1-3, dc:a6:32 and e4:5f:01 on
// Pi 4 (seen in rpi-eeprom and cmprovision bug reports), d8:3a:dd on newer
// Pi 4/CM4 (cmprovision issue #13); 28:cd:c1 and 2c:cf:67 are later
// Raspberry Pi Trading assignments (not checked against a board here).
constexpr std::array<std::array<std::uint8_t, 3>, 6> kPiOuis = {{
    {0xb8, 0x27, 0xeb},
    {0xdc, 0xa6, 0x32},
    {0xe4, 0x5f, 0x01},
    {0xd8, 0x3a, 0xdd},
    {0x28, 0xcd, 0xc1},
    {0x2c, 0xcf, 0x67},
}};

// The Pi 4/5 bootloader is not a PXE ROM, but borrows the PXE 2.1 BIOS
// vendor class and sends arch 0 (rpi-eeprom #182, raspberrypi/firmware
// #1928), so the string alone cannot tell it from an x86 BIOS. Since the
// 2020-03 EEPROMs its option 97 starts with the FourCC "RPi4"/"RPi5"
// (documented as DHCP_OPTION97; dnsmasq logs "client-machine-id
// 00:52:50:69:34:..." in the field); boards with the old GUID still carry a
// Raspberry Pi MAC.
bool looks_like_pi(const ClientInfo& c, const ClassifyOptions& opts) {
    if (c.vendor_class != kPiVendorClass) return false;
    if (opts.pi_by_vendor_class_alone) return true;
    if (c.guid && pi_guid(*c.guid)) return true;
    return is_raspberry_pi_mac(c.hwaddr);
}

ClientKind kind_of(const ClientInfo& c, const ClassifyOptions& opts) {
    const bool pxe = starts_with(c.vendor_class, "PXEClient");
    const bool http = starts_with(c.vendor_class, "HTTPClient");
    // PXE 2.1 (proxyDHCP): a proxyDHCP server answers only clients that identify
    // as PXEClient; UEFI 2.x §24.7 (HTTP Boot) adds HTTPClient. Everyone else is the
    // real DHCP server's business.
    if (!pxe && !http) return ClientKind::not_pxe;
    // iPXE first: iPXE on BIOS sends the very same vendor class as the Pi and
    // as a PXE ROM, but wants a script URL, not another boot loader
    // (ipxe.org/howto/chainloading: break the loop on user class "iPXE").
    const bool ipxe_user_class =
        std::find(c.user_classes.begin(), c.user_classes.end(), "iPXE") != c.user_classes.end();
    if (ipxe_user_class || c.ipxe_options_present) return ClientKind::ipxe;
    // A plain value and a flag rather than std::optional: GCC 12 at -O1
    // reports a false maybe-uninitialized for the optional's payload here.
    const bool has_arch = !c.arch.empty();
    const std::uint16_t a = has_arch ? c.arch.front() : 0;
    if (http || (has_arch && (a == arch::efi_x64_http || a == arch::efi_arm64_http))) return ClientKind::uefi_http;
    if (looks_like_pi(c, opts)) return ClientKind::raspberry_pi;
    if (!has_arch) return ClientKind::other_pxe;
    switch (a) {
        case arch::x86_bios:
            return ClientKind::bios_pxe;
        case arch::efi_bc:
        case arch::efi_x64:
            return ClientKind::uefi_x64;
        case arch::efi_arm64:
            return ClientKind::uefi_arm64;
        default:
            return ClientKind::other_pxe;
    }
}

}  // namespace

const char* kind_name(ClientKind k) {
    switch (k) {
        case ClientKind::not_pxe:
            return "not_pxe";
        case ClientKind::raspberry_pi:
            return "raspberry_pi";
        case ClientKind::bios_pxe:
            return "bios_pxe";
        case ClientKind::uefi_x64:
            return "uefi_x64";
        case ClientKind::uefi_arm64:
            return "uefi_arm64";
        case ClientKind::uefi_http:
            return "uefi_http";
        case ClientKind::ipxe:
            return "ipxe";
        case ClientKind::other_pxe:
            return "other_pxe";
    }
    return "unknown";
}

Result<ClientInfo> classify(const DhcpPacket& request, const ClassifyOptions& opts) {
    if (request.op != kBootRequest) {
        return fail(Errc::unsupported,
                    "dhcp: op " + std::to_string(request.op) + " is not a BOOTREQUEST");
    }
    if (request.hlen > request.chaddr.size()) {
        // RFC 2131 §2: chaddr holds 16 bytes; dnsmasq drops such requests too.
        return fail(Errc::corrupted,
                    "dhcp: hlen " + std::to_string(request.hlen) + " exceeds chaddr");
    }
    auto type = message_type(request.options);
    if (!type) return fail(Errc::corrupted, type.error().message);

    ClientInfo c;
    c.message_type = *type;
    auto hw = hardware_address(request);
    c.hwaddr.assign(hw.begin(), hw.end());
    // Malformed optional options are read as absent: classification is about
    // what a client is, and a broken option 97 should not hide a PXE client.
    if (auto vc = vendor_class(request.options)) c.vendor_class = *vc;
    if (auto a = client_arch(request.options)) {
        c.arch = *a;
    } else if (auto va = arch_from_vendor_class(c.vendor_class)) {
        c.arch = {*va};
    }
    if (auto uc = user_classes(request.options)) c.user_classes = *uc;
    if (auto g = client_guid(request.options)) c.guid = *g;
    c.ipxe_options_present = request.options.contains(code::ipxe_encap);
    c.kind = kind_of(c, opts);
    return c;
}

std::optional<PiGuid> pi_guid(const ClientGuid& g) {
    // Bytes "RPi" then the model digit: the FourCC 0x34695052 stored
    // little-endian, like the other three words.
    if (g.id[0] != 'R' || g.id[1] != 'P' || g.id[2] != 'i') return std::nullopt;
    PiGuid p;
    p.model.assign(g.id.begin(), g.id.begin() + 4);
    p.board_revision = le32(g.id, 4);
    std::copy(g.id.begin() + 8, g.id.begin() + 12, p.mac_low.begin());
    p.serial = le32(g.id, 12);
    return p;
}

bool is_raspberry_pi_mac(std::span<const std::uint8_t> hwaddr) {
    if (hwaddr.size() < 3) return false;
    return std::any_of(kPiOuis.begin(), kPiOuis.end(), [&](const auto& oui) {
        return std::equal(oui.begin(), oui.end(), hwaddr.begin());
    });
}

}  // namespace pib::dhcp
