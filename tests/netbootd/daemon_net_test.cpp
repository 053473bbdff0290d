// The netbootd binary in a network namespace of its own, joined to a client
// namespace by a veth pair: full-mode DHCP gives the inventory's reserved
// address and hostname to busybox udhcpc, and the client then fetches its
// node's files by TFTP and HTTP from that address. Namespaces and the daemon
// are removed whatever happens.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sstream>
#include <thread>

#include "netns.hpp"
#include "store/fleet_state.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(50ms);
    }
    return pred();
}

TEST(NetbootdNet, FullModeReservationThenTftpAndHttpFromTheLeasedAddress) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root for namespaces";
    netbootd::test::NetnsGuard ns("nbn");
    std::string why;
    ASSERT_TRUE(ns.add("s", why)) << why;
    ASSERT_TRUE(ns.add("c", why)) << why;
    ASSERT_TRUE(ns.link("s", "veth-s", "10.216.0.1/24", "c", "veth-c", "", why)) << why;
    ASSERT_EQ(run({"ip", "-n", ns.name("c"), "link", "set", "veth-c", "address", "52:54:00:00:00:01"}), 0);

    pib::test::TempDir dir;
    const fs::path store = dir.path() / "store";
    fs::create_directories(store / "releases");
    auto key = netbootd::test::fixed_key();
    const std::string kernel = netbootd::test::random_bytes(150000, 3);
    const std::string id = netbootd::test::make_release(
        store / "releases", "demo", "pc",
        {{"root.squashfs", "r"}, {"boot/vmlinuz", kernel}, {"boot/initrd.img", "i"},
         {"boot/cmdline.txt", "console=ttyS0\n"}},
        key);
    write_text(dir.path() / "release.pub", key.public_key().to_pem());
    {
        auto st = pib::store::open_sqlite_state(store / "state.db");
        ASSERT_TRUE(st.ok());
        ASSERT_TRUE((*st)->set_channel("stable", id, "test").ok());
    }
    write_text(dir.path() / "nodes.yaml",
               "nodes:\n  - name: pc-01\n    hostname: pc-01.lab\n    mac: 52:54:00:00:00:01\n"
               "    network: {address: 10.216.0.50/24, gateway: 10.216.0.1}\n");
    const fs::path config = dir.path() / "netbootd.yaml";
    write_text(config, "store: " + store.string() + "\ninventory: " + (dir.path() / "nodes.yaml").string() +
                           "\npublic-key: " + (dir.path() / "release.pub").string() +
                           "\nlisten:\n  interface: veth-s\n  address: 10.216.0.1\n  http-port: 8080\n"
                           "dhcp:\n  mode: full\n  pool:\n    start: 10.216.0.100\n    end: 10.216.0.110\n"
                           "    netmask: 255.255.255.0\n    router: 10.216.0.1\n    leases-file: " +
                           (dir.path() / "leases.json").string() + "\n");
    const fs::path log = dir.path() / "log";
    Child d;
    d.pid = fork();
    if (d.pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 2);
        const auto bin = pib::test::built_binary("netbootd/netbootd");
        execlp("ip", "ip", "netns", "exec", ns.name("s").c_str(), bin.c_str(), "--config", config.c_str(),
               "--keep-privileges", nullptr);
        _exit(127);
    }
    ASSERT_TRUE(wait_for([&] { return read_text(log).find("netbootd ready") != std::string::npos; }, 10s))
        << read_text(log);

    // udhcpc: the reserved address and the node's hostname.
    const fs::path script = dir.path() / "udhcpc.sh";
    const fs::path env = dir.path() / "udhcpc.env";
    write_text(script,
               "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\n"
               "ip addr add $ip/$mask dev $interface\n"
               "for v in ip mask router hostname; do eval \"echo $v=\\$$v\"; done > " + env.string() + "\n",
               0755);
    std::string out;
    ASSERT_EQ(run({"ip", "netns", "exec", ns.name("c"), "timeout", "30", "busybox", "udhcpc", "-i", "veth-c", "-n",
                   "-q", "-f", "-t", "5", "-T", "1", "-s", script.string()},
                  &out),
              0)
        << out << read_text(log);
    const std::string vars = read_text(env);
    EXPECT_NE(vars.find("ip=10.216.0.50\n"), std::string::npos) << vars;
    EXPECT_NE(vars.find("hostname=pc-01.lab\n"), std::string::npos) << vars;
    EXPECT_NE(vars.find("router=10.216.0.1\n"), std::string::npos) << vars;

    // From that address: the node's iPXE script (learns it), then TFTP and HTTP.
    std::string script_text;
    ASSERT_EQ(run({"ip", "netns", "exec", ns.name("c"), "curl", "-sS", "--max-time", "10",
                   "http://10.216.0.1:8080/ipxe/52-54-00-00-00-01.ipxe"},
                  &script_text),
              0)
        << script_text;
    EXPECT_NE(script_text.find("pib.node=pc-01 ip=10.216.0.50::10.216.0.1:255.255.255.0:pc-01.lab::off"),
              std::string::npos)
        << script_text;
    std::string got;
    ASSERT_EQ(run({"ip", "netns", "exec", ns.name("c"), "curl", "-sS", "--max-time", "10", "--tftp-blksize", "1468",
                   "tftp://10.216.0.1/vmlinuz"},
                  &got),
              0);
    EXPECT_TRUE(got == kernel) << "TFTP root path from the node's learned address";
    ASSERT_EQ(run({"ip", "netns", "exec", ns.name("c"), "curl", "-sS", "--max-time", "10",
                   "http://10.216.0.1:8080/releases/" + id + "/boot/vmlinuz"},
                  &got),
              0);
    EXPECT_TRUE(got == kernel);
    // The lease was written where the config says, atomically, as JSON.
    EXPECT_NE(read_text(dir.path() / "leases.json").find("10.216.0.50"), std::string::npos);
    const std::string text = read_text(log);
    EXPECT_NE(text.find("boot address_learned node=pc-01 address=10.216.0.50"), std::string::npos) << text;
}

}  // namespace
