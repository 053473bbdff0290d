// Golden dumps (STYLE.md rule 3): every fixture decodes to its checked-in
// readable dump, and the reply netbootd builds for every request fixture
// matches its dump. PIB_UPDATE_GOLDEN=1 rewrites them; review the diff.
#include <gtest/gtest.h>

#include "dhcp/describe.hpp"
#include "dhcp/proxy_reply.hpp"
#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::expect_golden;
using test::load_packet;

// A stand-in for netbootd's policy: one answer per kind of client.
BootDecision decide(const ClientInfo& c) {
    BootDecision d;
    switch (c.kind) {
        case ClientKind::raspberry_pi:
            d.pi_menu = true;
            break;
        case ClientKind::bios_pxe:
            d.boot_file = "undionly.kpxe";
            break;
        case ClientKind::uefi_x64:
            d.boot_file = "ipxe.efi";
            break;
        case ClientKind::uefi_arm64:
            d.boot_file = "ipxe-arm64.efi";
            break;
        case ClientKind::ipxe:
            d.boot_file = "http://10.99.0.1:8080/ipxe/node.ipxe";
            break;
        case ClientKind::uefi_http:
            d.boot_file = "http://10.99.0.1:8080/boot/bootx64.efi";
            break;
        case ClientKind::other_pxe:
        case ClientKind::not_pxe:
            break;
    }
    return d;
}

TEST(DhcpGolden, FixturesDecodeToTheirDumps) {
    for (const std::string& name : test::kFixtures) {
        SCOPED_TRACE(name);
        expect_golden(name + ".txt", describe(load_packet(name)));
    }
}

TEST(DhcpGolden, RepliesMatchTheirDumps) {
    for (const std::string& name : test::kFixtures) {
        const DhcpPacket req = load_packet(name);
        if (req.op != kBootRequest) continue;
        SCOPED_TRACE(name);
        auto c = classify(req);
        ASSERT_TRUE(c.ok()) << c.error().message;
        const ReplyContext ctx{Ipv4{10, 99, 0, 1}, c->message_type == MessageType::discover
                                                       ? ProxyPort::dhcp
                                                       : ProxyPort::boot_server};
        auto r = build_proxy_reply(req, *c, decide(*c), ctx);
        ASSERT_TRUE(r.ok()) << r.error().message;
        expect_golden(name + ".reply.txt",
                      std::string("# kind=") + kind_name(c->kind) + "\n" + describe(*r));
    }
}

TEST(DhcpGolden, DescribeShowsHiddenBytes) {
    DhcpPacket p;
    p.hlen = 6;
    p.chaddr[10] = 0xaa;  // beyond hlen
    set_field_string(p.file, "a\"b");
    p.file[20] = 0x01;  // after the terminator
    p.options.set(200, std::vector<std::uint8_t>{1, 2});
    p.options.set(53, std::vector<std::uint8_t>{9, 9});  // malformed: falls back to hex
    const std::string s = describe(p);
    EXPECT_NE(s.find("chaddr=00:00:00:00:00:00 +00000000aa"), std::string::npos) << s;
    EXPECT_NE(s.find("file=\"a\\x22b\" +"), std::string::npos) << s;
    EXPECT_NE(s.find("option 200 len=2 0102"), std::string::npos) << s;
    EXPECT_NE(s.find("option 53 len=2 0909"), std::string::npos) << s;
}

}  // namespace
}  // namespace pib::dhcp
