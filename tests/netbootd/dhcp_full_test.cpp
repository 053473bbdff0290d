// Full DHCP mode. DhcpFullLeases: the LeaseStore alone, with injected time
// (pool order, offer holds, reservations, expiry, DECLINE, RELEASE, the lease
// file, a SIGKILL in the middle of writes). DhcpFullNetns: netbootd as the only
// DHCP server of a bridge in a namespace this test creates and removes, with
// busybox udhcpc, ISC dhclient and scripted PXE clients in two client
// namespaces. Nothing touches the host's network.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "common/hex.hpp"
#include "dhcp/full_reply.hpp"
#include "dhcp/options.hpp"
#include "netbootd/dhcp_leases.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "netbootd/event_loop.hpp"
#include "dhcp/dhcp_fixture.hpp"
#include "netns.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
namespace dhcp = pib::dhcp;
using netbootd::LeaseAnswer;
using netbootd::LeaseStore;
using netbootd::LeaseStoreOptions;
using netbootd::Reservation;
using netbootd::test::enter_netns;
using Kind = dhcp::ClientRequestKind;
using Verdict = LeaseAnswer::Verdict;

namespace {

std::uint32_t ip(const std::string& text) { return pib::netbootd::parse_ipv4(text).value_or(0); }
std::string ip(std::uint32_t a) { return pib::netbootd::ipv4_string(a); }

std::vector<std::uint8_t> mac(std::uint8_t last) { return {0x52, 0x54, 0x00, 0xaa, 0xbb, last}; }

/// Reservations a test can change between calls (the inventory is reloaded live too).
class TestReservations : public netbootd::ReservationSource {
  public:
    std::map<std::string, Reservation> by_mac;
    std::optional<Reservation> reservation_for(std::span<const std::uint8_t> hw) const override {
        return netbootd::MapReservations(by_mac).reservation_for(hw);
    }
    bool is_reserved(std::uint32_t a) const override {
        return netbootd::MapReservations(by_mac).is_reserved(a);
    }
};

LeaseStoreOptions pool_options(const fs::path& file = {}) {
    LeaseStoreOptions o;
    o.network = ip("10.214.1.0");
    o.netmask = ip("255.255.255.0");
    o.range = std::make_pair(ip("10.214.1.100"), ip("10.214.1.102"));
    o.lease_time = 600s;
    o.file = file;
    return o;
}

class DhcpFullLeases : public ::testing::Test {
  protected:
    std::unique_ptr<LeaseStore> open(LeaseStoreOptions o) {
        auto s = LeaseStore::open(std::move(o), reservations_, log_);
        EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
        return s.ok() ? std::move(*s) : nullptr;
    }
    std::string offer(LeaseStore& s, std::uint8_t client, std::uint32_t hint = 0) {
        auto a = s.offer(mac(client), hint, now_);
        return a.verdict == Verdict::grant ? ip(a.address) : "none: " + a.reason;
    }
    LeaseAnswer ack(LeaseStore& s, std::uint8_t client, const std::string& addr,
                    Kind k = Kind::select) {
        return s.request(mac(client), k, ip(addr), now_);
    }

