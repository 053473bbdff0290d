// pib-init's DHCP client (--test-dhcp: step 3 alone) against real dnsmasq in
// network namespaces this test creates and always removes.
#include <gtest/gtest.h>

#include "netbootd/netns.hpp"
#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using namespace std::chrono_literals;

TEST(PibInitDhcp, LeaseFromDnsmasqConfiguresAddressAndRoute) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    ASSERT_TRUE(fs::exists(pib_init())) << pib_init();
    pib::test::TempDir tmp;
    netbootd::test::NetnsGuard ns("pibinit");
    std::string why;
    ASSERT_TRUE(ns.add("s", why)) << why;
    ASSERT_TRUE(ns.add("c", why)) << why;
    ASSERT_TRUE(ns.link("s", "srv0", "10.215.0.1/24", "c", "eth0", "", why)) << why;
    // The client's interface starts down: pib-init brings it up itself.
    ASSERT_EQ(pib::test::run({"ip", "-n", ns.name("c"), "link", "set", "eth0", "down"}), 0);
    Background dnsmasq(
        {"ip", "netns", "exec", ns.name("s"), "timeout", "120", "dnsmasq", "--no-daemon",
         "--port=0", "--interface=srv0", "--bind-interfaces",
         "--dhcp-range=10.215.0.100,10.215.0.150,1h", "--dhcp-option=option:router,10.215.0.254",
         "--dhcp-leasefile=" + (tmp / "leases").string(), "--conf-file=/dev/null", "--user=root",
         "--no-ping", "--log-dhcp"},
        tmp / "dnsmasq.log");
    ASSERT_TRUE(wait_for_listener(ns.name("s"), "udp", 67, "dnsmasq"))
        << pib::test::read_text(tmp / "dnsmasq.log");

    Ran r = run_split({"ip", "netns", "exec", ns.name("c"), pib_init().string(), "--test-dhcp",
                       "eth0", "--tries", "8", "--configure"},
                      tmp.path());
    ASSERT_EQ(r.rc, 0) << r.err << "\n" << pib::test::read_text(tmp / "dnsmasq.log");
    EXPECT_EQ(r.out.rfind("lease address=10.215.0.1", 0), 0u) << r.out;
    EXPECT_NE(r.out.find(" netmask=255.255.255.0 router=10.215.0.254 server=10.215.0.1 lease=3600"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.err.find("pib-init: dhcp: sent DHCPDISCOVER (attempt 1)"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("pib-init: dhcp: bound address=10.215.0.1"), std::string::npos) << r.err;
    const std::string address = r.out.substr(14, r.out.find(' ', 14) - 14);

    std::string addr_show, routes;
    pib::test::run({"ip", "-n", ns.name("c"), "-4", "addr", "show", "eth0"}, &addr_show);
    EXPECT_NE(addr_show.find("inet " + address + "/24"), std::string::npos) << addr_show;
    pib::test::run({"ip", "-n", ns.name("c"), "-4", "route"}, &routes);
    EXPECT_NE(routes.find("default via 10.215.0.254 dev eth0"), std::string::npos) << routes;
    // dnsmasq recorded the lease for our MAC: the REQUEST was the one it offered.
    EXPECT_NE(pib::test::read_text(tmp / "leases").find(address), std::string::npos);
}

TEST(PibInitDhcp, NoServerGivesUpAfterBackoff) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    pib::test::TempDir tmp;
    netbootd::test::NetnsGuard ns("pibinit0");
    std::string why;
    ASSERT_TRUE(ns.add("s", why)) << why;
    ASSERT_TRUE(ns.add("c", why)) << why;
    ASSERT_TRUE(ns.link("s", "srv0", "10.216.0.1/24", "c", "eth0", "", why)) << why;
    auto t0 = std::chrono::steady_clock::now();
    Ran r = run_split({"ip", "netns", "exec", ns.name("c"), pib_init().string(), "--test-dhcp",
                       "eth0", "--tries", "3"},
                      tmp.path());
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("waiting 1 s for an offer"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("waiting 2 s for an offer"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("waiting 4 s for an offer"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("no DHCP lease after 3 transmissions"), std::string::npos) << r.err;
    EXPECT_GT(secs, 6.5);
    EXPECT_LT(secs, 12.0);
}

}  // namespace
}  // namespace pib::client::test
