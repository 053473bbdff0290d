// The TFTP server against real clients (tftp-hpa, atftp, curl) over a veth pair
// between two network namespaces this test creates and always removes. The server
// runs in-process on a thread that joined the server namespace; clients run in the
// client namespace through `ip netns exec`. Nothing touches the host's network.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "netbootd/event_loop.hpp"
#include "netbootd/file_resolver.hpp"
#include "netbootd/tftp_server.hpp"
#include "netns.hpp"
#include "support/test_support.hpp"
#include "tftp/packet.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pib::test::run;

namespace {

constexpr const char* kServerIp = "10.213.0.1";
constexpr const char* kClientIp = "10.213.0.2";

/// Two namespaces joined by a veth (netns.hpp's guard deletes them whatever happened).
class NetnsPair {
public:
    NetnsPair() : server(guard_.name("s")), client(guard_.name("c")) {}

    /// Creates both namespaces and the link; false (with the failing command in `why`) on error.
    bool setup(std::string& why) {
        return guard_.add("s", why) && guard_.add("c", why) &&
               guard_.link("s", "veth-s", std::string(kServerIp) + "/24", "c", "veth-c",
                           std::string(kClientIp) + "/24", why);
    }

private:
    netbootd::test::NetnsGuard guard_{"pibtest-tftp"};

public:
    const std::string server;
    const std::string client;
};

using netbootd::test::enter_netns;

/// The server on its own thread inside the server namespace; stopped and joined in the destructor.
class ServerThread {
public:
    ServerThread(const std::string& netns, const fs::path& root, netbootd::TftpServerConfig config = {}) {
        std::promise<std::string> ready;
        auto started = ready.get_future();
        thread_ = std::thread([this, netns, root, config, &ready]() mutable {
            if (!enter_netns(netns)) return ready.set_value("setns " + netns + " failed");
            auto loop = netbootd::EventLoop::create();
            auto resolver = netbootd::DirectoryResolver::create(root.string());
            if (!loop || !resolver) return ready.set_value("loop or resolver failed");
            pib::Logger log([this](pib::Level, const std::string& line) {
                std::lock_guard lock(mu_);
                lines_.push_back(line);
            });
            config.address = kServerIp;
            config.port = 69;
            auto server = netbootd::TftpServer::create(**loop, config, **resolver, log);
            if (!server) return ready.set_value(server.error().message);
            loop_ = loop->get();
            ready.set_value("");
            [[maybe_unused]] auto st = (*loop)->run();
            metrics_ = (*server)->metrics();
            server->reset();  // before the loop and the logger it refers to
        });
        error_ = started.get();
    }
    ~ServerThread() { stop(); }
    /// Empty when the server is listening.
    const std::string& error() const { return error_; }
    /// Stops the server and returns its final metrics.
    netbootd::TftpMetrics stop() {
        if (loop_) loop_->stop();
        if (thread_.joinable()) thread_.join();
        loop_ = nullptr;
        return metrics_;
    }
    std::vector<std::string> log_lines() {
        std::lock_guard lock(mu_);
        return lines_;
    }

private:
    std::thread thread_;
    std::string error_;
    netbootd::EventLoop* loop_ = nullptr;
    netbootd::TftpMetrics metrics_;
    std::mutex mu_;
    std::vector<std::string> lines_;
};

/// A bare UDP socket (receive timeout `seconds`) that has sent `rrq` to the server's port 69;
/// call from a thread inside the client namespace.
int send_raw_rrq(const pib::tftp::ReadRequest& rrq, int seconds) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval tv{seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    server.sin_port = htons(69);
    inet_pton(AF_INET, kServerIp, &server.sin_addr);
    auto req = pib::tftp::encode(rrq);
    sendto(fd, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&server), sizeof server);
    return fd;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen() & 0xff);
    return s;
}

