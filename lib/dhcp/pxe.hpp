// Who is asking: sorts a DHCP request into the kinds of network-boot client
// netbootd answers (the "classify" step of STYLE.md rule 6). Pure: it reads
// the packet and nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"

namespace pib::dhcp {

/// The kinds of client a proxyDHCP server tells apart.
enum class ClientKind : std::uint8_t {
    not_pxe,       ///< no PXEClient/HTTPClient vendor class: a proxy must stay silent
    raspberry_pi,  ///< Raspberry Pi 4/5 EEPROM bootloader
    bios_pxe,      ///< x86 BIOS PXE ROM (arch 0) that is not a Pi
    uefi_x64,      ///< UEFI PXE, arch 7 (EFI BC) or 9 (EFI x86-64)
    uefi_arm64,    ///< UEFI PXE, arch 11 (ARM 64-bit UEFI)
    uefi_http,     ///< UEFI HTTP boot: arch 16/19 or vendor class HTTPClient
    ipxe,          ///< iPXE already running: user class "iPXE" or option 175
    other_pxe,     ///< a PXE client of another architecture (arch in ClientInfo)
};

/// Short name for logs ("raspberry_pi", "uefi_x64", ...).
const char* kind_name(ClientKind k);

/// RFC 4578 §2.1 / IANA "Processor Architecture Types" values we act on.
namespace arch {
inline constexpr std::uint16_t x86_bios = 0;
inline constexpr std::uint16_t efi_bc = 7;
inline constexpr std::uint16_t efi_x64 = 9;
inline constexpr std::uint16_t efi_arm64 = 11;
inline constexpr std::uint16_t efi_x64_http = 16;
inline constexpr std::uint16_t efi_arm64_http = 19;
}  // namespace arch

/// The vendor class every Pi 4/5 bootloader sends (and, identically, every
/// PXE 2.1 BIOS ROM: UNDI 2.1, arch 0; rpi-eeprom issue #182).
inline constexpr std::string_view kPiVendorClass = "PXEClient:Arch:00000:UNDI:002001";

/// What a request tells about its sender, for the policy and the reply.
struct ClientInfo {
    ClientKind kind = ClientKind::not_pxe;
    MessageType message_type = MessageType::discover;
    std::vector<std::uint8_t> hwaddr;       ///< chaddr[0..hlen)
    std::string vendor_class;               ///< option 60, empty when absent
    std::vector<std::uint16_t> arch;        ///< option 93, else the vendor class's Arch field
    std::vector<std::string> user_classes;  ///< option 77
    std::optional<ClientGuid> guid;         ///< option 97 when well-formed
    bool ipxe_options_present = false;      ///< option 175 seen (only iPXE sends it)
    bool operator==(const ClientInfo&) const = default;
};

/// Knobs of classify() a deployment may need.
struct ClassifyOptions {
    /// Treat the Pi vendor class alone as a Pi. Off by default: PXE 2.1 BIOS
    /// ROMs send the same string, so a Pi also needs its GUID magic or a
    /// Raspberry Pi MAC prefix. Turn on for Pi-only networks whose boards
    /// have custom MACs and a custom DHCP_OPTION97.
    bool pi_by_vendor_class_alone = false;
};

/// Classifies a client request. unsupported: not a BOOTREQUEST; corrupted:
/// hlen over 16, or option 53 missing or malformed. A non-PXE request is not an error: it
/// comes back as ClientKind::not_pxe.
Result<ClientInfo> classify(const DhcpPacket& request, const ClassifyOptions& opts = {});

/// The structured GUID of Pi 4/5 bootloaders since 2020-03 (bootloader
/// config DHCP_OPTION97): FourCC "RPi4"/"RPi5", board revision, the MAC's low
/// four bytes and the serial number, each 32-bit value little-endian.
struct PiGuid {
    std::string model;  ///< "RPi4", "RPi5"
    std::uint32_t board_revision = 0;
    std::array<std::uint8_t, 4> mac_low{};
    std::uint32_t serial = 0;  ///< the TFTP directory is its 8 lower-case hex digits
    bool operator==(const PiGuid&) const = default;
};

/// Reads a Pi GUID; nullopt when `g` does not start with the "RPi" magic
/// (older bootloaders repeat the serial four times instead).
std::optional<PiGuid> pi_guid(const ClientGuid& g);

/// True when the first three bytes of `hwaddr` are a Raspberry Pi OUI.
bool is_raspberry_pi_mac(std::span<const std::uint8_t> hwaddr);

}  // namespace pib::dhcp
