#include "tftp/packet.hpp"

#include <algorithm>
#include <charconv>
#include <string_view>

#include "common/hex.hpp"

namespace pib::tftp {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
    if (text.empty()) return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

Options::Options(std::initializer_list<Option> init) {
    for (const Option& o : init) set(o.name, o.value);
}

Status Options::add(std::string name, std::string value) {
    if (name.empty()) return fail(Errc::corrupted, "empty option name");
    if (value.empty()) return fail(Errc::corrupted, "option " + sanitize(name) + " without value");
    if (contains(name)) return fail(Errc::corrupted, "duplicate option " + sanitize(name));
    entries_.push_back(Option{std::move(name), std::move(value)});
    return {};
}

void Options::set(std::string_view name, std::string value) {
    for (Option& o : entries_) {
        if (iequals(o.name, name)) {
            o.value = std::move(value);
            return;
        }
    }
    entries_.push_back(Option{std::string(name), std::move(value)});
}

std::optional<std::string_view> Options::get(std::string_view name) const {
    for (const Option& o : entries_) {
        if (iequals(o.name, name)) return std::string_view(o.value);
    }
    return std::nullopt;
}

Result<std::uint64_t> Options::get_uint(std::string_view name, std::uint64_t min,
                                        std::uint64_t max) const {
    auto text = get(name);
    const std::string shown = "option " + sanitize(name);
    if (!text) return fail(Errc::not_found, "no " + shown);
    auto v = parse_decimal(*text);
    if (!v) return fail(Errc::corrupted, shown + " is not a number");
    if (*v < min || *v > max) {
        return fail(Errc::unsupported, shown + "=" + sanitize(*text) + " outside " +
                                           std::to_string(min) + ".." + std::to_string(max));
    }
    return *v;
}

namespace {

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
    return static_cast<std::uint16_t>(b[at] << 8 | b[at + 1]);
}

void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_cstring(std::vector<std::uint8_t>& out, std::string_view s) {
    out.insert(out.end(), s.begin(), s.end());
    out.push_back(0);
}

// Reads NUL-terminated fields from a packet body.
class FieldReader {
public:
    FieldReader(std::span<const std::uint8_t> b, std::size_t pos) : b_(b), pos_(pos) {}

    bool at_end() const { return pos_ >= b_.size(); }

    // True when only NUL bytes remain: trailing padding after the last field.
    bool only_padding_left() const {
        return std::all_of(b_.begin() + static_cast<std::ptrdiff_t>(pos_), b_.end(),
                           [](std::uint8_t c) { return c == 0; });
    }

    Result<std::string> field(const std::string& what) {
        auto begin = b_.begin() + static_cast<std::ptrdiff_t>(pos_);
        auto nul = std::find(begin, b_.end(), std::uint8_t{0});
        if (nul == b_.end()) return fail(Errc::truncated, what + " without terminating NUL");
        std::string s(begin, nul);
        pos_ = static_cast<std::size_t>(nul - b_.begin()) + 1;
        return s;
    }

private:
    std::span<const std::uint8_t> b_;
    std::size_t pos_;
};

// name\0value\0 pairs up to the end of the packet (RFC 2347 §"Packet Formats").
Result<Options> read_options(FieldReader& r, bool allow_padding) {
    Options opts;
    while (!r.at_end()) {
        // Tolerated like dnsmasq, whose parser skips empty strings: NUL bytes after
        // the last complete option carry nothing and hurt nobody.
        if (allow_padding && r.only_padding_left()) break;
        auto name = r.field("option name");
        if (!name) return name.error();
        if (name->empty()) return fail(Errc::corrupted, "empty option name");
        if (r.at_end())
            return fail(Errc::truncated, "option " + sanitize(*name) + " without value");
        auto value = r.field("value of option " + sanitize(*name));
        if (!value) return value.error();
        Status added = opts.add(std::move(*name), std::move(*value));
        if (!added) return added.error();
    }
    return opts;
}

template <Opcode Op>
Result<Packet> decode_request(std::span<const std::uint8_t> b) {
    if (b.size() > kMaxRequestSize) {
        return fail(Errc::unsupported,
                    "request of " + std::to_string(b.size()) + " bytes exceeds 512 (RFC 2347)");
    }
    FieldReader r(b, 2);
    Request<Op> req;
    auto filename = r.field("filename");
    if (!filename) return filename.error();
    if (filename->empty()) return fail(Errc::corrupted, "empty filename");
    auto mode = r.field("mode");
    if (!mode) return mode.error();
    if (mode->empty()) return fail(Errc::corrupted, "empty mode");
    auto options = read_options(r, /*allow_padding=*/true);
    if (!options) return options.error();
    req.filename = std::move(*filename);
    req.mode = std::move(*mode);
    req.options = std::move(*options);
    return Packet{std::move(req)};
}

Result<Packet> decode_error(std::span<const std::uint8_t> b) {
    if (b.size() < 4) return fail(Errc::truncated, "ERROR shorter than 4 bytes");
    ErrorPacket e;
    e.code = static_cast<ErrorCode>(be16(b, 2));
    // Read liberally: an ERROR ends the transfer, and a client whose ERROR lacks the
    // final NUL still means "stop". Ignoring it would keep a transfer retransmitting.
    auto body = b.subspan(4);
    auto nul = std::find(body.begin(), body.end(), std::uint8_t{0});
    e.message.assign(body.begin(), nul);
    return Packet{std::move(e)};
}

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

// `token` also escapes space and '=' so that name=value pairs stay unambiguous.
std::string escape(std::string_view text, bool token) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        bool plain =
            c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && !(token && (c == ' ' || c == '='));
        if (plain) {
            out.push_back(ch);
        } else {
            out += "\\x";
            out.push_back(digits[c >> 4]);
            out.push_back(digits[c & 15]);
        }
    }
    return out;
}