std::string read_binary(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

class TftpServerNetns : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(pib::test::is_root()) << "needs root for network namespaces";
        std::string why;
        ASSERT_TRUE(ns_.setup(why)) << why;
        fs::create_directories(root());
        start_server({});
    }
    void start_server(netbootd::TftpServerConfig config) {
        server_.reset();
        server_ = std::make_unique<ServerThread>(ns_.server, root(), config);
        ASSERT_EQ(server_->error(), "");
    }
    /// Runs `body` on a thread that joined the client namespace.
    void in_client_netns(const std::function<void()>& body) {
        std::thread t([&] {
            if (!enter_netns(ns_.client)) {
                ADD_FAILURE() << "setns " << ns_.client;
                return;
            }
            body();
        });
        t.join();
    }
    void TearDown() override { server_.reset(); }

    fs::path root() const { return tmp_.path() / "root"; }
    fs::path out(const std::string& name) const { return tmp_.path() / ("out-" + name); }
    void put(const std::string& rel, const std::string& bytes) {
        fs::create_directories((root() / rel).parent_path());
        std::ofstream(root() / rel, std::ios::binary) << bytes;
    }
    /// Runs argv in the client namespace, bounded in time.
    int client(std::vector<std::string> argv, std::string* output = nullptr) {
        argv.insert(argv.begin(), {"ip", "netns", "exec", ns_.client, "timeout", "60"});
        return run(argv, output);
    }
    int curl(const std::string& file, const fs::path& dest) {
        return client({"curl", "-s", "--path-as-is", std::string("tftp://") + kServerIp + "/" + file,
                       "--tftp-blksize", "1468", "-o", dest.string()});
    }
    int atftp(const std::string& file, const fs::path& dest) {
        return client({"atftp", "--option", "blksize 1468", "--option", "tsize 0", "--option",
                       "windowsize 16", "-g", "-r", file, "-l", dest.string(), kServerIp});
    }
    int tftp_hpa(const std::string& file, const fs::path& dest, std::string* output) {
        return client({"tftp", "-m", "binary", kServerIp, "-c", "get", file, dest.string()}, output);
    }

    pib::test::TempDir tmp_;
    NetnsPair ns_;  // declared after tmp_, destroyed before it; the server goes first (TearDown)
    std::unique_ptr<ServerThread> server_;
};

TEST_F(TftpServerNetns, RealClientsFetchIdenticalBytes) {
    const std::string big = random_bytes(5 << 20, 1);
    const std::string exact1468 = random_bytes(1468 * 100, 2);  // last DATA is empty
    const std::string exact512 = random_bytes(512 * 200, 3);    // tftp-hpa: no options, 512
    put("big.bin", big);
    put("exact1468.bin", exact1468);
    put("exact512.bin", exact512);

    for (const auto& [name, bytes] : std::vector<std::pair<std::string, std::string>>{
             {"big.bin", big}, {"exact1468.bin", exact1468}, {"exact512.bin", exact512}}) {
        std::string hpa_out;
        EXPECT_EQ(curl(name, out("curl-" + name)), 0) << name;
        EXPECT_EQ(atftp(name, out("atftp-" + name)), 0) << name;
        EXPECT_EQ(tftp_hpa(name, out("hpa-" + name), &hpa_out), 0) << name << hpa_out;
        EXPECT_TRUE(read_binary(out("curl-" + name)) == bytes) << "curl " << name;
        EXPECT_TRUE(read_binary(out("atftp-" + name)) == bytes) << "atftp " << name;
        EXPECT_TRUE(read_binary(out("hpa-" + name)) == bytes) << "tftp-hpa " << name;
    }
    auto metrics = server_->stop();
    EXPECT_EQ(metrics.completed, 9u);
    EXPECT_EQ(metrics.in_flight, 0u);
    EXPECT_EQ(metrics.errors, 0u);
    bool logged = false;
    for (const auto& line : server_->log_lines())
        logged |= line.find("tftp transfer_done") != std::string::npos &&
                  line.find("file=big.bin") != std::string::npos &&
                  line.find("bytes=5242880") != std::string::npos &&
                  line.find("result=completed") != std::string::npos;
    EXPECT_TRUE(logged);
}

TEST_F(TftpServerNetns, MissingFileIsErrorOne) {
    // curl: 68 is CURLE_TFTP_NOTFOUND (ERROR 1).
    EXPECT_EQ(curl("nope.bin", out("nope")), 68);
    std::string hpa_out;
    tftp_hpa("nope.bin", out("nope-hpa"), &hpa_out);
    EXPECT_NE(hpa_out.find("Error code 1"), std::string::npos) << hpa_out;
}

