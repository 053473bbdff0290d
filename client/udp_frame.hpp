// IPv4 + UDP framing for the DHCP client's packet socket (AF_PACKET,
// SOCK_DGRAM, ETH_P_IP: the kernel adds and strips the Ethernet header, we
// build and read the IP and UDP headers). Pure: bytes in, bytes out.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace pib::client {

struct UdpDatagram {
    std::array<std::uint8_t, 4> src{};
    std::array<std::uint8_t, 4> dst{};
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    std::vector<std::uint8_t> payload;
};

/// RFC 791 header + RFC 768 datagram with both checksums, TTL 64, DF clear.
std::vector<std::uint8_t> encode_udp_ipv4(const UdpDatagram& d);

/// Parses an IPv4 packet carrying UDP; nullopt when it is not one, is a
/// fragment, is truncated or its IP header checksum is wrong. The UDP
/// checksum is not checked: on veth and with checksum offload a packet socket
/// sees frames whose UDP checksum the sender never filled in
/// (TP_STATUS_CSUMNOTREADY); the DHCP decoder validates the payload itself.
std::optional<UdpDatagram> decode_udp_ipv4(std::span<const std::uint8_t> packet);

/// RFC 1071 Internet checksum of `data` starting from `initial`.
std::uint16_t inet_checksum(std::span<const std::uint8_t> data, std::uint32_t initial = 0);

}  // namespace pib::client
