// Internal to pib_inventory: the syntax of single values in nodes.yaml. Each
// check returns "" when the text is fine, else what is wrong ("must be ...").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "inventory/inventory.hpp"

namespace pib::inventory {

std::string check_node_name(std::string_view s);
/// RFC 1123 host name or FQDN.
std::string check_hostname(std::string_view s);
std::string check_serial(std::string_view s);
std::string check_mac(std::string_view s);
std::string check_channel(std::string_view s);
/// As netbootd's config: release ids are directory names below <store>/releases.
std::string check_release_id(std::string_view s);
std::string check_ipv4(std::string_view s);
/// A host address with its prefix, `192.168.1.50/24`.
std::string check_host_cidr(std::string_view s);
std::string check_owner(std::string_view s);
std::string check_single_line(std::string_view s);
/// An fstab field: non-empty, no white space (fstab(5) separates fields by it).
std::string check_fstab_field(std::string_view s);
std::string check_mountpoint(std::string_view s);
std::string check_source(std::string_view s);
std::string check_label_key(std::string_view s);
/// An authorized_keys line: [options] type base64 [comment], the key data
/// decoding to a blob that names the same type (a truncated paste fails).
std::string check_authorized_key(std::string_view s);

std::optional<Ipv4> parse_ipv4(std::string_view s);
std::string ipv4_text(Ipv4 a);
/// `a.b.c.d/n`; the address keeps its host bits.
std::optional<StaticNetwork> parse_host_cidr(std::string_view s);
/// Octal digits, "644" or "0644" (at most 07777), as recipes read modes.
std::optional<unsigned> parse_mode(std::string_view s);

/// An overlay file path made normal (`//` and `/./` collapsed), or what is wrong with it.
struct NormalPath {
    std::string path;
    std::string problem;
};
NormalPath normalise_file_path(std::string_view s);

}  // namespace pib::inventory
