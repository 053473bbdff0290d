#include "dhcp/options.hpp"

#include <algorithm>
#include <optional>

namespace pib::dhcp {
namespace {

std::string name_of(std::uint8_t c) { return "option " + std::to_string(c); }

// The value of option `c`, or not_found.
Result<std::span<const std::uint8_t>> value_of(const Options& o, std::uint8_t c) {
    const std::vector<std::uint8_t>* v = o.find(c);
    if (!v) return fail(Errc::not_found, "dhcp: " + name_of(c) + " absent");
    return std::span<const std::uint8_t>(*v);
}

Error bad_length(std::uint8_t c, std::size_t got, const char* want) {
    return fail(Errc::corrupted, "dhcp: " + name_of(c) + " has length " + std::to_string(got) +
                                     ", expected " + want);
}

// The value of option `c` when its length is exactly `n`.
Result<std::span<const std::uint8_t>> fixed(const Options& o, std::uint8_t c, std::size_t n,
                                            const char* want) {
    auto v = value_of(o, c);
    if (!v) return v.error();
    if (v->size() != n) return bad_length(c, v->size(), want);
    return v;
}

// RFC 3004 §2: a sequence of UC_Len_i (>= 1) + data; nullopt when the value
// does not parse that way.
std::optional<std::vector<std::string>> rfc3004_classes(std::span<const std::uint8_t> v) {
    std::vector<std::string> out;
    std::size_t i = 0;
    while (i < v.size()) {
        const std::size_t len = v[i];
        if (len == 0 || i + 1 + len > v.size()) return std::nullopt;
        out.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(i + 1),
                         v.begin() + static_cast<std::ptrdiff_t>(i + 1 + len));
        i += 1 + len;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

}  // namespace

std::string message_type_name(MessageType t) {
    switch (t) {
        case MessageType::discover:
            return "DHCPDISCOVER";
        case MessageType::offer:
            return "DHCPOFFER";
        case MessageType::request:
            return "DHCPREQUEST";
        case MessageType::decline:
            return "DHCPDECLINE";
        case MessageType::ack:
            return "DHCPACK";
        case MessageType::nak:
            return "DHCPNAK";
        case MessageType::release:
            return "DHCPRELEASE";
        case MessageType::inform:
            return "DHCPINFORM";
    }
    return "DHCP(" + std::to_string(static_cast<unsigned>(t)) + ")";
}

Result<MessageType> message_type(const Options& o) {
    auto v = fixed(o, code::message_type, 1, "1");
    if (!v) return v.error();
    if ((*v)[0] == 0) return fail(Errc::corrupted, "dhcp: option 53 is 0, not a message type");
    return static_cast<MessageType>((*v)[0]);
}

Result<Ipv4> server_id(const Options& o) {
    auto v = fixed(o, code::server_id, 4, "4");
    if (!v) return v.error();
    return Ipv4{(*v)[0], (*v)[1], (*v)[2], (*v)[3]};
}

Result<std::vector<std::uint8_t>> parameter_request_list(const Options& o) {
    auto v = value_of(o, code::parameter_request);
    if (!v) return v.error();
    if (v->empty()) return bad_length(code::parameter_request, 0, "at least 1");
    return std::vector<std::uint8_t>(v->begin(), v->end());
}

Result<std::uint16_t> max_message_size(const Options& o) {
    auto v = fixed(o, code::max_message_size, 2, "2");
    if (!v) return v.error();
    const auto size = static_cast<std::uint16_t>((*v)[0] << 8 | (*v)[1]);
    if (size < 576) {
        return fail(Errc::corrupted,
                    "dhcp: option 57 is " + std::to_string(size) + ", below the minimum 576");
    }
    return size;
}

Result<std::string> vendor_class(const Options& o) {
    auto v = value_of(o, code::vendor_class);
    if (!v) return v.error();
    if (v->empty()) return bad_length(code::vendor_class, 0, "at least 1");
    return std::string(v->begin(), v->end());
}

Result<std::vector<std::string>> user_classes(const Options& o) {
    auto v = value_of(o, code::user_class);
    if (!v) return v.error();
    if (v->empty()) return bad_length(code::user_class, 0, "at least 1");
    // iPXE (src/net/udp/dhcp.c, DHCP_USER_CLASS_ID) sends "iPXE" without the
    // RFC 3004 length prefix; 'i' (105) as a length overruns, so it lands here.
    if (auto classes = rfc3004_classes(*v)) return *classes;
    return std::vector<std::string>{std::string(v->begin(), v->end())};
}

Result<std::vector<std::uint16_t>> client_arch(const Options& o) {
    auto v = value_of(o, code::client_arch);
    if (!v) return v.error();
    // RFC 4578 §2.1: "It MUST be an even number greater than zero."
    if (v->empty() || v->size() % 2) return bad_length(code::client_arch, v->size(), "even, >= 2");
    std::vector<std::uint16_t> out;
    for (std::size_t i = 0; i < v->size(); i += 2) {
        out.push_back(static_cast<std::uint16_t>((*v)[i] << 8 | (*v)[i + 1]));
    }
    return out;
}

Result<ClientNdi> client_ndi(const Options& o) {
    auto v = fixed(o, code::client_ndi, 3, "3");
    if (!v) return v.error();
    return ClientNdi{(*v)[0], (*v)[1], (*v)[2]};
}

Result<ClientGuid> client_guid(const Options& o) {
    auto v = fixed(o, code::client_guid, 17, "17");
    if (!v) return v.error();
    ClientGuid g;
    g.type = (*v)[0];
    std::copy(v->begin() + 1, v->end(), g.id.begin());
    return g;
}

Result<Options> vendor_options(const Options& o) {
    auto v = value_of(o, code::vendor_specific);
    if (!v) return v.error();
    return decode_suboptions(*v);
}

Result<PxeBootItem> pxe_boot_item(const Options& o) {
    auto sub = vendor_options(o);
    if (!sub) return sub.error();
    auto v = fixed(*sub, pxe_sub::boot_item, 4, "4");
    if (!v) return fail(v.error().code, "dhcp: PXE boot item (43/71): " + v.error().message);
    return PxeBootItem{static_cast<std::uint16_t>((*v)[0] << 8 | (*v)[1]),
                       static_cast<std::uint16_t>((*v)[2] << 8 | (*v)[3])};
}

Result<Options> ipxe_options(const Options& o) {
    auto v = value_of(o, code::ipxe_encap);
    if (!v) return v.error();
    return decode_suboptions(*v);
}

void set_message_type(Options& o, MessageType t) {
    o.set(code::message_type, std::vector<std::uint8_t>{static_cast<std::uint8_t>(t)});
}

void set_server_id(Options& o, const Ipv4& addr) {
    o.set(code::server_id, std::vector<std::uint8_t>(addr.begin(), addr.end()));
}

void set_parameter_request_list(Options& o, std::span<const std::uint8_t> codes) {
    o.set(code::parameter_request, std::vector<std::uint8_t>(codes.begin(), codes.end()));
}

void set_max_message_size(Options& o, std::uint16_t size) {
    o.set(code::max_message_size, std::vector<std::uint8_t>{static_cast<std::uint8_t>(size >> 8),
                                                            static_cast<std::uint8_t>(size)});
}

void set_vendor_class(Options& o, std::string_view text) { o.set(code::vendor_class, text); }

void set_user_classes(Options& o, std::span<const std::string> classes) {
    std::vector<std::uint8_t> v;
    for (const std::string& c : classes) {
        const std::size_t n = std::min<std::size_t>(c.size(), 255);
        if (n == 0) continue;  // RFC 3004 §2: UC_Len_i is at least 1
        v.push_back(static_cast<std::uint8_t>(n));
        v.insert(v.end(), c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n));
    }
    o.set(code::user_class, std::move(v));
}

void set_client_arch(Options& o, std::span<const std::uint16_t> arch) {
    std::vector<std::uint8_t> v;
    for (std::uint16_t a : arch) {
        v.push_back(static_cast<std::uint8_t>(a >> 8));
        v.push_back(static_cast<std::uint8_t>(a));
    }
    o.set(code::client_arch, std::move(v));
}

void set_client_ndi(Options& o, const ClientNdi& ndi) {
    o.set(code::client_ndi, std::vector<std::uint8_t>{ndi.type, ndi.major, ndi.minor});
}

void set_client_guid(Options& o, const ClientGuid& guid) {
    std::vector<std::uint8_t> v{guid.type};
    v.insert(v.end(), guid.id.begin(), guid.id.end());
    o.set(code::client_guid, std::move(v));
}

void set_vendor_options(Options& o, const Options& sub) {
    o.set(code::vendor_specific, encode_suboptions(sub));
}

void set_ipxe_options(Options& o, const Options& sub) {
    o.set(code::ipxe_encap, encode_suboptions(sub));
}

void set_tftp_server_name(Options& o, std::string_view name) {
    o.set(code::tftp_server_name, name);
}

void set_bootfile_name(Options& o, std::string_view name) { o.set(code::bootfile_name, name); }

}  // namespace pib::dhcp