TEST_F(TftpServerNetns, TraversalAndEscapingSymlinksAreRefused) {
    const fs::path outside = tmp_.path() / "secret.txt";
    std::ofstream(outside) << "secret\n";
    fs::create_symlink(outside, root() / "abs-link");
    fs::create_symlink("../secret.txt", root() / "rel-link");
    put("inside.txt", "ok\n");
    fs::create_symlink("inside.txt", root() / "good-link");
    // curl: 69 is CURLE_TFTP_PERM (ERROR 2, access violation).
    EXPECT_EQ(curl("../etc/passwd", out("a")), 69);
    EXPECT_EQ(curl("../secret.txt", out("b")), 69);
    EXPECT_EQ(curl("abs-link", out("c")), 69);
    EXPECT_EQ(curl("rel-link", out("d")), 69);
    std::string hpa_out;
    tftp_hpa("../etc/passwd", out("e"), &hpa_out);
    EXPECT_NE(hpa_out.find("Error code 2"), std::string::npos) << hpa_out;
    // A symlink that stays beneath the root is followed.
    EXPECT_EQ(curl("good-link", out("f")), 0);
    EXPECT_EQ(read_binary(out("f")), "ok\n");
}

TEST_F(TftpServerNetns, WriteRequestIsRefused) {
    std::ofstream(tmp_.path() / "upload.txt") << "x\n";
    std::string hpa_out;
    client({"tftp", "-m", "binary", kServerIp, "-c", "put", (tmp_.path() / "upload.txt").string(), "upload.txt"},
           &hpa_out);
    EXPECT_NE(hpa_out.find("Error code 2"), std::string::npos) << hpa_out;
    EXPECT_FALSE(fs::exists(root() / "upload.txt"));
}

TEST_F(TftpServerNetns, PiSerialPathsResolveThroughTheDirectory) {
    put("1234abcd/start4.elf", "board-specific\n");
    put("start4.elf", "shared\n");
    EXPECT_EQ(curl("1234abcd/start4.elf", out("own")), 0);
    EXPECT_EQ(read_binary(out("own")), "board-specific\n");
    // A board without its own directory gets the shared file.
    EXPECT_EQ(atftp("deadbeef/start4.elf", out("shared")), 0);
    EXPECT_EQ(read_binary(out("shared")), "shared\n");
}

TEST_F(TftpServerNetns, EarlyTerminateAfterOackThenNextRequestServed) {
    const std::string bytes = random_bytes(100000, 4);
    put("kernel.img", bytes);
    // The Pi bootloader's pattern: RRQ with tsize, read the size from the OACK, ERROR 0.
    std::promise<std::string> result;
    auto future = result.get_future();
    std::thread raw([&] {
        if (!enter_netns(ns_.client)) return result.set_value("setns failed");
        int fd = send_raw_rrq({"kernel.img", "octet", {{"tsize", "0"}, {"blksize", "1024"}}}, 5);
        std::uint8_t buf[2048];
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        std::string got = n > 0 ? pib::tftp::describe(*pib::tftp::decode({buf, static_cast<std::size_t>(n)}))
                                : std::string("no reply");
        auto err = pib::tftp::encode(pib::tftp::ErrorPacket{pib::tftp::ErrorCode::not_defined, "abort"});
        sendto(fd, err.data(), err.size(), 0, reinterpret_cast<sockaddr*>(&from), sizeof from);
        close(fd);
        result.set_value(got);
    });
    std::string oack = future.get();
    raw.join();
    EXPECT_NE(oack.find("OACK"), std::string::npos) << oack;
    EXPECT_NE(oack.find("100000"), std::string::npos) << oack;
    EXPECT_EQ(curl("kernel.img", out("k")), 0);
    EXPECT_TRUE(read_binary(out("k")) == bytes);
    auto metrics = server_->stop();
    EXPECT_EQ(metrics.in_flight, 0u);
    EXPECT_EQ(metrics.completed, 1u);
    bool aborted = false;
    for (const auto& line : server_->log_lines())
        aborted |= line.find("result=client_aborted") != std::string::npos;
    EXPECT_TRUE(aborted);
}

