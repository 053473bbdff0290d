// libFuzzer target for the DHCP core (STYLE.md rule 3). Whatever arrives on
// port 67 or 4011 goes through decode(); a packet that decodes must survive
// encode() + decode() unchanged, and the rest of the pipeline (typed getters,
// classify, the proxy reply, describe) must take it without a crash.
// Seed corpus: fuzz/corpus/dhcp (the fixtures of tests/dhcp/data).
#include <cstddef>
#include <cstdint>
#include <span>

#include "dhcp/describe.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"
#include "dhcp/proxy_reply.hpp"
#include "dhcp/pxe.hpp"

using namespace pib::dhcp;

namespace {

// Touches every typed getter; results are ignored, only crashes count.
void read_options(const Options& o) {
    (void)message_type(o);
    (void)server_id(o);
    (void)parameter_request_list(o);
    (void)max_message_size(o);
    (void)vendor_class(o);
    (void)user_classes(o);
    (void)client_arch(o);
    (void)client_ndi(o);
    (void)client_guid(o);
    (void)vendor_options(o);
    (void)pxe_boot_item(o);
    (void)ipxe_options(o);
}

void answer(const DhcpPacket& p) {
    auto c = classify(p);
    if (!c) return;
    BootDecision d;
    d.pi_menu = c->kind == ClientKind::raspberry_pi;
    d.boot_file = "http://10.0.0.1/boot.ipxe";
    for (ProxyPort port : {ProxyPort::dhcp, ProxyPort::boot_server}) {
        auto r = build_proxy_reply(p, *c, d, ReplyContext{Ipv4{10, 0, 0, 1}, port});
        if (!r) continue;
        if (r->yiaddr != Ipv4{}) __builtin_trap();  // a proxy never hands out an address
        auto back = decode(encode(*r));
        if (!back || !(*back == *r)) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> in(data, size);
    (void)decode_suboptions(in);
    auto p = decode(in);
    if (!p) return 0;
    const auto bytes = encode(*p);
    auto again = decode(bytes);
    if (!again || !(*again == *p)) __builtin_trap();  // round trip must be exact
    read_options(p->options);
    (void)describe(*p);
    answer(*p);
    return 0;
}
