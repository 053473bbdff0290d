// IPv4/UDP framing for the DHCP packet socket (RFC 791, RFC 768, RFC 1071).
#include "client/udp_frame.hpp"

namespace pib::client {

namespace {
void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}
std::uint16_t get16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}
}  // namespace

std::uint16_t inet_checksum(std::span<const std::uint8_t> data, std::uint32_t sum) {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) sum += (std::uint32_t(data[i]) << 8) | data[i + 1];
    if (i < data.size()) sum += std::uint32_t(data[i]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

std::vector<std::uint8_t> encode_udp_ipv4(const UdpDatagram& d) {
    const std::size_t udp_len = 8 + d.payload.size();
    std::vector<std::uint8_t> b(20 + udp_len, 0);
    b[0] = 0x45;  // version 4, IHL 5
    put16(b, 2, static_cast<std::uint16_t>(b.size()));
    b[8] = 64;  // TTL
    b[9] = 17;  // UDP
    std::copy(d.src.begin(), d.src.end(), b.begin() + 12);
    std::copy(d.dst.begin(), d.dst.end(), b.begin() + 16);
    put16(b, 10, inet_checksum(std::span(b).first(20)));
    put16(b, 20, d.src_port);
    put16(b, 22, d.dst_port);
    put16(b, 24, static_cast<std::uint16_t>(udp_len));
    std::copy(d.payload.begin(), d.payload.end(), b.begin() + 28);
    // Pseudo-header: src, dst, zero, protocol, UDP length (RFC 768).
    std::uint32_t pseudo = 17 + std::uint32_t(udp_len);
    for (std::size_t i = 12; i < 20; i += 2) pseudo += (std::uint32_t(b[i]) << 8) | b[i + 1];
    std::uint16_t sum = inet_checksum(std::span(b).subspan(20), pseudo);
    put16(b, 26, sum == 0 ? 0xffff : sum);  // RFC 768: a computed zero is sent as all ones
    return b;
}

std::optional<UdpDatagram> decode_udp_ipv4(std::span<const std::uint8_t> p) {
    if (p.size() < 28 || (p[0] >> 4) != 4) return std::nullopt;
    const std::size_t ihl = std::size_t(p[0] & 0x0f) * 4;
    if (ihl < 20 || p.size() < ihl + 8) return std::nullopt;
    const std::size_t total = get16(p, 2);
    if (total < ihl + 8 || total > p.size()) return std::nullopt;
    if (p[9] != 17) return std::nullopt;
    if ((get16(p, 6) & 0x3fff) != 0) return std::nullopt;  // MF set or an offset: a fragment
    if (inet_checksum(p.first(ihl)) != 0) return std::nullopt;
    const std::size_t udp_len = get16(p, ihl + 4);
    if (udp_len < 8 || ihl + udp_len > total) return std::nullopt;
    UdpDatagram d;
    std::copy(p.begin() + 12, p.begin() + 16, d.src.begin());
    std::copy(p.begin() + 16, p.begin() + 20, d.dst.begin());
    d.src_port = get16(p, ihl);
    d.dst_port = get16(p, ihl + 2);
    d.payload.assign(p.begin() + ihl + 8, p.begin() + ihl + udp_len);
    return d;
}

}  // namespace pib::client
