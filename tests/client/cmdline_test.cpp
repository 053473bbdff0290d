// Kernel command line parsing for pib-init.
#include "client/cmdline.hpp"

#include <gtest/gtest.h>

namespace pib::client {
namespace {

TEST(Cmdline, ParsesEveryParameter) {
    auto p = parse_cmdline(
        "BOOT_IMAGE=/vmlinuz console=ttyS0,115200 pib.server=http://10.0.0.1:8080/ "
        "pib.release=demo-x86-1.0-65e017c49d9f "
        "pib.node=pc-01 pib.root=http pib.iface=eth1 pib.modules=virtio_net,loop,,squashfs "
        "pib.debug "
        "ip=10.0.0.5::10.0.0.1:255.255.0.0:pc-01:eth0:off init=/lib/systemd/systemd quiet\n");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->server, "http://10.0.0.1:8080");
    EXPECT_EQ(p->release, "demo-x86-1.0-65e017c49d9f");
    EXPECT_EQ(p->node, "pc-01");
    EXPECT_EQ(p->root, RootSource::http);
    EXPECT_EQ(p->iface, "eth1");
    EXPECT_EQ(p->modules, (std::vector<std::string>{"virtio_net", "loop", "squashfs"}));
    EXPECT_TRUE(p->debug);
    EXPECT_EQ(p->init, "/lib/systemd/systemd");
    ASSERT_TRUE(p->ip.has_value());
    EXPECT_EQ(p->ip->address, (std::array<std::uint8_t, 4>{10, 0, 0, 5}));
    EXPECT_EQ(p->ip->gateway, (std::array<std::uint8_t, 4>{10, 0, 0, 1}));
    EXPECT_EQ(p->ip->netmask, (std::array<std::uint8_t, 4>{255, 255, 0, 0}));
    EXPECT_EQ(p->ip->hostname, "pc-01");
    EXPECT_EQ(p->ip->device, "eth0");
}

TEST(Cmdline, DefaultsAndUnknownWordsIgnored) {
    auto p = parse_cmdline(
        "ro quiet splash foo.bar=1 pib.unknown=x pib.server=http://192.168.1.2 pib.release=r-1-a");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->server, "http://192.168.1.2");
    EXPECT_EQ(p->node, "");
    EXPECT_EQ(p->root, RootSource::http);
    EXPECT_FALSE(p->ip.has_value());
    EXPECT_FALSE(p->debug);
    EXPECT_EQ(p->init, "/sbin/init");
    EXPECT_TRUE(p->modules.empty());
}

TEST(Cmdline, QuotingGroupsWordsLikeTheKernel) {
    EXPECT_EQ(split_cmdline(R"(a "b c" d="e f"  g=h"i j")"),
              (std::vector<std::string>{"a", "b c", "d=e f", "g=hi j"}));
    auto p = parse_cmdline(R"(pib.server="http://10.0.0.1" "pib.release=r-1-a" pib.node="n1")");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->server, "http://10.0.0.1");
    EXPECT_EQ(p->release, "r-1-a");
    EXPECT_EQ(p->node, "n1");
}

TEST(Cmdline, WordsAfterDoubleDashBelongToInit) {
    auto p = parse_cmdline(
        "pib.server=http://10.0.0.1 pib.release=r-1-a -- pib.node=not-me --firecracker-init");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->node, "");
}

TEST(Cmdline, BakedWordsComeFirstAndTheKernelOverrides) {
    const std::string line =
        effective_cmdline("pib.server=http://10.0.0.1\npib.release=baked-1-a \"pib.node=a b\"\n",
                          "quiet pib.release=kernel-1-a");
    EXPECT_EQ(split_cmdline(line),
              (std::vector<std::string>{"pib.server=http://10.0.0.1", "pib.release=baked-1-a",
                                        "pib.node=a b", "quiet", "pib.release=kernel-1-a"}));
    auto p = parse_cmdline(
        effective_cmdline("pib.server=http://10.0.0.1 pib.release=baked-1-a", "pib.release=k-1-a"));
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->release, "k-1-a");
    EXPECT_EQ(effective_cmdline("", "x y"), "x y");
}

TEST(Cmdline, DhcpFormsOfIp) {
    for (const char* v : {"dhcp", "on", "any", "off", "none", "", "::::pc:eth0:dhcp"}) {
        auto ip = parse_ip_param(v);
        ASSERT_TRUE(ip.ok()) << v;
        EXPECT_FALSE(ip->has_value()) << v;
    }
    auto ip = parse_ip_param("10.1.2.3");
    ASSERT_TRUE(ip.ok());
    ASSERT_TRUE(ip->has_value());
    EXPECT_EQ((*ip)->netmask, (std::array<std::uint8_t, 4>{255, 255, 255, 0}));
    EXPECT_EQ((*ip)->gateway, (std::array<std::uint8_t, 4>{}));
}

TEST(Cmdline, NfsIsParsed) {
    auto p = parse_cmdline(
        "pib.server=http://10.0.0.1 pib.release=r-1-a pib.root=nfs "
        "pib.nfs=10.0.0.1:/srv/releases/r");
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->root, RootSource::nfs);
    EXPECT_EQ(p->nfs, "10.0.0.1:/srv/releases/r");
}

TEST(Cmdline, ReportsEveryProblem) {
    auto p = parse_cmdline(
        "pib.server=https://example.org pib.node=../x pib.root=tftp ip=10.0.0.300 init=sbin/init");
    ASSERT_FALSE(p.ok());
    const std::string& m = p.error().message;
    for (const char* part : {"pib.server: must start with http://", "pib.release: missing",
                             "pib.node:", "pib.root: must be http or nfs", "ip: client address",
                             "init: must be an absolute"})
        EXPECT_NE(m.find(part), std::string::npos) << part << " in " << m;
    EXPECT_FALSE(parse_cmdline("pib.server=http://server.lan pib.release=r").ok());  // no resolver
    EXPECT_FALSE(parse_cmdline("pib.server=http://10.0.0.1:0 pib.release=r").ok());
    EXPECT_FALSE(parse_cmdline("pib.server=http://10.0.0.1 pib.release=r pib.root=nfs").ok());
    EXPECT_FALSE(parse_cmdline("pib.server=http://10.0.0.1 pib.release=r pib.nfs=nocolon").ok());
}

}  // namespace
}  // namespace pib::client
