// The Raspberry Pi path at protocol level, against the netbootd binary: a
// scripted client that behaves like a Pi 4 EEPROM bootloader (its DHCPDISCOVER
// byte for byte, then TFTP of <serial>/start4.elf, config.txt, the kernel,
// initramfs, device tree and cmdline.txt, each first with tsize and an early
// terminate, then in full at blksize 1024) in a network namespace beside
// dnsmasq, the only address-giving server. The Pi's closed firmware is a
// placeholder; everything else is the real daemon.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "common/hex.hpp"
#include "dhcp/dhcp_fixture.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"
#include "netns.hpp"
#include "store/fleet_state.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"
#include "tftp/packet.hpp"

namespace fs = std::filesystem;
namespace dhcp = pib::dhcp;
namespace tftp = pib::tftp;
using namespace std::chrono_literals;
using netbootd::test::enter_netns;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

constexpr const char* kServer = "10.218.0.1";
constexpr const char* kSerial = "5b154510";  // in the fixture's option 97


struct Child {
    pid_t pid = -1;
    ~Child() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
};

pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    return pid;
}

/// The Pi bootloader's TFTP: one RRQ with tsize and blksize, then either an
/// early terminate (ERROR 0 right after the OACK) or the whole file, lock-step.
struct PiTftp {
    int fd = -1;
    sockaddr_in server{};
    PiTftp() {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        timeval tv{3, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        server.sin_family = AF_INET;
        server.sin_port = htons(69);
        inet_pton(AF_INET, kServer, &server.sin_addr);
    }
    ~PiTftp() { close(fd); }

    std::optional<tftp::Packet> receive(sockaddr_in& from) {
        std::vector<std::uint8_t> buf(70000);
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n < 0) return std::nullopt;
        auto p = tftp::decode(std::span(buf.data(), static_cast<std::size_t>(n)));
        if (!p) return std::nullopt;
        return *p;
    }
    void send_to(const tftp::Packet& p, const sockaddr_in& to) {
        auto bytes = tftp::encode(p);
        sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    }

    /// tsize the server announced, after an early terminate; nullopt on an ERROR (why in `error`).
    std::optional<std::uint64_t> probe(const std::string& path, std::string& error) {
        tftp::ReadRequest rrq;
        rrq.filename = path;
        rrq.options = {{"tsize", "0"}, {"blksize", "1024"}};
        send_to(rrq, server);
        sockaddr_in from{};
        auto reply = receive(from);
        if (!reply) return error = "no reply", std::nullopt;
        if (auto* e = std::get_if<tftp::ErrorPacket>(&*reply)) return error = e->message, std::nullopt;
        auto* oack = std::get_if<tftp::OptionAck>(&*reply);
        if (!oack) return error = "no OACK", std::nullopt;
        auto size = oack->options.get_uint("tsize", 0, UINT64_MAX);
        send_to(tftp::ErrorPacket{tftp::ErrorCode::not_defined, "early terminate"}, from);
        if (!size) return error = "no tsize", std::nullopt;
        return *size;
    }

    std::optional<std::string> fetch(const std::string& path, std::string& error) {
        tftp::ReadRequest rrq;
        rrq.filename = path;
        rrq.options = {{"tsize", "0"}, {"blksize", "1024"}};
        send_to(rrq, server);
        sockaddr_in from{};
        auto reply = receive(from);
        if (!reply || !std::holds_alternative<tftp::OptionAck>(*reply)) return error = "no OACK", std::nullopt;
        send_to(tftp::Ack{0}, from);
        std::string out;
        std::uint16_t expect = 1;
        while (true) {
            auto p = receive(from);
            if (!p) return error = "timeout at block " + std::to_string(expect), std::nullopt;
            auto* d = std::get_if<tftp::Data>(&*p);
            if (!d) return error = "not DATA", std::nullopt;
            if (d->block != expect) continue;  // a retransmission
            out.append(d->payload.begin(), d->payload.end());
            send_to(tftp::Ack{d->block}, from);
            ++expect;
            if (d->payload.size() < 1024) return out;
        }
    }
};

