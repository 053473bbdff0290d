// DHCPv4 packets as value types (RFC 2131 §2, RFC 2132, RFC 3396). The codec
// never touches a socket: decode() turns one UDP payload into a DhcpPacket or
// a clean error, encode() turns a DhcpPacket into the bytes to send.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::dhcp {

/// An IPv4 address in network byte order, as it sits in the packet.
using Ipv4 = std::array<std::uint8_t, 4>;

/// Dotted-quad text of an address ("192.168.1.10").
std::string to_string(const Ipv4& addr);

/// UDP ports of the protocol: server, client, PXE boot server (PXE 2.1 spec).
inline constexpr std::uint16_t kServerPort = 67;
inline constexpr std::uint16_t kClientPort = 68;
inline constexpr std::uint16_t kPxePort = 4011;

/// BOOTP op codes (RFC 951, RFC 2131 §2).
inline constexpr std::uint8_t kBootRequest = 1;
inline constexpr std::uint8_t kBootReply = 2;
/// The BROADCAST bit of `flags` (RFC 2131 §2, figure 2).
inline constexpr std::uint16_t kBroadcastFlag = 0x8000;

/// Fixed BOOTP header before the magic cookie (RFC 2131 figure 1).
inline constexpr std::size_t kHeaderSize = 236;
/// RFC 1497 / RFC 2131 §3: the options field starts with 99.130.83.99.
inline constexpr std::array<std::uint8_t, 4> kMagicCookie = {99, 130, 83, 99};
/// RFC 1542 §3.1.1: relays and old clients expect at least a BOOTP-sized
/// (300-byte) message; dnsmasq pads its replies to this size too.
inline constexpr std::size_t kMinPacketSize = 300;
/// The largest UDP payload IPv4 can carry: 65535 minus the IP and UDP headers.
inline constexpr std::size_t kMaxPacketSize = 65535 - 20 - 8;

/// One option after reassembly: its code and its whole value (RFC 3396).
struct Option {
    std::uint8_t code = 0;
    std::vector<std::uint8_t> data;
    bool operator==(const Option&) const = default;
};

/// Options in the order they were received or set, each code at most once.
/// Codes 0 (pad), 52 (overload) and 255 (end) are framing: decode() never
/// stores them and encode() skips them.
class Options {
  public:
    /// The value of `code`, or nullptr when absent.
    const std::vector<std::uint8_t>* find(std::uint8_t code) const;
    /// True when `code` is present (possibly with an empty value).
    bool contains(std::uint8_t code) const { return find(code) != nullptr; }
    /// Sets `code` to `data`, keeping its position if present, else appending.
    void set(std::uint8_t code, std::vector<std::uint8_t> data);
    /// Sets `code` to the bytes of `text` (no terminating NUL).
    void set(std::uint8_t code, std::string_view text);
    /// Appends `data` to `code`'s value, creating it at the end (RFC 3396).
    void append(std::uint8_t code, std::span<const std::uint8_t> data);
    /// Removes `code`; false when it was absent.
    bool erase(std::uint8_t code);

    std::size_t size() const { return items_.size(); }
    bool empty() const { return items_.empty(); }
    std::vector<Option>::const_iterator begin() const { return items_.begin(); }
    std::vector<Option>::const_iterator end() const { return items_.end(); }
    bool operator==(const Options&) const = default;

  private:
    std::vector<Option> items_;
};

/// A BOOTP/DHCP message (RFC 2131 figure 1). `sname` and `file` hold their raw
/// bytes; when option overload (52) put options there, decode() moves those
/// options into `options` and zeroes the field.
struct DhcpPacket {
    std::uint8_t op = kBootRequest;
    std::uint8_t htype = 1;  ///< 1 = Ethernet (RFC 1700 hardware types)
    std::uint8_t hlen = 6;
    std::uint8_t hops = 0;
    std::uint32_t xid = 0;
    std::uint16_t secs = 0;
    std::uint16_t flags = 0;
    Ipv4 ciaddr{};
    Ipv4 yiaddr{};
    Ipv4 siaddr{};
    Ipv4 giaddr{};
    std::array<std::uint8_t, 16> chaddr{};
    std::array<std::uint8_t, 64> sname{};
    std::array<std::uint8_t, 128> file{};
    Options options;
    bool operator==(const DhcpPacket&) const = default;
};

/// Parses one UDP payload. truncated: shorter than header + cookie, or an
/// option in the options field runs past the end of the datagram; unsupported:
/// not a DHCP cookie (plain BOOTP) or larger than a UDP datagram; corrupted:
/// an option overruns `file`/`sname`, or option 52 is malformed. A missing END
/// option is tolerated; repeated options are concatenated (RFC 3396).
Result<DhcpPacket> decode(std::span<const std::uint8_t> bytes);

/// Serialises `p`: options go in the options field only (never overloaded),
/// values over 255 bytes are split into consecutive instances (RFC 3396),
/// END is appended and the message is zero-padded to kMinPacketSize.
std::vector<std::uint8_t> encode(const DhcpPacket& p);

/// The client hardware address: the first `hlen` bytes of chaddr (at most 16).
std::span<const std::uint8_t> hardware_address(const DhcpPacket& p);

/// Text of a NUL-terminated fixed field (`sname`, `file`): bytes up to the first NUL.
std::string field_string(std::span<const std::uint8_t> field);

/// Stores `text` NUL-padded in a fixed field; false (field untouched) when it
/// does not fit with its terminating NUL.
bool set_field_string(std::span<std::uint8_t> field, std::string_view text);

/// Parses encapsulated sub-options (the value of option 43 or 175: RFC 2132
/// §8.4, iPXE): code/length/value triples, PAD skipped, END or the end of the
/// data stops; repeats are concatenated. corrupted when one overruns the data.
Result<Options> decode_suboptions(std::span<const std::uint8_t> bytes);

/// Serialises sub-options followed by END, as PXE clients expect in option 43.
std::vector<std::uint8_t> encode_suboptions(const Options& sub);

}  // namespace pib::dhcp
