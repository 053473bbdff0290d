// libFuzzer target for the netbootd config parser (STYLE.md rules 3 and 8).
// Any text must come back as a validated NetbootdConfig or as Errc::invalid
// with at least one `file:line:col` diagnostic inside the text; a config that
// is accepted must hold every promise docs/netbootd.md makes about it (the
// cross-key checks of config.cpp). check_files is off, so nothing on disk is
// read: the fuzzer exercises the text, not the machine.
// Seed corpus: fuzz/corpus/netbootd_config (docs/examples/netbootd.yaml and
// the smallest configs of docs/netbootd.md).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "diag_check.hpp"
#include "netbootd/config.hpp"

using namespace pib::netbootd;

namespace {

using pib::fuzz::check;

void check_config(const NetbootdConfig& c) {
    const auto& l = c.listen;
    check(!l.interface.empty() || l.address.has_value());
    check(l.tftp_port != 0 && l.http_port != 0);
    if (l.address) check(!l.http_base_url.empty());
    if (!l.http_base_url.empty()) check(l.http_base_url.back() != '/');
    check(!c.store.empty() && c.store.is_absolute());
    check(c.public_key.is_absolute());
    if (c.inventory) check(c.inventory->is_absolute());

    if (c.dhcp.mode == DhcpMode::proxy) {
        check(!c.dhcp.pool);  // proxy mode never hands out addresses
    } else {
        check(c.dhcp.pool && l.address);
        const DhcpPool& p = *c.dhcp.pool;
        check((~p.netmask & (~p.netmask + 1)) == 0);  // ones then zeros
        const Ipv4 net = *l.address & p.netmask;
        check((p.start & p.netmask) == net && (p.end & p.netmask) == net);
        check(p.start <= p.end);
        check(*l.address < p.start || *l.address > p.end);
        if (p.router) check((*p.router & p.netmask) == net);
        check(p.lease_time >= 60 && p.leases_file.is_absolute());
    }

    check(c.tftp.max_blksize >= 8 && c.tftp.max_blksize <= 65464);
    check(c.tftp.timeout_s >= 1 && c.tftp.timeout_s <= 255);
    check(c.tftp.retries <= 20);
    if (c.tftp.default_release) {
        const std::string& id = *c.tftp.default_release;
        check(!id.empty() && id.front() != '.' && id.find('/') == std::string::npos);
    }

    if (c.nfs.enabled) check(c.nfs.subnet.has_value());
    if (c.nfs.subnet) {
        check(c.nfs.subnet->prefix >= 0 && c.nfs.subnet->prefix <= 32);
        check((c.nfs.subnet->network & ~c.nfs.subnet->mask()) == 0);  // no host bits
    }
    check(!c.nfs.export_dir.empty());

    // Addresses print as text that parses back to the same address.
    for (auto a : {l.address, c.dhcp.pool ? std::optional<Ipv4>(c.dhcp.pool->start) : std::nullopt})
        if (a) check(parse_ipv4(ipv4_string(*a)) == a);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)parse_ipv4(text.substr(0, 32));

    pib::Diagnostics diags;
    NetbootdConfigOptions options;
    options.check_files = false;  // the fuzzer never looks at the disk
    auto c = parse_netbootd_config(text, "netbootd.yaml", diags, options);
    if (!pib::fuzz::check_outcome(c, diags, text, "netbootd.yaml")) return 0;
    check_config(*c);
    return 0;
}