TEST(PiBoot, ScriptedPi4GetsProxyOfferThenItsNodesFilesByTftp) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root for namespaces";
    netbootd::test::NetnsGuard ns("nbpi");
    std::string why;
    ASSERT_TRUE(ns.add("s", why)) << why;
    ASSERT_TRUE(ns.add("c", why)) << why;
    ASSERT_TRUE(ns.link("s", "veth-s", std::string(kServer) + "/24", "c", "veth-c", "", why)) << why;
    ASSERT_EQ(run({"ip", "-n", ns.name("c"), "link", "set", "veth-c", "address", "dc:a6:32:2e:f8:ed"}), 0);

    pib::test::TempDir dir;
    const fs::path store = dir.path() / "store";
    fs::create_directories(store / "releases");
    auto key = netbootd::test::fixed_key();
    const std::map<std::string, std::string> boot = {
        {"boot/start4.elf", netbootd::test::random_bytes(2300000, 41)},  // placeholder firmware
        {"boot/fixup4.dat", netbootd::test::random_bytes(5400, 42)},
        {"boot/kernel8.img", netbootd::test::random_bytes(700000, 43)},
        {"boot/initrd.img", netbootd::test::random_bytes(300000, 44)},
        {"boot/bcm2711-rpi-4-b.dtb", netbootd::test::random_bytes(52000, 45)},
        {"boot/config.txt", "[all]\narm_64bit=1\nkernel=kernel8.img\ninitramfs initrd.img followkernel\n"},
        {"boot/cmdline.txt", "console=serial0,115200 hostname=@HOSTNAME@\n"}};
    auto files = boot;
    files["root.squashfs"] = "root";
    const std::string id = netbootd::test::make_release(store / "releases", "pi", "rpi4", files, key);
    write_text(dir.path() / "release.pub", key.public_key().to_pem());
    write_text(dir.path() / "nodes.yaml", std::string("nodes:\n  - name: pi-01\n    hostname: pi-01.lab\n") +
                                              "    serial: \"" + kSerial + "\"\n    release: " + id + "\n");
    write_text(dir.path() / "netbootd.yaml", "store: " + store.string() + "\ninventory: " +
                                                 (dir.path() / "nodes.yaml").string() + "\npublic-key: " +
                                                 (dir.path() / "release.pub").string() +
                                                 "\nlisten: {interface: veth-s, address: " + kServer +
                                                 ", http-port: 8080}\n");
    Child dnsmasq{spawn({"ip", "netns", "exec", ns.name("s"), "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                         "--port=0", "--interface=veth-s", "--bind-interfaces",
                         "--dhcp-range=10.218.0.130,10.218.0.180,255.255.255.0,1h",
                         "--dhcp-leasefile=" + (dir.path() / "leases").string(), "--log-facility=-"},
                        dir.path() / "dnsmasq.log")};
    Child daemon{spawn({"ip", "netns", "exec", ns.name("s"), pib::test::built_binary("netbootd/netbootd").string(),
                        "--config", (dir.path() / "netbootd.yaml").string(), "--keep-privileges"},
                       dir.path() / "netbootd.log")};
    for (int i = 0; i < 100 && read_text(dir.path() / "netbootd.log").find("netbootd ready") == std::string::npos; ++i)
        std::this_thread::sleep_for(100ms);
    ASSERT_NE(read_text(dir.path() / "netbootd.log").find("netbootd ready"), std::string::npos)
        << read_text(dir.path() / "netbootd.log");

    // ---- DHCP: the Pi 4's discover, as its bootloader sends it. The bootloader
    // reads raw frames, so dnsmasq's unicast offer to the address it offers
    // reaches it; a socket needs that address to be local, hence the route
    // (removed before TFTP).
    ASSERT_EQ(run({"ip", "-n", ns.name("c"), "route", "add", "local", "10.218.0.128/26", "dev", "veth-c", "table",
                   "local"}),
              0);
    std::promise<std::vector<dhcp::DhcpPacket>> replies_p;
    auto replies_f = replies_p.get_future();
    std::thread client([&] {
        std::vector<dhcp::DhcpPacket> got;
        if (!enter_netns(ns.name("c"))) return replies_p.set_value(got);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "veth-c", 7);
        sockaddr_in me{};
        me.sin_family = AF_INET;
        me.sin_port = htons(68);
        bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me);
        timeval tv{0, 300000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        const auto discover = pib::dhcp::test::load_hex("pi4_discover");
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(67);
        to.sin_addr.s_addr = INADDR_BROADCAST;
        const auto end = std::chrono::steady_clock::now() + 6s;
        auto next_send = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() < end && got.size() < 2) {
            if (std::chrono::steady_clock::now() >= next_send) {
                sendto(fd, discover.data(), discover.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
                next_send += 2s;
            }
            std::vector<std::uint8_t> buf(1500);
            ssize_t n = recv(fd, buf.data(), buf.size(), 0);
            if (n <= 0) continue;
            auto p = dhcp::decode(std::span(buf.data(), static_cast<std::size_t>(n)));
            if (p && p->op == dhcp::kBootReply) {
                bool dup = false;
                for (const auto& g : got) dup = dup || (g.yiaddr == p->yiaddr);
                if (!dup) got.push_back(*p);
            }
        }
        close(fd);
        replies_p.set_value(got);
    });
    auto replies = replies_f.get();
    client.join();
    ASSERT_EQ(replies.size(), 2u) << read_text(dir.path() / "netbootd.log") << read_text(dir.path() / "dnsmasq.log");
    const dhcp::DhcpPacket* proxy = nullptr;
    const dhcp::DhcpPacket* offer = nullptr;
    for (const auto& r : replies) (r.yiaddr == dhcp::Ipv4{} ? proxy : offer) = &r;
    ASSERT_TRUE(proxy && offer) << "one proxy offer without an address, one address offer";
    // The proxy's answer: PXEClient, the Raspberry Pi boot menu byte for byte, us as server.
    auto vc = dhcp::vendor_class(proxy->options);
    ASSERT_TRUE(vc.ok());
    EXPECT_EQ(*vc, "PXEClient");
    const auto* opt43 = proxy->options.find(43);
    ASSERT_NE(opt43, nullptr);
    EXPECT_EQ(pib::to_hex(*opt43), "0601030a0400505845091400001152617370626572727920506920426f6f74ff");
    auto sid = dhcp::server_id(proxy->options);
    ASSERT_TRUE(sid.ok());
    EXPECT_EQ(*sid, (dhcp::Ipv4{10, 218, 0, 1}));
    char yi[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, offer->yiaddr.data(), yi, sizeof yi);

    // ---- TFTP from the offered address, as the bootloader does it.
    ASSERT_EQ(run({"ip", "-n", ns.name("c"), "route", "del", "local", "10.218.0.128/26", "dev", "veth-c", "table",
                   "local"}),
              0);
    ASSERT_EQ(run({"ip", "-n", ns.name("c"), "addr", "add", std::string(yi) + "/24", "dev", "veth-c"}), 0);
    std::thread tftp_client([&] {
        if (!enter_netns(ns.name("c"))) return ADD_FAILURE() << "setns";
        PiTftp pi;
        std::string error;
        // start4.elf under the serial decides the directory; each file is probed for
        // its size with an early terminate, then fetched.
        for (const std::string name : {"start4.elf", "config.txt", "fixup4.dat", "bcm2711-rpi-4-b.dtb",
                                       "kernel8.img", "initrd.img", "cmdline.txt"}) {
            SCOPED_TRACE(name);
            const std::string path = std::string(kSerial) + "/" + name;
            auto size = pi.probe(path, error);
            ASSERT_TRUE(size) << error;
            auto bytes = pi.fetch(path, error);
            ASSERT_TRUE(bytes) << error;
            EXPECT_EQ(*size, bytes->size());
            if (name == "cmdline.txt") {
                EXPECT_EQ(*bytes, "console=serial0,115200 hostname=pi-01.lab pib.server=http://10.218.0.1:8080"
                                  " pib.release=" + id + " pib.node=pi-01\n");
            } else if (name == "config.txt") {
                EXPECT_EQ(*bytes, "# netbootd: release " + id + ", node pi-01\n" + boot.at("boot/config.txt"));
            } else {
                EXPECT_TRUE(*bytes == boot.at("boot/" + name)) << "contents differ";
            }
        }
        // A board the inventory does not know gets "file not found" (then it asks the root).
        EXPECT_FALSE(pi.probe("0badcafe/start4.elf", error));
        EXPECT_EQ(error, "file not found");
    });
    tftp_client.join();
    const std::string log = read_text(dir.path() / "netbootd.log");
    EXPECT_NE(log.find("result=client_aborted"), std::string::npos) << log;
    EXPECT_NE(log.find("node=pi-01 release=" + id + " file=" + kSerial + "/kernel8.img bytes=700000"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("boot address_learned node=pi-01 address=" + std::string(yi)), std::string::npos) << log;
}

}  // namespace