    pib::test::TempDir tmp_;
    TestReservations reservations_;
    pib::Logger log_;
    LeaseStore::TimePoint now_ = LeaseStore::TimePoint(std::chrono::seconds(1'800'000'000));
};

TEST_F(DhcpFullLeases, PoolHandsOutTheLowestFreeAddressAndHoldsOffers) {
    auto s = open(pool_options());
    EXPECT_EQ(offer(*s, 1), "10.214.1.100");
    EXPECT_EQ(offer(*s, 1), "10.214.1.100");  // a repeated DISCOVER gets the same offer
    EXPECT_EQ(offer(*s, 2), "10.214.1.101");  // the first is held for client 1
    EXPECT_EQ(offer(*s, 3, ip("10.214.1.102")), "10.214.1.102");  // option 50, free
    EXPECT_EQ(offer(*s, 4).substr(0, 4), "none");
    now_ += 31s;  // the holds have lapsed
    EXPECT_EQ(offer(*s, 4), "10.214.1.100");
    EXPECT_EQ(offer(*s, 5, ip("10.214.9.9")),
              "10.214.1.101");  // a hint outside the pool is ignored
}

TEST_F(DhcpFullLeases, ReservationsGoToTheirClientOnly) {
    reservations_.by_mac["52:54:00:aa:bb:07"] = Reservation{ip("10.214.1.50"), "node-a", "a"};
    reservations_.by_mac["52:54:00:aa:bb:08"] = Reservation{ip("10.214.1.101"), "node-b", "b"};
    auto s = open(pool_options());
    EXPECT_EQ(offer(*s, 1), "10.214.1.100");
    EXPECT_EQ(offer(*s, 2), "10.214.1.102");  // .101 is node-b's
    EXPECT_EQ(offer(*s, 3, ip("10.214.1.101")).substr(0, 4), "none");
    EXPECT_EQ(ack(*s, 3, "10.214.1.101", Kind::init_reboot).verdict, Verdict::refuse);
    auto a = s->offer(mac(7), 0, now_);
    EXPECT_EQ(ip(a.address), "10.214.1.50");  // outside the pool, inside the subnet
    EXPECT_EQ(a.hostname, "node-a");
    auto r = ack(*s, 7, "10.214.1.50");
    ASSERT_EQ(r.verdict, Verdict::grant) << r.reason;
    EXPECT_EQ(r.hostname, "node-a");
    EXPECT_EQ(r.node, "a");
}

TEST_F(DhcpFullLeases, ReservationTakenByAnotherLeaseFallsBackThenMoves) {
    auto s = open(pool_options());
    ASSERT_EQ(ack(*s, 1, "10.214.1.100", Kind::init_reboot).verdict, Verdict::grant);
    // The inventory now reserves client 1's address for client 7, and client 1 one of its own.
    reservations_.by_mac["52:54:00:aa:bb:07"] = Reservation{ip("10.214.1.100"), "node-a", "a"};
    EXPECT_EQ(offer(*s, 7), "10.214.1.101");  // the holder's lease still runs: the pool meanwhile
    reservations_.by_mac["52:54:00:aa:bb:01"] = Reservation{ip("10.214.1.60"), "node-c", "c"};
    auto renew = ack(*s, 1, "10.214.1.100", Kind::renew);
    EXPECT_EQ(renew.verdict, Verdict::refuse);  // NAK: back to DISCOVER, which offers .60
    EXPECT_EQ(renew.reason, "reserved address is 10.214.1.60");
    EXPECT_EQ(offer(*s, 1), "10.214.1.60");
    ASSERT_EQ(ack(*s, 1, "10.214.1.60").verdict, Verdict::grant);
    EXPECT_EQ(offer(*s, 7), "10.214.1.100");  // free now
}

TEST_F(DhcpFullLeases, RequestsAreCheckedAgainstSubnetPoolAndOtherLeases) {
    auto s = open(pool_options());
    EXPECT_EQ(ack(*s, 1, "10.99.0.5", Kind::init_reboot).verdict,
              Verdict::refuse);  // wrong network
    EXPECT_EQ(ack(*s, 1, "10.214.1.20", Kind::init_reboot).verdict,
              Verdict::refuse);  // not in the pool
    // No record of the client, the address free: granted (authoritative for the subnet).
    EXPECT_EQ(ack(*s, 1, "10.214.1.101", Kind::rebind).verdict, Verdict::grant);
    EXPECT_EQ(ack(*s, 2, "10.214.1.101", Kind::renew).verdict, Verdict::refuse);  // client 1's
    EXPECT_EQ(ack(*s, 1, "10.214.1.101", Kind::renew).verdict, Verdict::grant);
    EXPECT_EQ(offer(*s, 2), "10.214.1.100");
    EXPECT_EQ(ack(*s, 3, "10.214.1.100").verdict, Verdict::refuse);  // held for client 2
}

TEST_F(DhcpFullLeases, ExpiredAndReleasedLeasesStayWithTheirClientWhileThePoolAllows) {
    auto s = open(pool_options());
    ASSERT_EQ(ack(*s, 1, "10.214.1.100").verdict, Verdict::grant);
    ASSERT_EQ(ack(*s, 2, "10.214.1.101").verdict, Verdict::grant);
    s->release(mac(2), ip("10.214.1.101"), now_);
    now_ += 601s;                             // client 1's lease has expired too
    EXPECT_EQ(offer(*s, 3), "10.214.1.102");  // never-used first
    EXPECT_EQ(offer(*s, 2), "10.214.1.101");  // its old address, though released
    EXPECT_EQ(offer(*s, 1), "10.214.1.100");
    ASSERT_EQ(ack(*s, 3, "10.214.1.102").verdict, Verdict::grant);
    ASSERT_EQ(ack(*s, 2, "10.214.1.101").verdict, Verdict::grant);
    now_ += 31s;
    EXPECT_EQ(offer(*s, 4), "10.214.1.100");  // the pool is full: the expired lease is reclaimed
    ASSERT_EQ(ack(*s, 4, "10.214.1.100").verdict, Verdict::grant);
    EXPECT_EQ(s->leases().size(), 3u);  // client 1's record went with its address
}

TEST_F(DhcpFullLeases, DeclinedAddressesAreQuarantined) {
    auto s = open(pool_options());
    EXPECT_EQ(offer(*s, 1), "10.214.1.100");
    s->decline(mac(9), ip("10.214.1.100"), now_);  // not client 9's to decline: ignored
    EXPECT_TRUE(s->declined().empty());
    ASSERT_EQ(ack(*s, 1, "10.214.1.100").verdict, Verdict::grant);
    s->decline(mac(1), ip("10.214.1.100"), now_);
    EXPECT_EQ(s->declined().size(), 1u);
    EXPECT_EQ(offer(*s, 1), "10.214.1.101");
    EXPECT_EQ(ack(*s, 2, "10.214.1.100", Kind::init_reboot).verdict, Verdict::refuse);
    now_ += 601s;
    EXPECT_EQ(offer(*s, 2), "10.214.1.100");
}

TEST_F(DhcpFullLeases, LeasesSurviveReopeningButOffersDoNot) {
    const fs::path file = tmp_ / "leases.json";
    reservations_.by_mac["52:54:00:aa:bb:07"] = Reservation{ip("10.214.1.50"), "node-a", "a"};
    {
        auto s = open(pool_options(file));
        ASSERT_EQ(ack(*s, 1, "10.214.1.101").verdict, Verdict::grant);
        ASSERT_EQ(ack(*s, 7, "10.214.1.50").verdict, Verdict::grant);
        EXPECT_EQ(offer(*s, 2), "10.214.1.100");  // memory only
        ASSERT_EQ(ack(*s, 3, "10.214.1.102").verdict, Verdict::grant);
        s->decline(mac(3), ip("10.214.1.102"), now_);
    }
    const std::string text = pib::test::read_text(file);
    EXPECT_NE(text.find("\"format\": \"netbootd-leases/1\""), std::string::npos) << text;
    EXPECT_NE(text.find("\"hostname\": \"node-a\""), std::string::npos) << text;
    auto s = open(pool_options(file));
    ASSERT_EQ(s->leases().size(), 2u);
    EXPECT_EQ(ip(s->leases()[0].address), "10.214.1.50");
    EXPECT_EQ(s->leases()[1].hwaddr, mac(1));
    EXPECT_EQ(s->leases()[1].expires, now_ + 600s);
    EXPECT_EQ(s->declined().size(), 1u);
    EXPECT_EQ(offer(*s, 4),
              "10.214.1.100");  // client 2's offer did not survive; .102 is quarantined
    EXPECT_EQ(offer(*s, 1), "10.214.1.101");
}

TEST_F(DhcpFullLeases, ACorruptFileIsRefusedWithItsPosition) {
    const fs::path file = tmp_ / "leases.json";
    auto refused = [&](const std::string& text) {
        pib::test::write_text(file, text);
        auto s = LeaseStore::open(pool_options(file), reservations_, log_);
        EXPECT_FALSE(s.ok());
        if (s.ok()) return std::string();
        EXPECT_EQ(s.error().code, pib::Errc::corrupted);
        return s.error().message;
    };
    // Half a file, as an editor or a full disk might leave it.
    std::string msg = refused(
        "{\n  \"format\": \"netbootd-leases/1\",\n  \"leases\": [\n    {\"address\": \"10.2");
    EXPECT_EQ(msg.rfind(file.string() + ":4:", 0), 0u) << msg;
    EXPECT_NE(msg.find("move it aside"), std::string::npos) << msg;
    msg = refused(
        R"({"format": "netbootd-leases/1", "leases": [{"address": "10.214.1.300", "hwaddr": "52:54",)"
        R"( "expires": 5, "colour": 1}], "declined": {}})");
    EXPECT_NE(msg.find(file.string() + ": leases[0].colour: unknown key"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find(file.string() + ": declined: expected a list"), std::string::npos) << msg;
    msg = refused(
        R"({"format": "netbootd-leases/1", "leases": [{"address": "10.214.1.300", "hwaddr": "5254",)"
        R"( "expires": 5}]})");
    EXPECT_NE(msg.find("leases[0].address: not an IPv4 address: 10.214.1.300"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("leases[0].hwaddr: not a colon-separated hardware address"),
              std::string::npos)
        << msg;
    msg = refused(R"({"format": "netbootd-leases/9"})");
    EXPECT_NE(msg.find("format: is 'netbootd-leases/9'"), std::string::npos) << msg;
}

TEST_F(DhcpFullLeases, StaleTemporaryFilesAreRemovedAndTheFileKept) {
    const fs::path file = tmp_ / "leases.json";
    {
        auto s = open(pool_options(file));
        ASSERT_EQ(ack(*s, 1, "10.214.1.101").verdict, Verdict::grant);
    }
    // A crash between write_file_atomic's mkstemp and rename leaves this behind.
    pib::test::write_text(tmp_ / ".leases.json.tmp-Ab12Cd", "{\"format\": \"netbootd-le");
    auto s = open(pool_options(file));
    EXPECT_EQ(s->leases().size(), 1u);
    EXPECT_FALSE(fs::exists(tmp_ / ".leases.json.tmp-Ab12Cd"));
}

TEST_F(DhcpFullLeases, NoAckWithoutADurableRecord) {
    const fs::path file = tmp_ / "leases.json";
    auto s = open(pool_options(file));
    ASSERT_EQ(ack(*s, 1, "10.214.1.101").verdict, Verdict::grant);
    // The file can no longer be replaced (a non-empty directory in its place).
    fs::remove(file);
    pib::test::write_text(file / "blocker", "x");
    auto a = ack(*s, 2, "10.214.1.100");
    EXPECT_EQ(a.verdict, Verdict::ignore);
    EXPECT_NE(a.reason.find("not writable"), std::string::npos);
    EXPECT_EQ(s->leases().size(), 1u);  // rolled back
    EXPECT_EQ(ack(*s, 1, "10.214.1.101", Kind::renew).verdict, Verdict::ignore);
    EXPECT_EQ(s->leases()[0].expires, now_ + 600s);
}

TEST_F(DhcpFullLeases, KillNineWhileWritingLeavesALoadableFile) {
    const fs::path file = tmp_ / "leases.json";
    LeaseStoreOptions o = pool_options(file);
    o.range = std::make_pair(ip("10.214.1.10"), ip("10.214.1.250"));
    std::size_t last = 0;
    for (int round = 0; round < 6; ++round) {
        // The child says when its first lease is durable, so that a loaded
        // machine cannot make the kill land before any write.
        int ready[2];
        ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
        const pid_t child = fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            // The child writes lease after lease until it is killed.
            close(ready[0]);
            auto s = LeaseStore::open(o, reservations_, log_);
            if (!s.ok()) _exit(2);
            for (std::uint32_t i = 0;; ++i) {
                if (i == 1 && write(ready[1], "x", 1) != 1) _exit(3);
                std::vector<std::uint8_t> hw{0x52,
                                             0x54,
                                             0x00,
                                             0x01,
                                             static_cast<std::uint8_t>(i >> 8),
                                             static_cast<std::uint8_t>(i)};
                (*s)->request(hw, Kind::init_reboot, ip("10.214.1.10") + i % 241, now_);
            }
        }
        close(ready[1]);
        char byte = 0;
        const bool started = read(ready[0], &byte, 1) == 1;
        close(ready[0]);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + 15 * round));
        kill(child, SIGKILL);  // the child this test forked
        ASSERT_TRUE(started) << "the child wrote no lease";
        int status = 0;
        waitpid(child, &status, 0);
        ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
        auto s = LeaseStore::open(o, reservations_, log_);
        ASSERT_TRUE(s.ok()) << "round " << round << ": " << s.error().message;
        last = (*s)->leases().size();
        EXPECT_GT(last, 0u);
        for (const auto& e : fs::directory_iterator(tmp_.path()))
            EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    }
}

// ---- netbootd in full mode, in namespaces --------------------------------------

constexpr const char* kServerIp = "10.214.1.1";
constexpr const char* kBridge = "br-s";
constexpr const char* kReservedMac = "52:54:00:aa:bb:07";


class FixedPolicy : public netbootd::BootPolicy {
  public:
    std::optional<dhcp::BootDecision> decide(const dhcp::ClientInfo& client) override {
        dhcp::BootDecision d;
        if (client.kind == dhcp::ClientKind::raspberry_pi) {
            d.pi_menu = true;
            return d;
        }
        if (client.kind != dhcp::ClientKind::bios_pxe) return std::nullopt;
        d.boot_file = "undionly.kpxe";
        return d;
    }
};

/// netbootd's DHCP server in full mode on its own thread inside the server
/// namespace, with its LeaseStore; both are destroyed on that thread in stop().
class FullServerThread {
  public:
    FullServerThread(const std::string& netns, LeaseStoreOptions options,
                     const TestReservations& reservations) {
        std::promise<std::string> ready;
        auto started = ready.get_future();
        thread_ = std::thread([this, netns, options, &reservations, &ready] {
            if (!enter_netns(netns)) return ready.set_value("setns " + netns + " failed");
            auto loop = netbootd::EventLoop::create();
            if (!loop) return ready.set_value("loop failed");
            pib::Logger log(
                [this](pib::Level, const std::string& line) {
                    std::lock_guard lock(mu_);
                    lines_.push_back(line);
                },
                pib::Level::debug);
            auto store = LeaseStore::open(options, reservations, log);
            if (!store) return ready.set_value(store.error().message);
            netbootd::DhcpProxyConfig config;
            config.interface = kBridge;
            config.server_address = kServerIp;
            config.mode = pib::netbootd::DhcpMode::full;
            config.leases = store->get();
            config.network.netmask = {255, 255, 255, 0};
            config.network.routers = {{10, 214, 1, 1}};
            config.network.dns = {{10, 214, 1, 53}, {10, 214, 1, 54}};
            FixedPolicy policy;
            auto server = netbootd::DhcpProxyServer::create(**loop, config, policy, log);
            if (!server) return ready.set_value(server.error().message);
            loop_ = loop->get();
            ready.set_value("");
            [[maybe_unused]] auto st = (*loop)->run();
            metrics_ = (*server)->metrics();
            leases_ = (*store)->leases();
            server->reset();  // before the store, loop, policy and logger it refers to
        });
        error_ = started.get();
    }
    ~FullServerThread() { stop(); }
    const std::string& error() const { return error_; }
    netbootd::DhcpProxyMetrics stop() {
        if (loop_) loop_->stop();
        if (thread_.joinable()) thread_.join();
        loop_ = nullptr;
        return metrics_;
    }
    /// The store's leases as the server stopped.
    const std::vector<netbootd::Lease>& leases() const { return leases_; }
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
    std::vector<netbootd::Lease> leases_;
    std::mutex mu_;
    std::vector<std::string> lines_;
};

class DhcpFullNetns : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
        std::string why;
        ASSERT_TRUE(ns_.add("s", why)) << why;
        // A bridge in the server namespace with one port per client namespace.
        ASSERT_TRUE(
            step({"ip", "-n", ns_.name("s"), "link", "add", kBridge, "type", "bridge"}, why))
            << why;
        ASSERT_TRUE(step({"ip", "-n", ns_.name("s"), "addr", "add", std::string(kServerIp) + "/24",
                          "dev", kBridge},
                         why))
            << why;
        ASSERT_TRUE(step({"ip", "-n", ns_.name("s"), "link", "set", kBridge, "up"}, why)) << why;
        for (const char* c : {"1", "2"}) {
            const std::string client = std::string("c") + c, port = std::string("veth-s") + c;
            ASSERT_TRUE(ns_.add(client, why)) << why;
            ASSERT_TRUE(ns_.link("s", port, "", client, "veth-" + client, "", why)) << why;
            ASSERT_TRUE(
                step({"ip", "-n", ns_.name("s"), "link", "set", port, "master", kBridge}, why))
                << why;
        }
        // Client 1 is the reserved node; client 2 keeps its random MAC.
        ASSERT_TRUE(step({"ip", "-n", ns_.name("c1"), "link", "set", "veth-c1", "down"}, why))
            << why;
        ASSERT_TRUE(step(
            {"ip", "-n", ns_.name("c1"), "link", "set", "veth-c1", "address", kReservedMac}, why))
            << why;
        ASSERT_TRUE(step({"ip", "-n", ns_.name("c1"), "link", "set", "veth-c1", "up"}, why)) << why;
        options_ = pool_options(tmp_ / "leases.json");
        options_.range = std::make_pair(ip("10.214.1.100"), ip("10.214.1.150"));
        options_.lease_time = 3600s;
        for (int i = 0; i < 100; ++i) {
            std::string out;
            pib::test::run({"ip", "-n", ns_.name("c1"), "link", "show", "veth-c1"}, &out);
            if (out.find("state UP") != std::string::npos) break;
            std::this_thread::sleep_for(50ms);
        }
    }

