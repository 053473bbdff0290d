// The proxyDHCP server beside dnsmasq, the only address-giving server, in
// network namespaces this test creates and always removes: dnsmasq and netbootd
// share the server namespace (both bind port 67 with SO_REUSEADDR, each bound
// to the veth), clients run in the client namespace. Nothing touches the host.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <regex>
#include <thread>

#include "common/hex.hpp"
#include "dhcp/dhcp_fixture.hpp"
#include "dhcp/options.hpp"
#include "dhcp/packet.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "netbootd/event_loop.hpp"
#include "netns.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace dhcp = pib::dhcp;
using netbootd::test::enter_netns;

namespace {

constexpr const char* kServerIp = "10.214.0.1";
constexpr const char* kClientIp = "10.214.0.2";
constexpr const char* kServerIf = "veth-s";
constexpr const char* kClientIf = "veth-c";
constexpr const char* kIpxeUrl = "http://10.214.0.1/boot.ipxe";


class TestPolicy : public netbootd::BootPolicy {
public:
    std::optional<dhcp::BootDecision> decide(const dhcp::ClientInfo& client) override {
        dhcp::BootDecision d;
        switch (client.kind) {
            case dhcp::ClientKind::raspberry_pi: d.pi_menu = true; return d;
            case dhcp::ClientKind::bios_pxe: d.boot_file = "undionly.kpxe"; return d;
            case dhcp::ClientKind::uefi_x64: d.boot_file = "ipxe.efi"; return d;
            case dhcp::ClientKind::ipxe: d.boot_file = kIpxeUrl; return d;
            default: return std::nullopt;
        }
    }
};

/// netbootd's proxy on its own thread inside the server namespace; stopped and joined in the destructor.
class ProxyThread {
public:
    explicit ProxyThread(const std::string& netns) {
        std::promise<std::string> ready;
        auto started = ready.get_future();
        thread_ = std::thread([this, netns, &ready] {
            if (!enter_netns(netns)) return ready.set_value("setns " + netns + " failed");
            auto loop = netbootd::EventLoop::create();
            if (!loop) return ready.set_value("loop failed");
            pib::Logger log(
                [this](pib::Level, const std::string& line) {
                    std::lock_guard lock(mu_);
                    lines_.push_back(line);
                },
                pib::Level::debug);
            netbootd::DhcpProxyConfig config;
            config.interface = kServerIf;
            TestPolicy policy;
            auto server = netbootd::DhcpProxyServer::create(**loop, config, policy, log);
            if (!server) return ready.set_value(server.error().message);
            loop_ = loop->get();
            ready.set_value("");
            [[maybe_unused]] auto st = (*loop)->run();
            metrics_ = (*server)->metrics();
            server->reset();  // before the loop, policy and logger it refers to
        });
        error_ = started.get();
    }
    ~ProxyThread() { stop(); }
    const std::string& error() const { return error_; }
    netbootd::DhcpProxyMetrics stop() {
        if (loop_) loop_->stop();
        if (thread_.joinable()) thread_.join();
        loop_ = nullptr;
        return metrics_;
    }
    std::string log_text() {
        std::lock_guard lock(mu_);
        std::string all;
        for (const auto& l : lines_) all += l + "\n";
        return all;
    }

private:
    std::thread thread_;
    std::string error_;
    netbootd::EventLoop* loop_ = nullptr;
    netbootd::DhcpProxyMetrics metrics_;
    std::mutex mu_;
    std::vector<std::string> lines_;
};

/// A process this test started (argv run directly, no shell); SIGTERM and reaped in the destructor.
class Child {
public:
    Child(const std::vector<std::string>& argv, const fs::path& log) {
        pid_ = fork();
        if (pid_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execvp(args[0], args.data());
            _exit(127);
        }
    }
    ~Child() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    /// True while the process has not exited.
    bool running() {
        int status = 0;
        return pid_ > 0 && waitpid(pid_, &status, WNOHANG) == 0;
    }

private:
    pid_t pid_ = -1;
};

class DhcpProxyNetns : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
        std::string why;
        ASSERT_TRUE(ns_.add("s", why)) << why;
        ASSERT_TRUE(ns_.add("c", why)) << why;
        ASSERT_TRUE(ns_.link("s", kServerIf, std::string(kServerIp) + "/24", "c", kClientIf,
                             std::string(kClientIp) + "/24", why))
            << why;
        // dnsmasq: the only server handing out addresses.
        const fs::path pidfile = tmp_ / "dnsmasq.pid";
        dnsmasq_ = std::make_unique<Child>(std::vector<std::string>{
            "ip", "netns", "exec", ns_.name("s"), "timeout", "300", "dnsmasq", "--no-daemon", "--port=0",
            std::string("--interface=") + kServerIf, "--bind-interfaces",
            "--dhcp-range=10.214.0.100,10.214.0.150,12h", "--dhcp-leasefile=" + (tmp_ / "leases").string(),
            "--pid-file=" + pidfile.string(), "--conf-file=/dev/null", "--user=root", "--no-ping"},
            tmp_ / "dnsmasq.log");
        // --no-daemon writes no pid file: wait until it listens on port 67.
        bool listening = false;
        for (int i = 0; i < 100 && !listening; ++i) {
            std::string out;
            pib::test::run({"ip", "netns", "exec", ns_.name("s"), "ss", "-Hulnp", "sport", "=", ":67"}, &out);
            listening = out.find("dnsmasq") != std::string::npos;
            if (!listening) std::this_thread::sleep_for(50ms);
        }
        ASSERT_TRUE(dnsmasq_->running()) << "dnsmasq exited: " << pib::test::read_text(tmp_ / "dnsmasq.log");
        ASSERT_TRUE(listening) << "dnsmasq did not start: " << pib::test::read_text(tmp_ / "dnsmasq.log");
        proxy_ = std::make_unique<ProxyThread>(ns_.name("s"));
        ASSERT_EQ(proxy_->error(), "");
        // Both veth ends report UP before the first packet.
        for (int i = 0; i < 100; ++i) {
            std::string out;
            pib::test::run({"ip", "-n", ns_.name("c"), "link", "show", kClientIf}, &out);
            if (out.find("state UP") != std::string::npos) break;
            std::this_thread::sleep_for(50ms);
        }
    }
    void TearDown() override {
        proxy_.reset();
        dnsmasq_.reset();
    }

    /// Broadcasts `request` from 0.0.0.0:68 in the client namespace (up to 5 tries)
    /// and returns netbootd's reply: same xid, yiaddr 0.0.0.0 (dnsmasq's offer has an address).
    /// `to_pxe_port`: unicast to the server's port 4011 instead (PXE boot server discovery).
    std::optional<dhcp::DhcpPacket> exchange(const std::vector<std::uint8_t>& request, bool to_pxe_port = false) {
        std::optional<dhcp::DhcpPacket> answer;
        if (request.size() < 8) {
            ADD_FAILURE() << "fixture missing";
            return answer;
        }
        // xid straight from the bytes: malformed requests are sent through here too.
        const std::uint32_t xid = (std::uint32_t{request[4]} << 24) | (std::uint32_t{request[5]} << 16) |
                                  (std::uint32_t{request[6]} << 8) | std::uint32_t{request[7]};
        std::thread t([&] {
            if (!enter_netns(ns_.name("c"))) {
                ADD_FAILURE() << "setns client";
                return;
            }
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, kClientIf, static_cast<socklen_t>(strlen(kClientIf)));
            timeval tv{0, 300000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            sockaddr_in local{};
            local.sin_family = AF_INET;
            local.sin_port = htons(dhcp::kClientPort);
            if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
                ADD_FAILURE() << "bind 0.0.0.0:68: " << strerror(errno);
                close(fd);
                return;
            }
            sockaddr_in dst{};
            dst.sin_family = AF_INET;
            dst.sin_port = htons(to_pxe_port ? dhcp::kPxePort : dhcp::kServerPort);
            dst.sin_addr.s_addr = htonl(INADDR_BROADCAST);
            if (to_pxe_port) inet_pton(AF_INET, kServerIp, &dst.sin_addr);
            for (int attempt = 0; attempt < 5 && !answer; ++attempt) {
                sendto(fd, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
                const auto until = std::chrono::steady_clock::now() + 1s;
                while (!answer && std::chrono::steady_clock::now() < until) {
                    std::uint8_t buf[2048];
                    ssize_t n = recv(fd, buf, sizeof buf, 0);
                    if (n < 0) continue;
                    auto p = dhcp::decode(std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
                    if (p && p->op == dhcp::kBootReply && p->xid == xid && p->yiaddr == dhcp::Ipv4{}) answer = *p;
                }
            }
            close(fd);
        });
        t.join();
        return answer;
    }

    /// Runs argv in the client namespace, bounded in time.
    int client(std::vector<std::string> argv, std::string* output = nullptr) {
        argv.insert(argv.begin(), {"ip", "netns", "exec", ns_.name("c"), "timeout", "30"});
        return pib::test::run(argv, output);
    }

    static bool in_dnsmasq_range(const std::string& ip) {
        std::smatch m;
        static const std::regex re(R"(^10\.214\.0\.(\d+)$)");
        if (!std::regex_match(ip, m, re)) return false;
        const int last = std::stoi(m[1].str());
        return last >= 100 && last <= 150;
    }

    pib::test::TempDir tmp_;
    netbootd::test::NetnsGuard ns_{"pibtest-dhcp"};  // after tmp_, destroyed before it
    std::unique_ptr<Child> dnsmasq_;
    std::unique_ptr<ProxyThread> proxy_;
};