TEST_F(TftpServerNetns, MalformedPacketsAreDroppedAndServingContinues) {
    put("a.txt", "still serving\n");
    std::string out_text;
    // Garbage and a stray ACK at port 69; the server logs and keeps serving.
    client({"bash", "-c",
            std::string("printf '\\x00\\x09junk' > /dev/udp/") + kServerIp + "/69; "
            "printf '\\x00\\x04\\x00\\x01' > /dev/udp/" + kServerIp + "/69"},
           &out_text);
    EXPECT_EQ(curl("a.txt", out("a")), 0);
    EXPECT_EQ(read_binary(out("a")), "still serving\n");
    auto metrics = server_->stop();
    EXPECT_EQ(metrics.dropped, 2u);
    int drop_lines = 0;
    for (const auto& line : server_->log_lines()) drop_lines += line.find("packet_dropped") != std::string::npos;
    EXPECT_EQ(drop_lines, 1);  // rate-limited per client
}

TEST_F(TftpServerNetns, TwoHundredConcurrentTransfers) {
    const std::string bytes = random_bytes(1 << 20, 5);
    put("initrd.img", bytes);
    const fs::path dir = tmp_.path() / "storm";
    fs::create_directories(dir);
    // Each client is bounded by its own timeout, so `wait` always returns.
    const std::string script =
        "for i in $(seq 1 200); do "
        "  if [ $((i % 2)) -eq 0 ]; then "
        "    timeout 120 curl -s tftp://" + std::string(kServerIp) + "/initrd.img --tftp-blksize 1468 -o " +
        dir.string() + "/$i & "
        "  else "
        "    timeout 120 atftp --option 'blksize 1468' --option 'tsize 0' -g -r initrd.img -l " +
        dir.string() + "/$i " + kServerIp + " >/dev/null 2>&1 & "
        "  fi; "
        "done; wait";
    std::string output;
    run({"ip", "netns", "exec", ns_.client, "timeout", "300", "bash", "-c", script}, &output);
    int good = 0;
    for (int i = 1; i <= 200; ++i) good += read_binary(dir / std::to_string(i)) == bytes;
    EXPECT_EQ(good, 200) << output;
    auto metrics = server_->stop();
    EXPECT_EQ(metrics.completed, 200u);
    EXPECT_EQ(metrics.in_flight, 0u);
}

TEST_F(TftpServerNetns, BlockNumbersRollOverPast65535) {
    // tftp-hpa sends no options: 512-byte blocks, so 32 MiB + 1000 needs 65538 blocks.
    const std::string bytes = random_bytes((512u << 16) + 1000, 7);
    put("rootfs.img", bytes);
    std::string hpa_out;
    EXPECT_EQ(tftp_hpa("rootfs.img", out("r"), &hpa_out), 0) << hpa_out;
    EXPECT_TRUE(read_binary(out("r")) == bytes);
    server_->stop();
    bool warned = false;
    for (const auto& line : server_->log_lines()) warned |= line.find("tftp block_rollover") != std::string::npos;
    EXPECT_TRUE(warned);
}

TEST_F(TftpServerNetns, SilentClientTimesOutAfterRetransmissions) {
    netbootd::TftpServerConfig config;
    config.limits.default_timeout = 50ms;
    config.limits.max_backoff = 100ms;
    config.limits.max_retransmits = 3;
    start_server(config);
    put("f.bin", random_bytes(5000, 6));
    int data1 = 0;
    in_client_netns([&] {
        int fd = send_raw_rrq({"f.bin", "octet", {}}, 2);
        std::uint8_t buf[600];
        // Never ACK: DATA 1 comes once and then once per retransmission, then nothing.
        while (recv(fd, buf, sizeof buf, 0) > 0) ++data1;
        close(fd);
    });
    EXPECT_EQ(data1, 4);
    auto metrics = server_->stop();
    EXPECT_EQ(metrics.in_flight, 0u);
    EXPECT_EQ(metrics.errors, 1u);
    bool timed_out = false;
    for (const auto& line : server_->log_lines())
        timed_out |= line.find("result=timed_out") != std::string::npos;
    EXPECT_TRUE(timed_out);
}

}  // namespace