    void start() {
        server_ = std::make_unique<FullServerThread>(ns_.name("s"), options_, reservations_);
        ASSERT_EQ(server_->error(), "");
    }

    static bool step(const std::vector<std::string>& argv, std::string& why) {
        if (pib::test::run(argv, &why) == 0) return true;
        why = argv[argv.size() - 1] + ": " + why;
        return false;
    }

    /// The script udhcpc in client namespace `n` runs: it records the variables
    /// of `bound`. Written once, before any udhcpc runs: a script still open for
    /// writing in this process while another thread forks cannot be executed (ETXTBSY).
    fs::path udhcpc_script(const std::string& n) {
        const fs::path script = tmp_ / ("udhcpc-c" + n + ".sh");
        if (fs::exists(script)) return script;
        pib::test::write_text(
            script,
            "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\n"
            "for v in ip subnet router dns lease hostname; do eval \"echo $v=\\$$v\"; done > " +
                (tmp_ / ("udhcpc-c" + n + ".env")).string() + "\n",
            0755);
        return script;
    }

    /// busybox udhcpc in client namespace `n` until bound, then it exits; the
    /// variables its script saw (ip, subnet, router, dns, lease, hostname).
    std::map<std::string, std::string> udhcpc(const std::string& n) {
        const fs::path script = udhcpc_script(n);
        const fs::path env = tmp_ / ("udhcpc-c" + n + ".env");
        std::string out;
        std::vector<std::string> argv{"ip",
                                      "netns",
                                      "exec",
                                      ns_.name("c" + n),
                                      "timeout",
                                      "30",
                                      "busybox",
                                      "udhcpc",
                                      "-i",
                                      "veth-c" + n,
                                      "-n",
                                      "-q",
                                      "-f",
                                      "-t",
                                      "5",
                                      "-T",
                                      "1",
                                      "-s",
                                      script.string()};
        const int rc = pib::test::run(argv, &out);
        EXPECT_EQ(rc, 0) << out << (server_ ? server_->log_text() : "");
        std::map<std::string, std::string> vars;
        std::istringstream lines(pib::test::read_text(env));
        for (std::string line; std::getline(lines, line);) {
            const auto eq = line.find('=');
            if (eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
        }
        return vars;
    }

    /// Broadcasts `request` from 0.0.0.0:68 in client namespace c1 (up to 5
    /// tries) and returns the reply with the same xid.
    std::optional<dhcp::DhcpPacket> exchange(const dhcp::DhcpPacket& request) {
        std::optional<dhcp::DhcpPacket> answer;
        std::thread t([&] {
            if (!enter_netns(ns_.name("c1"))) return ADD_FAILURE() << "setns client";
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "veth-c1", 7);
            timeval tv{0, 300000};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            sockaddr_in local{};
            local.sin_family = AF_INET;
            local.sin_port = htons(dhcp::kClientPort);
            if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
                close(fd);
                return ADD_FAILURE() << "bind 0.0.0.0:68: " << strerror(errno);
            }
            sockaddr_in dst{};
            dst.sin_family = AF_INET;
            dst.sin_port = htons(dhcp::kServerPort);
            dst.sin_addr.s_addr = htonl(INADDR_BROADCAST);
            const auto bytes = dhcp::encode(request);
            for (int attempt = 0; attempt < 5 && !answer; ++attempt) {
                sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                       sizeof dst);
                const auto until = std::chrono::steady_clock::now() + 1s;
                while (!answer && std::chrono::steady_clock::now() < until) {
                    std::uint8_t buf[2048];
                    ssize_t n = recv(fd, buf, sizeof buf, 0);
                    if (n < 0) continue;
                    auto p = dhcp::decode(
                        std::span<const std::uint8_t>(buf, static_cast<std::size_t>(n)));
                    if (p && p->op == dhcp::kBootReply && p->xid == request.xid) answer = *p;
                }
            }
            close(fd);
        });
        t.join();
        return answer;
    }

    static bool in_pool(const std::string& a) {
        return ip(a) >= ip("10.214.1.100") && ip(a) <= ip("10.214.1.150");
    }

    pib::test::TempDir tmp_;
    netbootd::test::NetnsGuard ns_{"pibtest-dfull"};  // after tmp_, destroyed before it
    LeaseStoreOptions options_;
    TestReservations reservations_;
    std::unique_ptr<FullServerThread> server_;
};