std::string server_id_text(const dhcp::DhcpPacket& p) {
    auto id = dhcp::server_id(p.options);
    return id.ok() ? dhcp::to_string(*id) : std::string("<absent>");
}

std::string option_text(const dhcp::DhcpPacket& p, std::uint8_t code) {
    const auto* v = p.options.find(code);
    return v ? std::string(v->begin(), v->end()) : std::string("<absent>");
}

TEST_F(DhcpProxyNetns, Pi4DiscoverGetsTheBootMenu) {
    auto reply = exchange(pib::dhcp::test::load_hex("pi4_discover"));
    ASSERT_TRUE(reply.has_value()) << proxy_->log_text();
    auto type = dhcp::message_type(reply->options);
    ASSERT_TRUE(type.ok());
    EXPECT_EQ(*type, dhcp::MessageType::offer);
    const auto* o43 = reply->options.find(dhcp::code::vendor_specific);
    ASSERT_NE(o43, nullptr);
    EXPECT_EQ(pib::to_hex(*o43), "0601030a0400505845091400001152617370626572727920506920426f6f74ff");
    EXPECT_EQ(option_text(*reply, dhcp::code::vendor_class), "PXEClient");
    EXPECT_EQ(server_id_text(*reply), kServerIp);
    EXPECT_EQ(reply->yiaddr, dhcp::Ipv4{});
    auto m = proxy_->stop();
    EXPECT_GE(m.replies, 1u);
    EXPECT_EQ(m.dropped, 0u);
}

