// netbootd --config: valid configs become NetbootdConfig with the table
// defaults; invalid ones give every problem as file:line:col: key.path: message.
#include <gtest/gtest.h>

#include "netbootd/config.hpp"
#include "support/test_support.hpp"

namespace pib::netbootd {
namespace {

using test::TempDir;

class NetbootdConfigTest : public ::testing::Test {
  protected:
    NetbootdConfigTest() {
        std::filesystem::create_directories(dir / "store/releases");
        test::write_text(dir / "release.pub", "-----BEGIN PUBLIC KEY-----\n");
    }

    // The minimal valid head: store, key and listen (paths under the temp dir).
    std::string head() const {
        return "store: " + (dir / "store").string() +
               "\npublic-key: " + (dir / "release.pub").string() + "\n";
    }

    Result<NetbootdConfig> parse(const std::string& text, bool check_files = true) {
        diags = Diagnostics{};
        return parse_netbootd_config(text, "/etc/netbootd/netbootd.yaml", diags,
                                     NetbootdConfigOptions{.check_files = check_files});
    }

    NetbootdConfig ok(const std::string& text) {
        auto c = parse(text);
        EXPECT_TRUE(c.ok()) << diags.str();
        return c.ok() ? *c : NetbootdConfig{};
    }

    // The diagnostics of a refused config, without the file name prefix.
    std::vector<std::string> errors(const std::string& text, bool check_files = true) {
        auto c = parse(text, check_files);
        EXPECT_FALSE(c.ok());
        std::vector<std::string> out;
        for (const auto& d : diags.items()) {
            std::string s = d.str();
            const std::string prefix = "/etc/netbootd/netbootd.yaml:";
            out.push_back(s.starts_with(prefix) ? s.substr(prefix.size()) : s);
        }
        return out;
    }

