// Typed access to the DHCP options netboot cares about. Getters fail cleanly:
// not_found when the option is absent, corrupted when its value does not have
// the shape its RFC gives it. Setters replace the option in place.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "dhcp/packet.hpp"

namespace pib::dhcp {

/// Option codes (RFC 2132 unless noted).
namespace code {
inline constexpr std::uint8_t vendor_specific =
    43;                                           ///< §8.4; PXE sub-options (PXE 2.1 option table)
inline constexpr std::uint8_t overload = 52;      ///< §9.3
inline constexpr std::uint8_t message_type = 53;  ///< §9.6
inline constexpr std::uint8_t server_id = 54;     ///< §9.7
inline constexpr std::uint8_t parameter_request = 55;  ///< §9.8
inline constexpr std::uint8_t max_message_size = 57;   ///< §9.10
inline constexpr std::uint8_t vendor_class = 60;       ///< §9.13
inline constexpr std::uint8_t client_id = 61;          ///< §9.14
inline constexpr std::uint8_t tftp_server_name = 66;   ///< §9.4
inline constexpr std::uint8_t bootfile_name = 67;      ///< §9.5
inline constexpr std::uint8_t user_class = 77;         ///< RFC 3004
inline constexpr std::uint8_t client_arch = 93;        ///< RFC 4578 §2.1
inline constexpr std::uint8_t client_ndi = 94;         ///< RFC 4578 §2.2
inline constexpr std::uint8_t client_guid = 97;        ///< RFC 4578 §2.3
inline constexpr std::uint8_t ipxe_encap = 175;        ///< iPXE's encapsulated options
}  // namespace code

/// PXE sub-options inside option 43 (PXE 2.1 spec, DHCP option table).
namespace pxe_sub {
inline constexpr std::uint8_t discovery_control = 6;
inline constexpr std::uint8_t boot_servers = 8;
inline constexpr std::uint8_t boot_menu = 9;
inline constexpr std::uint8_t menu_prompt = 10;
inline constexpr std::uint8_t boot_item = 71;
}  // namespace pxe_sub

/// DHCP message types (RFC 2132 §9.6); other values are representable.
enum class MessageType : std::uint8_t {
    discover = 1,
    offer = 2,
    request = 3,
    decline = 4,
    ack = 5,
    nak = 6,
    release = 7,
    inform = 8,
};

/// "DHCPDISCOVER", ... or "DHCP(<n>)" for a type without a name here.
std::string message_type_name(MessageType t);

/// Option 94, client network device interface (RFC 4578 §2.2): type 1 = UNDI.
struct ClientNdi {
    std::uint8_t type = 1;
    std::uint8_t major = 0;
    std::uint8_t minor = 0;
    bool operator==(const ClientNdi&) const = default;
};

/// Option 97, client machine identifier (RFC 4578 §2.3): type 0 + 16 bytes.
struct ClientGuid {
    std::uint8_t type = 0;
    std::array<std::uint8_t, 16> id{};
    bool operator==(const ClientGuid&) const = default;
};

/// PXE boot item (43.71, PXE 2.1): the server type and layer asked for on 4011.
struct PxeBootItem {
    std::uint16_t type = 0;
    std::uint16_t layer = 0;
    bool operator==(const PxeBootItem&) const = default;
};

/// Option 53; exactly one non-zero byte.
Result<MessageType> message_type(const Options& o);
/// Option 54; exactly four bytes.
Result<Ipv4> server_id(const Options& o);
/// Option 55; at least one code.
Result<std::vector<std::uint8_t>> parameter_request_list(const Options& o);
/// Option 57; two bytes, at least 576 (RFC 2132 §9.10).
Result<std::uint16_t> max_message_size(const Options& o);
/// Option 60 as text; at least one byte.
Result<std::string> vendor_class(const Options& o);
/// Option 77: RFC 3004 length-prefixed classes, or the whole value as one
/// class when it is not in that format (iPXE sends the bare string "iPXE").
Result<std::vector<std::string>> user_classes(const Options& o);
/// Option 93: a non-empty list of 16-bit architecture types (RFC 4578 §2.1).
Result<std::vector<std::uint16_t>> client_arch(const Options& o);
/// Option 94; exactly three bytes.
Result<ClientNdi> client_ndi(const Options& o);
/// Option 97; exactly seventeen bytes.
Result<ClientGuid> client_guid(const Options& o);
/// Option 43 parsed as sub-options.
Result<Options> vendor_options(const Options& o);
/// Sub-option 71 of option 43; exactly four bytes.
Result<PxeBootItem> pxe_boot_item(const Options& o);
/// Option 175 parsed as iPXE's sub-options (feature flags, bus id, ...).
Result<Options> ipxe_options(const Options& o);

/// Sets option 53.
void set_message_type(Options& o, MessageType t);
/// Sets option 54.
void set_server_id(Options& o, const Ipv4& addr);
/// Sets option 55.
void set_parameter_request_list(Options& o, std::span<const std::uint8_t> codes);
/// Sets option 57.
void set_max_message_size(Options& o, std::uint16_t size);
/// Sets option 60.
void set_vendor_class(Options& o, std::string_view text);
/// Sets option 77 in RFC 3004 format; classes longer than 255 bytes are cut.
void set_user_classes(Options& o, std::span<const std::string> classes);
/// Sets option 93.
void set_client_arch(Options& o, std::span<const std::uint16_t> arch);
/// Sets option 94.
void set_client_ndi(Options& o, const ClientNdi& ndi);
/// Sets option 97.
void set_client_guid(Options& o, const ClientGuid& guid);
/// Sets option 43 to `sub` followed by END.
void set_vendor_options(Options& o, const Options& sub);
/// Sets option 175 to `sub` followed by END.
void set_ipxe_options(Options& o, const Options& sub);
/// Sets option 66.
void set_tftp_server_name(Options& o, std::string_view name);
/// Sets option 67.
void set_bootfile_name(Options& o, std::string_view name);

}  // namespace pib::dhcp
