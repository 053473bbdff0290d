// A readable, stable rendering of a DHCP packet: one header line per field
// group and one line per option, typed where the option is known. Golden
// test dumps and debug logs use it; the library itself never prints.
#pragma once

#include <string>

#include "dhcp/packet.hpp"

namespace pib::dhcp {

/// Multi-line text of `p`; every line ends in '\n'.
std::string describe(const DhcpPacket& p);

/// Colon-separated lower-case hex ("dc:a6:32:2e:f8:ed").
std::string colon_hex(std::span<const std::uint8_t> bytes);

}  // namespace pib::dhcp