TEST_F(DhcpProxyNetns, BiosAndUefiGetTheirBootFiles) {
    auto bios = exchange(pib::dhcp::test::load_hex("bios_pxe_discover"));
    ASSERT_TRUE(bios.has_value()) << proxy_->log_text();
    EXPECT_EQ(dhcp::field_string(bios->file), "undionly.kpxe");
    EXPECT_EQ(dhcp::to_string(bios->siaddr), kServerIp);
    EXPECT_EQ(option_text(*bios, dhcp::code::vendor_class), "PXEClient");

    auto uefi = exchange(pib::dhcp::test::load_hex("uefi_x64_discover"));
    ASSERT_TRUE(uefi.has_value()) << proxy_->log_text();
    EXPECT_EQ(dhcp::field_string(uefi->file), "ipxe.efi");
    EXPECT_EQ(server_id_text(*uefi), kServerIp);
    EXPECT_EQ(uefi->yiaddr, dhcp::Ipv4{});

    auto ipxe = exchange(pib::dhcp::test::load_hex("ipxe_bios_discover"));
    ASSERT_TRUE(ipxe.has_value()) << proxy_->log_text();
    EXPECT_EQ(dhcp::field_string(ipxe->file), kIpxeUrl);

    // Boot server discovery on 4011: a unicast REQUEST gets a DHCPACK back to its source port.
    auto ack = exchange(pib::dhcp::test::load_hex("uefi_x64_request_4011"), true);
    ASSERT_TRUE(ack.has_value()) << proxy_->log_text();
    auto type = dhcp::message_type(ack->options);
    ASSERT_TRUE(type.ok());
    EXPECT_EQ(*type, dhcp::MessageType::ack);
    EXPECT_EQ(dhcp::field_string(ack->file), "ipxe.efi");

    auto m = proxy_->stop();
    EXPECT_GE(m.replies, 4u) << proxy_->log_text();
    EXPECT_EQ(m.dropped, 0u);
}

