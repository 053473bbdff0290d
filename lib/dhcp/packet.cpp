#include "dhcp/packet.hpp"

#include <algorithm>

namespace pib::dhcp {
namespace {

// Option codes the codec itself interprets (RFC 2132 §3.1, §3.2, §9.3).
constexpr std::uint8_t kPad = 0;
constexpr std::uint8_t kOverload = 52;
constexpr std::uint8_t kEnd = 255;

// Field offsets of RFC 2131 figure 1.
constexpr std::size_t kSnameAt = 44;
constexpr std::size_t kFileAt = 108;
constexpr std::size_t kOptionsAt = kHeaderSize + 4;

// One option instance as found on the wire, before RFC 3396 reassembly.
struct RawOption {
    std::uint8_t code;
    std::span<const std::uint8_t> data;
};

// Walks the code/length/value triples of one area (options field, `file`,
// `sname` or an encapsulated option). PAD is skipped; END or the end of the
// area stops. A missing END is tolerated: ISC dhcpd and dnsmasq
// (option_find1) accept it, and clients that omit it exist. `overrun` is the
// error kind for an option that runs past the area: truncated for the options
// field (the datagram was cut), corrupted for the fixed-size fields.
Status walk(std::span<const std::uint8_t> area, std::size_t base, const char* where, Errc overrun,
            std::vector<RawOption>& out) {
    std::size_t i = 0;
    while (i < area.size()) {
        const std::uint8_t code = area[i];
        if (code == kEnd) return {};
        if (code == kPad) {
            ++i;
            continue;
        }
        if (i + 1 >= area.size()) {
            return fail(overrun, "dhcp: option " + std::to_string(code) + " at offset " +
                                     std::to_string(base + i) + " has no length byte (" + where +
                                     " ends)");
        }
        const std::size_t len = area[i + 1];
        if (i + 2 + len > area.size()) {
            return fail(overrun, "dhcp: option " + std::to_string(code) + " at offset " +
                                     std::to_string(base + i) + " has length " +
                                     std::to_string(len) + " but " + where + " ends after " +
                                     std::to_string(area.size() - i - 2) + " more bytes");
        }
        out.push_back({code, area.subspan(i + 2, len)});
        i += 2 + len;
    }
    return {};
}

// RFC 3396: all instances of one code are concatenated in the order of the
// aggregate buffer (options field, then `file`, then `sname`); the option
// keeps the position of its first instance.
Options reassemble(const std::vector<RawOption>& raw, bool drop_overload) {
    Options out;
    for (const RawOption& r : raw) {
        if (drop_overload && r.code == kOverload) continue;
        out.append(r.code, r.data);
    }
    return out;
}

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

std::uint32_t be32(std::span<const std::uint8_t> b, std::size_t at) {
    return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 |
           std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

template <std::size_t N>
std::array<std::uint8_t, N> take(std::span<const std::uint8_t> b, std::size_t at) {
    std::array<std::uint8_t, N> a{};
    std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(at), N, a.begin());
    return a;
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

// Writes one option, split into 255-byte instances (RFC 3396); an empty
// value is one zero-length instance.
void put_option(std::vector<std::uint8_t>& out, const Option& o) {
    std::size_t at = 0;
    do {
        const std::size_t n = std::min<std::size_t>(255, o.data.size() - at);
        out.push_back(o.code);
        out.push_back(static_cast<std::uint8_t>(n));
        out.insert(out.end(), o.data.begin() + static_cast<std::ptrdiff_t>(at),
                   o.data.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
    } while (at < o.data.size());
}

}  // namespace

std::string to_string(const Ipv4& a) {
    return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
           std::to_string(a[3]);
}

const std::vector<std::uint8_t>* Options::find(std::uint8_t code) const {
    for (const Option& o : items_) {
        if (o.code == code) return &o.data;
    }
    return nullptr;
}

void Options::set(std::uint8_t code, std::vector<std::uint8_t> data) {
    for (Option& o : items_) {
        if (o.code == code) {
            o.data = std::move(data);
            return;
        }
    }
    items_.push_back(Option{code, std::move(data)});
}

void Options::set(std::uint8_t code, std::string_view text) {
    set(code, std::vector<std::uint8_t>(text.begin(), text.end()));
}

void Options::append(std::uint8_t code, std::span<const std::uint8_t> data) {
    for (Option& o : items_) {
        if (o.code == code) {
            o.data.insert(o.data.end(), data.begin(), data.end());
            return;
        }
    }
    items_.push_back(Option{code, std::vector<std::uint8_t>(data.begin(), data.end())});
}

bool Options::erase(std::uint8_t code) {
    auto it = std::find_if(items_.begin(), items_.end(),
                           [code](const Option& o) { return o.code == code; });
    if (it == items_.end()) return false;
    items_.erase(it);
    return true;
}

Result<DhcpPacket> decode(std::span<const std::uint8_t> b) {
    if (b.size() > kMaxPacketSize) {
        return fail(Errc::unsupported, "dhcp: " + std::to_string(b.size()) +
                                           " bytes is more than a UDP datagram can carry");
    }
    if (b.size() < kOptionsAt) {
        return fail(Errc::truncated, "dhcp: " + std::to_string(b.size()) +
                                         " bytes; header and magic cookie need 240");
    }
    DhcpPacket p;
    p.op = b[0];
    p.htype = b[1];
    p.hlen = b[2];
    p.hops = b[3];
    p.xid = be32(b, 4);
    p.secs = be16(b, 8);
    p.flags = be16(b, 10);
    p.ciaddr = take<4>(b, 12);
    p.yiaddr = take<4>(b, 16);
    p.siaddr = take<4>(b, 20);
    p.giaddr = take<4>(b, 24);
    p.chaddr = take<16>(b, 28);
    p.sname = take<64>(b, kSnameAt);
    p.file = take<128>(b, kFileAt);
    if (!std::equal(kMagicCookie.begin(), kMagicCookie.end(), b.begin() + kHeaderSize)) {
        // RFC 951 leaves the vendor area free-form; without the RFC 1497
        // cookie this is plain BOOTP, which netbootd does not serve.
        return fail(Errc::unsupported, "dhcp: no DHCP magic cookie (plain BOOTP or not DHCP)");
    }

    std::vector<RawOption> raw;
    PIB_TRY(walk(b.subspan(kOptionsAt), kOptionsAt, "the packet", Errc::truncated, raw));

    // RFC 2131 §4.1 / RFC 2132 §9.3: option 52 (only valid in the options
    // field) says `file` (1), `sname` (2) or both (3) carry more options.
    std::vector<std::uint8_t> overload;
    for (const RawOption& r : raw) {
        if (r.code == kOverload) overload.insert(overload.end(), r.data.begin(), r.data.end());
    }
    const bool has_overload =
        std::any_of(raw.begin(), raw.end(), [](const RawOption& r) { return r.code == kOverload; });
    if (has_overload) {
        if (overload.size() != 1 || overload[0] < 1 || overload[0] > 3) {
            return fail(Errc::corrupted, "dhcp: option overload (52) must be one byte 1..3");
        }
        // The aggregate buffer is options, then file, then sname (RFC 3396).
        // Option 52 met inside those fields is ignored by reassemble().
        if (overload[0] & 1) {
            PIB_TRY(walk(b.subspan(kFileAt, 128), kFileAt, "the file field", Errc::corrupted, raw));
            p.file.fill(0);
        }
        if (overload[0] & 2) {
            PIB_TRY(
                walk(b.subspan(kSnameAt, 64), kSnameAt, "the sname field", Errc::corrupted, raw));
            p.sname.fill(0);
        }
    }
    p.options = reassemble(raw, /*drop_overload=*/true);
    return p;
}

std::vector<std::uint8_t> encode(const DhcpPacket& p) {
    std::vector<std::uint8_t> out;
    out.reserve(kMinPacketSize + 64);
    out.push_back(p.op);
    out.push_back(p.htype);
    out.push_back(p.hlen);
    out.push_back(p.hops);
    put16(out, static_cast<std::uint16_t>(p.xid >> 16));
    put16(out, static_cast<std::uint16_t>(p.xid));
    put16(out, p.secs);
    put16(out, p.flags);
    for (const Ipv4* a : {&p.ciaddr, &p.yiaddr, &p.siaddr, &p.giaddr}) {
        out.insert(out.end(), a->begin(), a->end());
    }
    out.insert(out.end(), p.chaddr.begin(), p.chaddr.end());
    out.insert(out.end(), p.sname.begin(), p.sname.end());
    out.insert(out.end(), p.file.begin(), p.file.end());
    out.insert(out.end(), kMagicCookie.begin(), kMagicCookie.end());
    for (const Option& o : p.options) {
        if (o.code == kPad || o.code == kOverload || o.code == kEnd) continue;
        put_option(out, o);
    }
    out.push_back(kEnd);
    if (out.size() < kMinPacketSize) out.resize(kMinPacketSize, 0);
    return out;
}

std::span<const std::uint8_t> hardware_address(const DhcpPacket& p) {
    return std::span<const std::uint8_t>(p.chaddr).first(std::min<std::size_t>(p.hlen, 16));
}

std::string field_string(std::span<const std::uint8_t> field) {
    auto nul = std::find(field.begin(), field.end(), std::uint8_t{0});
    return std::string(field.begin(), nul);
}

bool set_field_string(std::span<std::uint8_t> field, std::string_view text) {
    if (text.size() >= field.size()) return false;
    std::fill(field.begin(), field.end(), std::uint8_t{0});
    std::copy(text.begin(), text.end(), field.begin());
    return true;
}

Result<Options> decode_suboptions(std::span<const std::uint8_t> bytes) {
    std::vector<RawOption> raw;
    PIB_TRY(walk(bytes, 0, "the encapsulated option", Errc::corrupted, raw));
    return reassemble(raw, /*drop_overload=*/false);
}

std::vector<std::uint8_t> encode_suboptions(const Options& sub) {
    std::vector<std::uint8_t> out;
    for (const Option& o : sub) {
        if (o.code == kPad || o.code == kEnd) continue;
        put_option(out, o);
    }
    out.push_back(kEnd);
    return out;
}

}  // namespace pib::dhcp
