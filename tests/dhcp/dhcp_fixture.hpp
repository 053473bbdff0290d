// Shared pieces of the DHCP tests: annotated hex fixtures from tests/dhcp/data
// and the golden-file check that PIB_UPDATE_GOLDEN=1 rewrites.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/hex.hpp"
#include "dhcp/packet.hpp"
#include "support/test_support.hpp"

namespace pib::dhcp::test {

/// Every checked-in capture or reconstruction, by file stem.
inline const std::vector<std::string> kFixtures = {
    "pi4_discover",      "pi4_offer_dnsmasq",   "ipxe_bios_discover", "uefi_x64_discover",
    "bios_pxe_discover", "uefi_arm64_discover", "uefi_http_discover", "uefi_x64_request_4011",
};

/// tests/dhcp/data/<file>, from any test area (the netbootd tests use the captures too).
inline std::string data_path(const std::string& file) {
    return std::string(PIB_SOURCE_DIR) + "/tests/dhcp/data/" + file;
}

/// Bytes of data/<name>.hex: hex digits, whitespace ignored, '#' to end of line a comment.
inline std::vector<std::uint8_t> load_hex(const std::string& name) {
    const std::string text = pib::test::read_text(data_path(name + ".hex"));
    EXPECT_FALSE(text.empty()) << name << ".hex missing";
    std::string digits;
    bool comment = false;
    for (char c : text) {
        if (c == '\n') comment = false;
        if (c == '#') comment = true;
        if (!comment && !std::isspace(static_cast<unsigned char>(c))) digits += c;
    }
    auto bytes = from_hex(digits);
    EXPECT_TRUE(bytes.has_value()) << name << ".hex is not hex";
    return bytes.value_or(std::vector<std::uint8_t>{});
}

/// Decodes data/<name>.hex, failing the test when it does not decode.
inline DhcpPacket load_packet(const std::string& name) {
    auto p = decode(load_hex(name));
    EXPECT_TRUE(p.ok()) << name << ": " << (p.ok() ? "" : p.error().message);
    return p.ok() ? *p : DhcpPacket{};
}

/// Compares `actual` with data/<file>; PIB_UPDATE_GOLDEN=1 rewrites the file instead.
inline void expect_golden(const std::string& file, const std::string& actual) {
    const std::string path = data_path(file);
    if (const char* u = std::getenv("PIB_UPDATE_GOLDEN"); u && std::string(u) == "1") {
        pib::test::write_text(path, actual);
    }
    const std::string golden = pib::test::read_text(path);
    ASSERT_FALSE(golden.empty()) << path << " missing; run with PIB_UPDATE_GOLDEN=1";
    EXPECT_EQ(golden, actual) << "golden " << file << " differs; PIB_UPDATE_GOLDEN=1 rewrites it";
}

}  // namespace pib::dhcp::test
