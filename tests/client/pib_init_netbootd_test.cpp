// pib-init against the real netbootd (full DHCP mode) in network namespaces:
// the lease comes from netbootd's DHCP server, the release from its HTTP
// routes (/releases/<id>/...), the boot report goes to /api/v1/nodes/<n>/report.
#include <gtest/gtest.h>

#include "netbootd/netns.hpp"
#include "netbootd/store_fixture.hpp"
#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

TEST(PibInitNetbootd, LeaseReleaseAndReport) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
    const fs::path netbootd = pib::test::built_binary("netbootd/netbootd");
    ASSERT_TRUE(fs::exists(netbootd)) << netbootd;
    ASSERT_TRUE(fs::exists(pib_init())) << pib_init();
    pib::test::TempDir tmp;
    const fs::path store = tmp / "store";
    fs::create_directories(store / "releases");
    const auto key = netbootd::test::fixed_key();
    write_text(tmp / "release.pub", key.public_key().to_pem());
    const std::string id = netbootd::test::make_release(
        store / "releases", "demo-pc", "pc",
        {{"root.squashfs", netbootd::test::random_bytes(400 * 1024, 5)},
         {"boot/vmlinuz", "kernel"},
         {"boot/initrd.img", "initrd"}},
        key);
    write_text(tmp / "nodes.yaml",
               "nodes:\n  - name: pc-01\n    mac: 52:54:00:aa:bb:01\n    release: " + id + "\n");
    write_text(tmp / "netbootd.yaml",
               "store: " + store.string() + "\ninventory: " + (tmp / "nodes.yaml").string() +
                   "\npublic-key: " + (tmp / "release.pub").string() +
                   "\nlisten:\n  interface: srv0\n  address: 10.218.0.1\n  http-port: 8080\n"
                   "dhcp:\n  mode: full\n  pool:\n    start: 10.218.0.100\n"
                   "    end: 10.218.0.150\n    netmask: 255.255.255.0\n"
                   "    router: 10.218.0.254\n    leases-file: " +
                   (tmp / "leases.json").string() + "\n");
    netbootd::test::NetnsGuard ns("pibnbd");
    std::string why;
    ASSERT_TRUE(ns.add("s", why)) << why;
    ASSERT_TRUE(ns.add("c", why)) << why;
    ASSERT_TRUE(ns.link("s", "srv0", "10.218.0.1/24", "c", "eth0", "", why)) << why;
    ASSERT_EQ(
        run({"ip", "-n", ns.name("c"), "link", "set", "eth0", "address", "52:54:00:aa:bb:01"}), 0);
    Background server({"ip", "netns", "exec", ns.name("s"), "timeout", "120", netbootd.string(),
                       "--config", (tmp / "netbootd.yaml").string(), "--keep-privileges"},
                      tmp / "netbootd.log");
    ASSERT_TRUE(wait_for_listener(ns.name("s"), "tcp", 8080, "netbootd"))
        << read_text(tmp / "netbootd.log");

    Ran dhcp = run_split({"ip", "netns", "exec", ns.name("c"), pib_init().string(), "--test-dhcp",
                          "eth0", "--tries", "6", "--configure"},
                         tmp.path());
    ASSERT_EQ(dhcp.rc, 0) << dhcp.err << read_text(tmp / "netbootd.log");
    EXPECT_EQ(dhcp.out.rfind("lease address=10.218.0.1", 0), 0u) << dhcp.out;
    EXPECT_NE(dhcp.out.find("router=10.218.0.254 server=10.218.0.1"), std::string::npos)
        << dhcp.out;

    fs::create_directories(tmp / "got");
    Ran fetch = run_split({"ip",
                           "netns",
                           "exec",
                           ns.name("c"),
                           pib_init().string(),
                           "--fetch",
                           "--server",
                           "http://10.218.0.1:8080",
                           "--release",
                           id,
                           "--pubkey",
                           (tmp / "release.pub").string(),
                           "--dir",
                           (tmp / "got").string(),
                           "--arch",
                           "amd64",
                           "--tries",
                           "3",
                           "--report-as",
                           "pc-01"},
                          tmp.path());
    ASSERT_EQ(fetch.rc, 0) << fetch.err << read_text(tmp / "netbootd.log");
    EXPECT_EQ(read_text(tmp / "got/root.squashfs"),
              read_text(store / "releases" / id / "root.squashfs"));
    EXPECT_EQ(fetch.err.find("POST"), std::string::npos)
        << fetch.err;  // delivered on the first try
    for (int i = 0;
         i < 50 && read_text(tmp / "netbootd.log").find("api report") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    const std::string log = read_text(tmp / "netbootd.log");
    EXPECT_NE(log.find("node=pc-01 release=" + id + " kind=boot healthy=true"), std::string::npos)
        << log;
}

}  // namespace
}  // namespace pib::client::test