TEST_F(DhcpFullNetns, UdhcpcGetsAPoolAddressWithRouterDnsAndLease) {
    start();
    auto vars = udhcpc("2");
    EXPECT_TRUE(in_pool(vars["ip"])) << vars["ip"] << "\n" << server_->log_text();
    EXPECT_EQ(vars["subnet"], "255.255.255.0");
    EXPECT_EQ(vars["router"], "10.214.1.1");
    EXPECT_EQ(vars["dns"], "10.214.1.53 10.214.1.54");
    EXPECT_EQ(vars["lease"], "3600");
    EXPECT_EQ(vars["hostname"], "");
    auto m = server_->stop();
    EXPECT_GE(m.offers, 1u);
    EXPECT_GE(m.acks, 1u);
    EXPECT_EQ(m.naks, 0u);
    EXPECT_EQ(m.dropped, 0u);
    ASSERT_EQ(server_->leases().size(), 1u);
    EXPECT_EQ(ip(server_->leases()[0].address), vars["ip"]);
}

TEST_F(DhcpFullNetns, ReservedMacGetsItsAddressAndHostname) {
    reservations_.by_mac[kReservedMac] = Reservation{ip("10.214.1.50"), "node-a", "a"};
    start();
    auto vars = udhcpc("1");
    EXPECT_EQ(vars["ip"], "10.214.1.50") << server_->log_text();
    EXPECT_EQ(vars["hostname"], "node-a");
    EXPECT_NE(server_->log_text().find("node=a"), std::string::npos);
}

