// TFTP packets as value types (RFC 1350 §5, RFC 2347 OACK). The codec never
// touches a socket: decode() turns one UDP payload into a Packet or a clean
// error, encode() turns a Packet into the bytes to send. Options are an ordered
// list whose names compare case-insensitively (RFC 2347), kept in wire order so
// a packet re-encodes to the bytes it was decoded from.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.hpp"

namespace pib::tftp {

/// One option as it appears on the wire: `name\0value\0`.
struct Option {
    std::string name;
    std::string value;
    bool operator==(const Option&) const = default;
};

/// Request or OACK options, in wire order; at most one entry per name (ignoring case).
class Options {
public:
    Options() = default;
    /// Builds from pairs; a later duplicate name replaces the earlier value.
    Options(std::initializer_list<Option> init);

    /// Appends a new option; Errc::corrupted when the name is already present (any case)
    /// or the name or value is empty, since neither can be put on the wire.
    Status add(std::string name, std::string value);
    /// Replaces the value of an existing option (keeping its position and spelling) or appends.
    void set(std::string_view name, std::string value);

    /// The value of `name` (case-insensitive), if present.
    std::optional<std::string_view> get(std::string_view name) const;
    /// The value of `name` as a plain decimal in [min, max]: Errc::not_found when absent,
    /// Errc::corrupted when it is not digits only, Errc::unsupported when out of range.
    Result<std::uint64_t> get_uint(std::string_view name, std::uint64_t min,
                                   std::uint64_t max) const;
    /// True when `name` is present (case-insensitive).
    bool contains(std::string_view name) const { return get(name).has_value(); }

    const std::vector<Option>& entries() const { return entries_; }
    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }

    /// Exact comparison (names compared as spelled): packets are values of their bytes.
    bool operator==(const Options&) const = default;

private:
    std::vector<Option> entries_;
};

/// ASCII case-insensitive equality, as RFC 2347 specifies for option names.
bool iequals(std::string_view a, std::string_view b);

/// Parses a plain unsigned decimal (digits only, no sign or spaces, no overflow).
std::optional<std::uint64_t> parse_decimal(std::string_view text);

/// Opcodes of RFC 1350 §5 plus OACK (RFC 2347).
enum class Opcode : std::uint16_t { rrq = 1, wrq = 2, data = 3, ack = 4, error = 5, oack = 6 };

/// ERROR codes of RFC 1350 appendix plus 8 (RFC 2347, option negotiation refused).
enum class ErrorCode : std::uint16_t {
    not_defined = 0,
    file_not_found = 1,
    access_violation = 2,
    disk_full = 3,
    illegal_operation = 4,
    unknown_tid = 5,
    file_exists = 6,
    no_such_user = 7,
    option_refused = 8,
};

/// RFC 2347: "The maximum size of a request packet is 512 octets."
inline constexpr std::size_t kMaxRequestSize = 512;
/// RFC 2348: block sizes range over 8..65464 octets.
inline constexpr std::uint16_t kMinBlksize = 8;
inline constexpr std::uint16_t kMaxBlksize = 65464;
/// RFC 1350 block size when no blksize option is negotiated.
inline constexpr std::uint16_t kDefaultBlksize = 512;
/// Largest packet any TFTP peer may send: a DATA header plus the largest block.
inline constexpr std::size_t kMaxPacketSize = 4 + kMaxBlksize;

/// RRQ or WRQ: filename, transfer mode and options (RFC 1350 §5, RFC 2347).
template <Opcode Op>
struct Request {
    std::string filename;
    std::string mode = "octet";
    Options options;
    bool operator==(const Request&) const = default;
};
using ReadRequest = Request<Opcode::rrq>;
using WriteRequest = Request<Opcode::wrq>;

/// DATA: a block number and up to blksize bytes of payload.
struct Data {
    std::uint16_t block = 0;
    std::vector<std::uint8_t> payload;
    bool operator==(const Data&) const = default;
};

/// ACK of one block number (0 acknowledges an OACK).
struct Ack {
    std::uint16_t block = 0;
    bool operator==(const Ack&) const = default;
};

/// ERROR: a code and a message; ends the transfer, is never acknowledged.
struct ErrorPacket {
    ErrorCode code = ErrorCode::not_defined;
    std::string message;
    bool operator==(const ErrorPacket&) const = default;
};

/// OACK: the options the server accepted, with the values it settled on.
struct OptionAck {
    Options options;
    bool operator==(const OptionAck&) const = default;
};

/// Any TFTP packet.
using Packet = std::variant<ReadRequest, WriteRequest, Data, Ack, ErrorPacket, OptionAck>;

/// Decodes one UDP payload. Errc::truncated for a short packet or a missing NUL,
/// Errc::corrupted for an empty filename/mode/option, an option without value or a
/// duplicate option, Errc::unsupported for an unknown opcode or an oversized packet.
Result<Packet> decode(std::span<const std::uint8_t> bytes);

/// Encodes a packet into its wire bytes.
std::vector<std::uint8_t> encode(const Packet& packet);
/// Appends the wire bytes of a packet to `out` (no allocation once `out` has grown).
void encode_into(const Packet& packet, std::vector<std::uint8_t>& out);

/// Opcode of a packet.
Opcode opcode_of(const Packet& packet);

/// One-line human-readable rendering for logs and golden dumps; every byte outside
/// printable ASCII is shown as \xNN, so client-chosen names cannot forge log lines.
std::string describe(const Packet& packet);

/// Quotes a client-supplied string for a log line the same way describe() does.
std::string sanitize(std::string_view text);

/// The ERROR code a server sends for a library error kind (not_found -> 1, invalid -> 2, ...).
ErrorCode error_code_for(Errc code);

}  // namespace pib::tftp
