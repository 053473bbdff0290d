#include "dhcp/describe.hpp"

#include <algorithm>
#include <cstdio>

#include "common/hex.hpp"
#include "dhcp/options.hpp"
#include "dhcp/pxe.hpp"

namespace pib::dhcp {
namespace {

// Printable ASCII as is, anything else as \xNN, in double quotes.
std::string quoted(std::span<const std::uint8_t> bytes) {
    std::string s = "\"";
    for (std::uint8_t c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            s += static_cast<char>(c);
        } else {
            char buf[5];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            s += buf;
        }
    }
    return s + "\"";
}

// A fixed NUL-terminated field; bytes after the terminator are shown in hex
// so that a dump never hides data.
std::string field(std::span<const std::uint8_t> f) {
    auto nul = std::find(f.begin(), f.end(), std::uint8_t{0});
    const auto text = f.first(static_cast<std::size_t>(nul - f.begin()));
    std::string s = quoted(text);
    const auto rest = f.subspan(text.size());
    if (std::any_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; })) {
        s += " +" + to_hex(rest);
    }
    return s;
}

std::string numbers(std::span<const std::uint8_t> v) {
    std::string s;
    for (std::uint8_t b : v) s += (s.empty() ? "" : " ") + std::to_string(b);
    return s;
}

std::string arch_name(std::uint16_t a) {
    switch (a) {
        case arch::x86_bios:
            return "x86 BIOS";
        case 6:
            return "EFI IA32";
        case arch::efi_bc:
            return "EFI BC";
        case arch::efi_x64:
            return "EFI x86-64";
        case 10:
            return "EFI ARM32";
        case arch::efi_arm64:
            return "EFI ARM64";
        case arch::efi_x64_http:
            return "EFI x86-64 HTTP";
        case arch::efi_arm64_http:
            return "EFI ARM64 HTTP";
    }
    return "?";
}

std::string suboptions(const Result<Options>& sub) {
    if (!sub) return "malformed";
    std::string s;
    for (const Option& o : *sub) {
        s += (s.empty() ? "" : " ") + std::to_string(o.code) + "=" + to_hex(o.data);
    }
    return s.empty() ? "(none)" : s;
}

// The typed text of one option, or "" to fall back to hex.
std::string typed(const Options& all, const Option& o) {
    switch (o.code) {
        case code::message_type:
            if (auto t = message_type(all)) return "message-type " + message_type_name(*t);
            break;
        case code::server_id:
            if (auto a = server_id(all)) return "server-id " + to_string(*a);
            break;
        case code::parameter_request:
            return "parameter-request-list " + numbers(o.data);
        case code::max_message_size:
            if (auto m = max_message_size(all)) return "max-message-size " + std::to_string(*m);
            break;
        case code::vendor_class:
            return "vendor-class " + quoted(o.data);
        case code::tftp_server_name:
            return "tftp-server-name " + quoted(o.data);
        case code::bootfile_name:
            return "bootfile-name " + quoted(o.data);
        case code::user_class:
            if (auto uc = user_classes(all)) {
                std::string s = "user-class";
                for (const std::string& c : *uc) {
                    s += " " + quoted({reinterpret_cast<const std::uint8_t*>(c.data()), c.size()});
                }
                return s;
            }
            break;
        case code::client_arch:
            if (auto a = client_arch(all)) {
                std::string s = "client-arch";
                for (std::uint16_t v : *a) s += " " + std::to_string(v) + " (" + arch_name(v) + ")";
                return s;
            }
            break;
        case code::client_ndi:
            if (auto n = client_ndi(all)) {
                return "client-ndi type=" + std::to_string(n->type) + " " +
                       std::to_string(n->major) + "." + std::to_string(n->minor);
            }
            break;
        case code::client_guid:
            if (auto g = client_guid(all)) {
                std::string s = "client-guid type=" + std::to_string(g->type) + " " + to_hex(g->id);
                if (auto pi = pi_guid(*g)) {
                    char buf[64];
                    std::snprintf(buf, sizeof buf, " (%s rev=%08x serial=%08x)", pi->model.c_str(),
                                  pi->board_revision, pi->serial);
                    s += buf;
                }
                return s;
            }
            break;
        case code::vendor_specific:
            return "vendor-specific " + suboptions(decode_suboptions(o.data));
        case code::ipxe_encap:
            return "ipxe " + suboptions(decode_suboptions(o.data));
    }
    return "";
}

}  // namespace

std::string colon_hex(std::span<const std::uint8_t> bytes) {
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        s += (i ? ":" : "") + to_hex(bytes.subspan(i, 1));
    }
    return s;
}

std::string describe(const DhcpPacket& p) {
    char buf[160];
    std::string s;
    std::snprintf(buf, sizeof buf,
                  "op=%u htype=%u hlen=%u hops=%u xid=0x%08x secs=%u flags=0x%04x\n", p.op, p.htype,
                  p.hlen, p.hops, p.xid, p.secs, p.flags);
    s += buf;
    s += "ciaddr=" + to_string(p.ciaddr) + " yiaddr=" + to_string(p.yiaddr) +
         " siaddr=" + to_string(p.siaddr) + " giaddr=" + to_string(p.giaddr) + "\n";
    s += "chaddr=" + colon_hex(hardware_address(p));
    const auto rest = std::span<const std::uint8_t>(p.chaddr).subspan(hardware_address(p).size());
    if (std::any_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b != 0; })) {
        s += " +" + to_hex(rest);
    }
    s += "\nsname=" + field(p.sname) + "\nfile=" + field(p.file) + "\n";
    for (const Option& o : p.options) {
        std::string text = typed(p.options, o);
        if (text.empty()) text = "len=" + std::to_string(o.data.size()) + " " + to_hex(o.data);
        s += "option " + std::to_string(o.code) + " " + text + "\n";
    }
    return s;
}

}  // namespace pib::dhcp