TEST_F(DhcpFullNetns, TwoClientsAtOnceGetDifferentAddresses) {
    start();
    std::map<std::string, std::string> one, two;
    udhcpc_script("1");
    udhcpc_script("2");
    std::thread a([&] { one = udhcpc("1"); });
    std::thread b([&] { two = udhcpc("2"); });
    a.join();
    b.join();
    EXPECT_TRUE(in_pool(one["ip"])) << one["ip"] << "\n" << server_->log_text();
    EXPECT_TRUE(in_pool(two["ip"])) << two["ip"] << "\n" << server_->log_text();
    EXPECT_NE(one["ip"], two["ip"]);
    server_->stop();
    EXPECT_EQ(server_->leases().size(), 2u);
}

TEST_F(DhcpFullNetns, DhclientGetsAnAddressAndRenews) {
    options_.lease_time = 6s;  // T1 = 3 s: dhclient renews within the run
    start();
    const fs::path script = tmp_ / "dhclient.sh";
    const fs::path events = tmp_ / "dhclient.events";
    // Configures the address (renewals are unicast from it) and records each event.
    pib::test::write_text(
        script,
        "#!/bin/sh\necho \"$reason $new_ip_address $new_subnet_mask $new_routers\" >> " +
            events.string() +
            "\ncase \"$reason\" in BOUND|RENEW|REBIND|REBOOT)\n"
            "  ip addr replace \"$new_ip_address/$new_subnet_mask\" dev \"$interface\";;\nesac\n"
            "exit 0\n",
        0755);
    std::string out;
    // In the foreground; `timeout` ends it after two or three renewals.
    pib::test::run({"ip", "netns", "exec", ns_.name("c2"), "timeout", "12", "dhclient", "-d", "-1",
                    "-v", "-sf", script.string(), "-pf", (tmp_ / "dhclient.pid").string(), "-lf",
                    (tmp_ / "dhclient.leases").string(), "veth-c2"},
                   &out);
    const std::string log = pib::test::read_text(events);
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(log, m, std::regex(R"(BOUND ([0-9.]+) 255\.255\.255\.0 10\.214\.1\.1)")))
        << log << out << server_->log_text();
    EXPECT_TRUE(in_pool(m[1].str()));
    EXPECT_NE(log.find("RENEW " + m[1].str()), std::string::npos)
        << log << out << server_->log_text();
    // dhclient -r: a RELEASE, unicast from the (still configured) address.
    pib::test::run({"ip", "netns", "exec", ns_.name("c2"), "timeout", "10", "dhclient", "-r", "-v",
                    "-sf", script.string(), "-pf", (tmp_ / "dhclient.pid").string(), "-lf",
                    (tmp_ / "dhclient.leases").string(), "veth-c2"},
                   &out);
    for (int i = 0; i < 50 && server_->log_text().find("lease_released") == std::string::npos; ++i)
        std::this_thread::sleep_for(20ms);
    auto metrics = server_->stop();
    EXPECT_NE(server_->log_text().find("request=renew"), std::string::npos) << server_->log_text();
    EXPECT_GE(metrics.acks, 2u);
    EXPECT_EQ(metrics.naks, 0u);
    EXPECT_EQ(metrics.releases, 1u) << out << server_->log_text();
    ASSERT_EQ(server_->leases().size(), 1u);  // released, kept for the client's next visit
    EXPECT_LE(server_->leases()[0].expires, std::chrono::system_clock::now());
}

