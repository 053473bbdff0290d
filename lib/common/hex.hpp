#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pib {

/// Lower-case hex of bytes.
std::string to_hex(std::span<const std::uint8_t> bytes);
/// Parses lower- or upper-case hex; nullopt on odd length or a non-hex digit.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view hex);

}  // namespace pib
