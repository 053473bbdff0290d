// IPv4 addresses as people write them in config files: exactly four decimal
// parts 0..255, no leading zeros (inet_aton(3) would read 010 as octal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pib {

/// The address in host byte order, or nullopt.
std::optional<std::uint32_t> parse_ipv4(std::string_view s);
/// Dotted-quad text of a host-order address.
std::string ipv4_text(std::uint32_t a);

}  // namespace pib