TEST_F(DhcpFullNetns, RestartedServerGivesTheSameAddressFromTheLeaseFile) {
    start();
    const std::string first = udhcpc("2")["ip"];   // the lowest free address
    const std::string second = udhcpc("1")["ip"];  // the next one
    ASSERT_TRUE(in_pool(first)) << server_->log_text();
    ASSERT_TRUE(in_pool(second));
    ASSERT_NE(first, second);
    server_.reset();  // stopped and destroyed: only the file remembers
    start();
    // Client 1 asks first now: without the file it would get `first`.
    EXPECT_EQ(udhcpc("1")["ip"], second) << server_->log_text();
    EXPECT_EQ(udhcpc("2")["ip"], first);
    EXPECT_NE(server_->log_text().find("leases_loaded"), std::string::npos);
}

TEST_F(DhcpFullNetns, ForeignAddressIsNaked) {
    start();
    // INIT-REBOOT with an address from another network: a broadcast NAK (RFC 2131 §4.3.2).
    dhcp::DhcpPacket reboot;
    reboot.xid = 0x5eed;
    reboot.chaddr = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0x07};
    dhcp::set_message_type(reboot.options, dhcp::MessageType::request);
    reboot.options.set(dhcp::code::requested_address, std::vector<std::uint8_t>{10, 99, 0, 5});
    auto nak = exchange(reboot);
    ASSERT_TRUE(nak.has_value()) << server_->log_text();
    EXPECT_EQ(*dhcp::message_type(nak->options), dhcp::MessageType::nak);
    EXPECT_TRUE(nak->options.contains(dhcp::code::message));
    EXPECT_EQ(nak->yiaddr, dhcp::Ipv4{});

    auto m = server_->stop();
    EXPECT_EQ(m.naks, 1u);
    EXPECT_TRUE(server_->leases().empty());
}