TEST_F(DhcpProxyNetns, MalformedPacketsAreDroppedAndCounted) {
    auto bytes = pib::dhcp::test::load_hex("pi4_discover");
    bytes.resize(100);  // cut inside the header: decode fails
    EXPECT_FALSE(exchange(bytes).has_value());
    auto m = proxy_->stop();
    EXPECT_GE(m.dropped, 1u);
    EXPECT_EQ(m.replies, 0u);
    // Five tries, one log line (rate-limited per client).
    const std::string log = proxy_->log_text();
    std::size_t lines = 0;
    for (auto pos = log.find("packet_dropped"); pos != std::string::npos; pos = log.find("packet_dropped", pos + 1))
        ++lines;
    EXPECT_EQ(lines, 1u) << log;
}

TEST_F(DhcpProxyNetns, OrdinaryClientsGetAnAddressFromDnsmasqOnly) {
    // busybox udhcpc: the script records the leased address.
    const fs::path script = tmp_ / "udhcpc.sh";
    const fs::path got = tmp_ / "udhcpc.ip";
    pib::test::write_text(script,
                          "#!/bin/sh\n[ \"$1\" = bound ] && echo \"$ip\" > " + got.string() + "\nexit 0\n", 0755);
    std::string out;
    EXPECT_EQ(client({"busybox", "udhcpc", "-i", kClientIf, "-n", "-q", "-f", "-t", "5", "-T", "2", "-s",
                      script.string()},
                     &out),
              0)
        << out;
    std::string ip = pib::test::read_text(got);
    while (!ip.empty() && std::isspace(static_cast<unsigned char>(ip.back()))) ip.pop_back();
    EXPECT_TRUE(in_dnsmasq_range(ip)) << "udhcpc got '" << ip << "': " << out;

    // ISC dhclient: one try; it forks into the background once bound, so stop it by its pid file.
    const fs::path lease = tmp_ / "dhclient.leases";
    const fs::path pidfile = tmp_ / "dhclient.pid";
    out.clear();
    EXPECT_EQ(client({"dhclient", "-1", "-v", "-sf", "/bin/true", "-pf", pidfile.string(), "-lf", lease.string(),
                      kClientIf},
                     &out),
              0)
        << out;
    const std::string pid_text = pib::test::read_text(pidfile);
    if (!pid_text.empty()) {
        const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
        if (pid > 1) kill(pid, SIGTERM);  // the dhclient this test started
    }
    std::smatch m;
    const std::string leases = pib::test::read_text(lease);
    ASSERT_TRUE(std::regex_search(leases, m, std::regex(R"(fixed-address ([0-9.]+);)"))) << leases << out;
    EXPECT_TRUE(in_dnsmasq_range(m[1].str())) << leases;

    auto metrics = proxy_->stop();
    EXPECT_EQ(metrics.replies, 0u) << proxy_->log_text();
    EXPECT_GE(metrics.ignored_not_pxe, 2u);  // at least a DISCOVER and a REQUEST each
    EXPECT_EQ(metrics.dropped, 0u);
}

}  // namespace