    TempDir dir;
    Diagnostics diags;
};

TEST_F(NetbootdConfigTest, MinimalConfigGetsTheDefaults) {
    NetbootdConfig c = ok(head() + "listen:\n  address: 192.168.1.10\n");
    EXPECT_EQ(c.store, dir / "store");
    EXPECT_EQ(c.releases_dir(), dir / "store/releases");
    EXPECT_EQ(c.listen.address, parse_ipv4("192.168.1.10"));
    EXPECT_EQ(c.listen.interface, "");
    EXPECT_EQ(c.listen.tftp_port, 69);
    EXPECT_EQ(c.listen.http_port, 80);
    EXPECT_EQ(c.listen.http_base_url, "http://192.168.1.10:80");
    EXPECT_EQ(c.dhcp.mode, DhcpMode::proxy);
    EXPECT_FALSE(c.dhcp.pool);
    EXPECT_EQ(c.tftp.max_blksize, 1468u);
    EXPECT_FALSE(c.tftp.default_release);
    EXPECT_EQ(c.tftp.timeout_s, 1u);
    EXPECT_EQ(c.tftp.retries, 5u);
    EXPECT_FALSE(c.nfs.enabled);
    EXPECT_EQ(c.nfs.server, NfsServer::kernel);
    EXPECT_EQ(c.nfs.export_dir, dir / "store/releases");
    EXPECT_EQ(c.user, "netbootd");
    EXPECT_EQ(c.group, "netbootd");
    EXPECT_EQ(c.log_level, LogLevel::info);
    EXPECT_FALSE(c.inventory);
    EXPECT_EQ(c.file, "/etc/netbootd/netbootd.yaml");
}

TEST_F(NetbootdConfigTest, FullModeWithAPool) {
    NetbootdConfig c = ok(head() +
                          "listen: {interface: eth0, address: 10.0.0.1, http-base-url: "
                          "'https://boot.example.net/'}\n"
                          "dhcp:\n  mode: full\n  pool:\n    start: 10.0.0.100\n"
                          "    end: 10.0.0.200\n    netmask: 255.255.255.0\n"
                          "    router: 10.0.0.254\n    dns: [10.0.0.53, 1.1.1.1]\n"
                          "    leases-file: /var/lib/netbootd/leases.json\n"
                          "tftp: {root-fallback: {default-release: demo-1.0}, max-blksize: 1024}\n"
                          "nfs: {enabled: true, server: ganesha, subnet: 10.0.0.0/24}\n"
                          "log-level: debug\n");
    EXPECT_EQ(c.listen.interface, "eth0");
    EXPECT_EQ(c.listen.http_base_url, "https://boot.example.net");
    ASSERT_TRUE(c.dhcp.pool);
    EXPECT_EQ(ipv4_string(c.dhcp.pool->start), "10.0.0.100");
    EXPECT_EQ(ipv4_string(c.dhcp.pool->end), "10.0.0.200");
    EXPECT_EQ(c.dhcp.pool->dns.size(), 2u);
    EXPECT_EQ(c.dhcp.pool->lease_time, 3600u);
    EXPECT_EQ(c.tftp.default_release, "demo-1.0");
    EXPECT_EQ(c.tftp.max_blksize, 1024u);
    EXPECT_EQ(c.nfs.server, NfsServer::ganesha);
    ASSERT_TRUE(c.nfs.subnet);
    EXPECT_EQ(c.nfs.subnet->prefix, 24);
    EXPECT_EQ(c.log_level, LogLevel::debug);
}

TEST_F(NetbootdConfigTest, UnknownKeysTypesAndRangesAllAtOnce) {
    auto got = errors(head() +
                      "listen:\n  interfase: eth0\n  tftp-port: 0\n  http-port: 70000\n"
                      "tftp:\n  max-blksize: big\n  root-fallback: refuze\n"
                      "log-level: verbose\nuser: -root\n");
    std::vector<std::string> want = {
        // No "give interface, address or both": the typo already explains it.
        "4:3: listen.interfase: unknown key (did you mean 'interface'?)",
        "5:14: listen.tftp-port: must be between 1 and 65535, got 0",
        "6:14: listen.http-port: must be between 1 and 65535, got 70000",
        "8:16: tftp.max-blksize: expected an integer, got 'big'",
        "9:18: tftp.root-fallback: 'refuze' is not one of refuse (did you mean 'refuse'?)",
        "10:12: log-level: 'verbose' is not one of debug, info, warning, error",
        "11:7: user: must be a user or group name, got '-root'",
    };
    EXPECT_EQ(got, want);
}

TEST_F(NetbootdConfigTest, ListenNeedsAnInterfaceOrAnAddress) {
    EXPECT_EQ(errors(head() + "listen: {tftp-port: 1069}\n"),
              std::vector<std::string>{"3:9: listen: give interface, address or both"});
}

TEST_F(NetbootdConfigTest, AddressAndNetworkSyntax) {
    auto got = errors(head() +
                      "listen: {address: 192.168.1.256}\n"
                      "nfs:\n  enabled: true\n  subnet: 192.168.1.1/24\n"
                      "dhcp:\n  mode: full\n  pool:\n    start: 192.168.01.2\n    end: 10.0.0.9\n"
                      "    netmask: 255.0.255.0\n    dns: [8.8.8.8, x]\n"
                      "    leases-file: leases.json\n");
    std::vector<std::string> want = {
        "3:19: listen.address: must be an IPv4 address like 192.168.1.10, got '192.168.1.256'",
        "6:11: nfs.subnet: has host bits set (the network is 192.168.1.0/24)",
        "10:12: dhcp.pool.start: must be an IPv4 address like 192.168.1.10, got '192.168.01.2'",
        "12:14: dhcp.pool.netmask: must be a netmask like 255.255.255.0, got '255.0.255.0'",
        "13:20: dhcp.pool.dns[1]: must be an IPv4 address like 192.168.1.10, got 'x'",
        "14:18: dhcp.pool.leases-file: must be an absolute path, got 'leases.json'",
    };
    EXPECT_EQ(got, want);
}

TEST_F(NetbootdConfigTest, ImpossibleCombinations) {
    EXPECT_EQ(errors(head() + "listen: {address: 10.0.0.1}\ndhcp: {mode: full}\n"),
              std::vector<std::string>{
                  "4:14: dhcp.mode: full mode needs dhcp.pool (start, end, netmask, leases-file)"});
    EXPECT_EQ(errors(head() + "listen: {interface: eth0}\ndhcp:\n  mode: full\n  pool: "
                              "{start: 10.0.0.2, end: 10.0.0.3, netmask: 255.255.255.0, "
                              "leases-file: /l}\n"),
              std::vector<std::string>{"5:9: dhcp.mode: full mode needs listen.address (the "
                                       "server's address in the pool's subnet)"});
    EXPECT_EQ(errors(head() + "listen: {address: 10.0.0.1}\ndhcp:\n  pool: {start: 10.0.0.2, "
                              "end: 10.0.0.3, netmask: 255.255.255.0, leases-file: /l}\n"),
              std::vector<std::string>{"5:3: dhcp.pool: only used with 'mode: full' (proxy mode "
                                       "never hands out addresses)"});
    EXPECT_EQ(errors(head() + "listen: {address: 10.0.0.1}\nnfs:\n  enabled: true\n"),
              std::vector<std::string>{"5:12: nfs.subnet: is required when NFS is enabled (the "
                                       "boot subnet the exports allow)"});
}

TEST_F(NetbootdConfigTest, PoolOutsideTheSubnet) {
    auto got = errors(head() +
                      "listen: {address: 10.0.0.1}\n"
                      "dhcp:\n  mode: full\n  pool:\n    start: 10.0.1.100\n    end: 10.0.0.200\n"
                      "    netmask: 255.255.255.0\n    router: 192.168.0.1\n"
                      "    leases-file: /var/lib/netbootd/leases.json\n");
    std::vector<std::string> want = {
        "7:12: dhcp.pool.start: 10.0.1.100 is outside the subnet 10.0.0.0/24 (listen.address and "
        "dhcp.pool.netmask)",
        "10:13: dhcp.pool.router: 192.168.0.1 is outside the subnet 10.0.0.0/24 (listen.address "
        "and dhcp.pool.netmask)",
    };
    EXPECT_EQ(got, want);
    EXPECT_EQ(errors(head() + "listen: {address: 10.0.0.1}\ndhcp:\n  mode: full\n  pool: "
                              "{start: 10.0.0.9, end: 10.0.0.3, netmask: 255.255.255.0, "
                              "leases-file: /l}\n"),
              std::vector<std::string>{
                  "6:32: dhcp.pool.end: must not come before dhcp.pool.start (10.0.0.9)"});
}

TEST_F(NetbootdConfigTest, MissingFilesAndRequiredKeys) {
    EXPECT_EQ(errors("store: /nonexistent/store\npublic-key: /nonexistent/key.pub\n"
                     "inventory: /nonexistent/inv.yaml\nlisten: {interface: eth0}\n"),
              (std::vector<std::string>{
                  "1:8: store: no such directory",
                  "2:13: public-key: cannot read: No such file or directory",
                  "3:12: inventory: cannot read: No such file or directory",
              }));
    EXPECT_EQ(errors("dhcp: {mode: proxy}\n"), (std::vector<std::string>{
                                                   "1:1: store: missing required key",
                                                   "1:1: public-key: missing required key",
                                                   "1:1: listen: missing required key",
                                               }));
    EXPECT_EQ(errors("listen: {interface: eth0}\nlisten: {interface: eth1}\nstore: /s\n"
                     "public-key: /k\n",
                     false),
              std::vector<std::string>{"2:1: listen: duplicate key (first given at line 1)"});
}

TEST_F(NetbootdConfigTest, NotAMapAndSyntaxErrors) {
    EXPECT_EQ(errors("- a\n"), std::vector<std::string>{"1:1: expected a map, got a list"});
    EXPECT_EQ(errors(""), std::vector<std::string>{
                              "1:1: the config is empty (expected a map with store, public-key "
                              "and listen)"});
    auto got = errors("store: [\n");
    ASSERT_EQ(got.size(), 1u);
    EXPECT_TRUE(got[0].find("YAML syntax error") != std::string::npos) << got[0];
}

TEST_F(NetbootdConfigTest, LoadReadsTheFile) {
    test::write_text(dir / "n.yaml", head() + "listen: {interface: eth0}\n");
    Diagnostics d;
    auto c = load_netbootd_config(dir / "n.yaml", d);
    ASSERT_TRUE(c.ok()) << d.str();
    EXPECT_EQ(c->listen.http_base_url, "");  // known once the interface's address is
    auto missing = load_netbootd_config(dir / "none.yaml", d);
    EXPECT_FALSE(missing.ok());
    EXPECT_EQ(d.items().back().str(),
              (dir / "none.yaml").string() + ": cannot read the config: No such file or directory");
}

TEST(Ipv4, ParseAndPrint) {
    EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
    EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
    for (const char* bad : {"1.2.3", "1.2.3.4.5", "1.2.3.04", "1.2.3.-4", "1..2.3", " 1.2.3.4", ""})
        EXPECT_FALSE(parse_ipv4(bad)) << bad;
    EXPECT_EQ(ipv4_string(*parse_ipv4("192.168.1.10")), "192.168.1.10");
}

}  // namespace
}  // namespace pib::netbootd