TEST_F(DhcpFullNetns, PxeDiscoverGetsAnAddressAndTheBootFile) {
    start();
    dhcp::DhcpPacket discover = pib::dhcp::test::load_packet("bios_pxe_discover");
    auto offer = exchange(discover);
    ASSERT_TRUE(offer.has_value()) << server_->log_text();
    EXPECT_EQ(*dhcp::message_type(offer->options), dhcp::MessageType::offer);
    EXPECT_TRUE(in_pool(dhcp::to_string(offer->yiaddr))) << dhcp::to_string(offer->yiaddr);
    EXPECT_EQ(dhcp::field_string(offer->file), "undionly.kpxe");
    EXPECT_EQ(dhcp::to_string(offer->siaddr), kServerIp);
    EXPECT_TRUE(offer->options.contains(dhcp::code::lease_time));

    // The ROM takes the offer: REQUEST in SELECTING, ACK with the same address and file.
    dhcp::DhcpPacket request = discover;
    dhcp::set_message_type(request.options, dhcp::MessageType::request);
    dhcp::set_server_id(request.options, *dhcp::server_id(offer->options));
    request.options.set(dhcp::code::requested_address,
                        std::vector<std::uint8_t>(offer->yiaddr.begin(), offer->yiaddr.end()));
    auto ack = exchange(request);
    ASSERT_TRUE(ack.has_value()) << server_->log_text();
    EXPECT_EQ(*dhcp::message_type(ack->options), dhcp::MessageType::ack);
    EXPECT_EQ(ack->yiaddr, offer->yiaddr);
    EXPECT_EQ(dhcp::field_string(ack->file), "undionly.kpxe");

    // A Pi gets an address and the boot menu in one offer.
    auto pi = exchange(pib::dhcp::test::load_packet("pi4_discover"));
    ASSERT_TRUE(pi.has_value()) << server_->log_text();
    EXPECT_TRUE(in_pool(dhcp::to_string(pi->yiaddr)));
    EXPECT_NE(pi->yiaddr, offer->yiaddr);
    ASSERT_NE(pi->options.find(dhcp::code::vendor_specific), nullptr);
    EXPECT_EQ(pib::to_hex(*pi->options.find(dhcp::code::vendor_specific)),
              "0601030a0400505845091400001152617370626572727920506920426f6f74ff");
    auto m = server_->stop();
    EXPECT_EQ(m.offers, 2u);
    EXPECT_EQ(m.acks, 1u);
}

}  // namespace