std::string describe_options(const Options& opts) {
    std::string s;
    for (const Option& o : opts.entries()) {
        s += ' ' + escape(o.name, true) + '=' + escape(o.value, true);
    }
    return s;
}

}  // namespace

Result<Packet> decode(std::span<const std::uint8_t> b) {
    if (b.size() < 2) return fail(Errc::truncated, "packet shorter than an opcode");
    if (b.size() > kMaxPacketSize) {
        return fail(Errc::unsupported, "packet of " + std::to_string(b.size()) + " bytes exceeds " +
                                           std::to_string(kMaxPacketSize));
    }
    std::uint16_t op = be16(b, 0);
    switch (static_cast<Opcode>(op)) {
        case Opcode::rrq:
            return decode_request<Opcode::rrq>(b);
        case Opcode::wrq:
            return decode_request<Opcode::wrq>(b);
        case Opcode::data: {
            if (b.size() < 4) return fail(Errc::truncated, "DATA shorter than 4 bytes");
            return Packet{Data{be16(b, 2), {b.begin() + 4, b.end()}}};
        }
        case Opcode::ack:
            if (b.size() < 4) return fail(Errc::truncated, "ACK shorter than 4 bytes");
            if (b.size() > 4) return fail(Errc::corrupted, "ACK longer than 4 bytes");
            return Packet{Ack{be16(b, 2)}};
        case Opcode::error:
            return decode_error(b);
        case Opcode::oack: {
            FieldReader r(b, 2);
            auto options = read_options(r, /*allow_padding=*/false);
            if (!options) return options.error();
            if (options->empty()) return fail(Errc::corrupted, "OACK without options");
            return Packet{OptionAck{std::move(*options)}};
        }
    }
    return fail(Errc::unsupported, "unknown opcode " + std::to_string(op));
}

void encode_into(const Packet& packet, std::vector<std::uint8_t>& out) {
    put16(out, static_cast<std::uint16_t>(opcode_of(packet)));
    auto put_options = [&](const Options& opts) {
        for (const Option& o : opts.entries()) {
            put_cstring(out, o.name);
            put_cstring(out, o.value);
        }
    };
    std::visit(Overload{
                   [&]<Opcode Op>(const Request<Op>& r) {
                       put_cstring(out, r.filename);
                       put_cstring(out, r.mode);
                       put_options(r.options);
                   },
                   [&](const Data& d) {
                       put16(out, d.block);
                       out.insert(out.end(), d.payload.begin(), d.payload.end());
                   },
                   [&](const Ack& a) { put16(out, a.block); },
                   [&](const ErrorPacket& e) {
                       put16(out, static_cast<std::uint16_t>(e.code));
                       put_cstring(out, e.message);
                   },
                   [&](const OptionAck& o) { put_options(o.options); },
               },
               packet);
}

std::vector<std::uint8_t> encode(const Packet& packet) {
    std::vector<std::uint8_t> out;
    encode_into(packet, out);
    return out;
}

Opcode opcode_of(const Packet& packet) {
    static constexpr Opcode kByIndex[] = {Opcode::rrq, Opcode::wrq,   Opcode::data,
                                          Opcode::ack, Opcode::error, Opcode::oack};
    return kByIndex[packet.index()];
}

std::string sanitize(std::string_view text) { return escape(text, false); }

std::string describe(const Packet& packet) {
    return std::visit(Overload{
                          []<Opcode Op>(const Request<Op>& r) {
                              return std::string(Op == Opcode::rrq ? "RRQ" : "WRQ") + " file=\"" +
                                     sanitize(r.filename) + "\" mode=\"" + sanitize(r.mode) + "\"" +
                                     describe_options(r.options);
                          },
                          [](const Data& d) {
                              std::size_t n = std::min<std::size_t>(d.payload.size(), 16);
                              return "DATA block=" + std::to_string(d.block) +
                                     " len=" + std::to_string(d.payload.size()) +
                                     " head=" + to_hex(std::span(d.payload).first(n));
                          },
                          [](const Ack& a) { return "ACK block=" + std::to_string(a.block); },
                          [](const ErrorPacket& e) {
                              return "ERROR code=" + std::to_string(static_cast<unsigned>(e.code)) +
                                     " message=\"" + sanitize(e.message) + "\"";
                          },
                          [](const OptionAck& o) { return "OACK" + describe_options(o.options); },
                      },
                      packet);
}

ErrorCode error_code_for(Errc code) {
    switch (code) {
        case Errc::not_found:
            return ErrorCode::file_not_found;
        case Errc::invalid:
            return ErrorCode::access_violation;
        case Errc::unsupported:
            return ErrorCode::illegal_operation;
        case Errc::exists:
            return ErrorCode::file_exists;
        default:
            return ErrorCode::not_defined;
    }
}

}  // namespace pib::tftp
