// The HTTP server against the real curl binary on 127.0.0.1: whole files, HEAD,
// ranges, conditionals, POST bodies and their limit, 64 parallel downloads, a
// slow reader, raw garbage over TCP, and no descriptor leaks. The server runs on
// an EventLoop in its own thread with a test handler serving a temporary directory.
#include "netbootd/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "netbootd/event_loop.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netbootd::HttpRequest;
using netbootd::HttpResponse;
using pib::test::run;

namespace {

/// Serves files below `root` with ETag "\"<name>-v1\""; records POST bodies; /boom throws.
class DirHandler : public netbootd::HttpHandler {
public:
    explicit DirHandler(fs::path root) : root_(std::move(root)) {}

    HttpResponse handle(const HttpRequest& r) override {
        if (r.path == "/boom") throw std::runtime_error("handler exploded");
        if (r.method == "POST") {
            std::lock_guard lock(mu_);
            posted_ = r.body;
            query_ = r.query;
            return HttpResponse::text(200, "got " + std::to_string(r.body.size()) + "\n");
        }
        const std::string name = r.path.substr(1);
        if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos)
            return HttpResponse::text(404, "not found\n");
        int fd = open((root_ / name).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return HttpResponse::text(404, "not found\n");
        struct stat st{};
        fstat(fd, &st);
        HttpResponse resp;
        resp.file = netbootd::HttpFile{fd, static_cast<std::uint64_t>(st.st_size), "\"" + name + "-v1\"",
                                       static_cast<std::int64_t>(st.st_mtime)};
        resp.headers.emplace_back("Cache-Control", "no-cache");
        return resp;
    }
    std::string posted() {
        std::lock_guard lock(mu_);
        return posted_;
    }
    std::string query() {
        std::lock_guard lock(mu_);
        return query_;
    }

private:
    fs::path root_;
    std::mutex mu_;
    std::string posted_, query_;
};

/// The server on its own loop thread; stop() joins it and returns the final metrics.
class Server {
public:
    Server(DirHandler& handler, netbootd::HttpServerConfig config = {}) {
        std::signal(SIGPIPE, SIG_IGN);  // as netbootd does: lets MHD use sendfile
        std::promise<std::string> ready;
        auto started = ready.get_future();
        thread_ = std::thread([&, config]() mutable {
            auto loop = netbootd::EventLoop::create();
            if (!loop) return ready.set_value(loop.error().message);
            pib::Logger log([this](pib::Level, const std::string& line) {
                std::lock_guard lock(mu_);
                lines_.push_back(line);
            });
            config.address = "127.0.0.1";
            config.port = 0;
            auto server = netbootd::HttpServer::create(**loop, config, handler, log);
            if (!server) return ready.set_value(server.error().message);
            port_ = (*server)->port();
            loop_ = loop->get();
            ready.set_value("");
            [[maybe_unused]] auto st = (*loop)->run();
            metrics_ = (*server)->metrics();
            server->reset();
        });
        error_ = started.get();
    }
    ~Server() { stop(); }
    const std::string& error() const { return error_; }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(port_) + path;
    }
    std::uint16_t port() const { return port_; }
    netbootd::HttpMetrics stop() {
        if (loop_) loop_->stop();
        if (thread_.joinable()) thread_.join();
        loop_ = nullptr;
        return metrics_;
    }
    std::vector<std::string> lines() {
        std::lock_guard lock(mu_);
        return lines_;
    }

private:
    std::thread thread_;
    std::string error_;
    std::uint16_t port_ = 0;
    netbootd::EventLoop* loop_ = nullptr;
    netbootd::HttpMetrics metrics_;
    std::mutex mu_;
    std::vector<std::string> lines_;
};

std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
}

void write_file(const fs::path& p, const std::string& data) {
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

struct Reply {
    int status = 0;
    std::string headers;  ///< lower-cased
    std::string body;
};

/// Runs curl with `args` + URL; the body goes to a file in `dir`.
Reply curl(const pib::test::TempDir& dir, const std::string& url, std::vector<std::string> args = {},
           const std::string& tag = "out") {
    const fs::path body = dir / (tag + ".body"), headers = dir / (tag + ".hdr");
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "60", "-o", body.string(), "-D",
                                      headers.string(), "-w", "%{http_code}"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(url);
    std::string out;
    Reply r;
    if (run(argv, &out) != 0) return r;
    r.status = std::atoi(out.c_str());
    r.headers = read_file(headers);
    for (char& c : r.headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.body = read_file(body);
    return r;
}

bool has_header(const Reply& r, const std::string& line) {
    return r.headers.find(line + "\r\n") != std::string::npos;
}

int count_fds() {
    int n = 0;
    for ([[maybe_unused]] auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

/// Sends raw bytes to the server and reads until it closes, 3 s pass or `max_read` bytes came.
std::string send_raw(std::uint16_t port, const std::string& bytes, bool half_close = true,
                     std::size_t max_read = SIZE_MAX) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
        std::size_t off = 0;
        while (off < bytes.size()) {
            ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
            if (n <= 0) break;
            off += static_cast<std::size_t>(n);
        }
        if (half_close) shutdown(fd, SHUT_WR);
        char buf[4096];
        ssize_t n;
        while (got.size() < max_read && (n = recv(fd, buf, sizeof buf, 0)) > 0)
            got.append(buf, static_cast<std::size_t>(n));
    }
    close(fd);
    return got;
}

class HttpServerTest : public ::testing::Test {
protected:
    void SetUp() override {
        data = random_bytes(3 << 20, 1);
        write_file(root / "big", data);
        write_file(root / "small", "hello, world\n");
    }
    /// Starts the server over `root`; false (with the reason reported) when it cannot listen.
    bool start(netbootd::HttpServerConfig config = {}) {
        handler = std::make_unique<DirHandler>(root.path());
        server = std::make_unique<Server>(*handler, config);
        EXPECT_EQ(server->error(), "");
        return server->error().empty();
    }
    pib::test::TempDir root;
    pib::test::TempDir scratch;
    std::string data;
    std::unique_ptr<DirHandler> handler;
    std::unique_ptr<Server> server;  // declared after the handler: stopped first
};

}  // namespace

TEST_F(HttpServerTest, HttpGetIsByteIdenticalWithValidators) {
    ASSERT_TRUE(start());
    Reply r = curl(scratch, server->url("/big"));
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == data) << "body differs, size " << r.body.size();
    EXPECT_TRUE(has_header(r, "content-length: " + std::to_string(data.size())));
    EXPECT_TRUE(has_header(r, "accept-ranges: bytes"));
    EXPECT_TRUE(has_header(r, "etag: \"big-v1\""));
    EXPECT_TRUE(has_header(r, "content-type: application/octet-stream"));
    EXPECT_TRUE(has_header(r, "cache-control: no-cache"));
    EXPECT_NE(r.headers.find("last-modified: "), std::string::npos);
    auto lines = server->lines();
    bool logged = false;
    for (const auto& l : lines)
        logged |= l.starts_with("http request method=GET path=/big status=200 bytes=3145728 ms=") &&
                  l.ends_with(" client=127.0.0.1");
    EXPECT_TRUE(logged);
    auto m = server->stop();
    EXPECT_EQ(m.requests, 1u);
    EXPECT_EQ(m.bytes_sent, data.size());
    EXPECT_EQ(m.in_flight, 0u);
}

TEST_F(HttpServerTest, HttpHeadSendsHeadersOnly) {
    ASSERT_TRUE(start());
    Reply r = curl(scratch, server->url("/big"), {"-I"});
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(has_header(r, "content-length: " + std::to_string(data.size())));
    EXPECT_TRUE(has_header(r, "etag: \"big-v1\""));
    EXPECT_EQ(r.body.size(), r.headers.size());  // curl -I writes the headers as its output
    // On the wire: the headers and not one byte more, then the next request on the same connection.
    std::string raw = send_raw(server->port(), "HEAD /big HTTP/1.1\r\nHost: x\r\n\r\n"
                                              "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const auto end = raw.find("\r\n\r\n");
    ASSERT_NE(end, std::string::npos);
    EXPECT_TRUE(raw.substr(end + 4).starts_with("HTTP/1.1 200")) << raw;
    EXPECT_TRUE(raw.ends_with("\r\n\r\nhello, world\n")) << raw;
}

TEST_F(HttpServerTest, HttpRanges) {
    ASSERT_TRUE(start());
    const std::string size = std::to_string(data.size());
    Reply a = curl(scratch, server->url("/big"), {"-r", "0-99"});
    EXPECT_EQ(a.status, 206);
    EXPECT_EQ(a.body, data.substr(0, 100));
    EXPECT_TRUE(has_header(a, "content-range: bytes 0-99/" + size));
    EXPECT_TRUE(has_header(a, "content-length: 100"));

    Reply b = curl(scratch, server->url("/big"), {"-H", "Range: bytes=3000000-"});
    EXPECT_EQ(b.status, 206);
    EXPECT_TRUE(b.body == data.substr(3000000));
    EXPECT_TRUE(has_header(b, "content-range: bytes 3000000-" + std::to_string(data.size() - 1) + "/" + size));

    Reply c = curl(scratch, server->url("/big"), {"-H", "Range: bytes=-500"});
    EXPECT_EQ(c.status, 206);
    EXPECT_EQ(c.body, data.substr(data.size() - 500));

    Reply d = curl(scratch, server->url("/big"), {"-H", "Range: bytes=" + size + "-"});
    EXPECT_EQ(d.status, 416);
    EXPECT_TRUE(has_header(d, "content-range: bytes */" + size));
    EXPECT_EQ(d.body, "");

    // Disjoint ranges: the whole file with 200 (RFC 9110 §14.2 lets us).
    Reply e = curl(scratch, server->url("/big"), {"-r", "0-9,100-109"});
    EXPECT_EQ(e.status, 200);
    EXPECT_TRUE(e.body == data);
    auto m = server->stop();
    EXPECT_EQ(m.partial, 3u);
}

TEST_F(HttpServerTest, HttpConditionals) {
    ASSERT_TRUE(start());
    Reply nm = curl(scratch, server->url("/big"), {"-H", "If-None-Match: \"x\", W/\"big-v1\""});
    EXPECT_EQ(nm.status, 304);
    EXPECT_EQ(nm.body, "");
    EXPECT_TRUE(has_header(nm, "etag: \"big-v1\""));
    Reply star = curl(scratch, server->url("/small"), {"-H", "If-None-Match: *"});
    EXPECT_EQ(star.status, 304);
    Reply other = curl(scratch, server->url("/small"), {"-H", "If-None-Match: \"small-v0\""});
    EXPECT_EQ(other.status, 200);
    EXPECT_EQ(other.body, "hello, world\n");

    Reply fresh = curl(scratch, server->url("/big"), {"-r", "10-19", "-H", "If-Range: \"big-v1\""});
    EXPECT_EQ(fresh.status, 206);
    EXPECT_EQ(fresh.body, data.substr(10, 10));
    Reply stale = curl(scratch, server->url("/big"), {"-r", "10-19", "-H", "If-Range: \"big-v0\""});
    EXPECT_EQ(stale.status, 200);
    EXPECT_TRUE(stale.body == data);
    auto m = server->stop();
    EXPECT_EQ(m.not_modified, 2u);
}

TEST_F(HttpServerTest, HttpHandlerStatusesAndErrors) {
    ASSERT_TRUE(start());
    Reply missing = curl(scratch, server->url("/nope"));
    EXPECT_EQ(missing.status, 404);
    EXPECT_EQ(missing.body, "not found\n");
    EXPECT_TRUE(has_header(missing, "content-type: text/plain; charset=utf-8"));
    Reply boom = curl(scratch, server->url("/boom"));
    EXPECT_EQ(boom.status, 500);
    Reply ok = curl(scratch, server->url("/small"));
    EXPECT_EQ(ok.status, 200);
    auto m = server->stop();
    EXPECT_EQ(m.errors, 2u);
}

TEST_F(HttpServerTest, HttpPostBodyReachesHandlerAndLimitGives413) {
    netbootd::HttpServerConfig config;
    config.max_body = 64 * 1024;
    ASSERT_TRUE(start(config));
    const std::string body = random_bytes(60 * 1024, 2);
    write_file(scratch / "post", body);
    Reply ok = curl(scratch, server->url("/report?node=pi1&x=%20"), {"--data-binary", "@" + (scratch / "post").string()});
    EXPECT_EQ(ok.status, 200);
    EXPECT_EQ(ok.body, "got " + std::to_string(body.size()) + "\n");
    EXPECT_TRUE(handler->posted() == body);
    EXPECT_EQ(handler->query(), "node=pi1&x=%20");

    write_file(scratch / "huge", random_bytes(200 * 1024, 3));
    Reply big = curl(scratch, server->url("/report"), {"--data-binary", "@" + (scratch / "huge").string()});
    EXPECT_EQ(big.status, 413);
    // Chunked: no Content-Length to refuse up front; the server reads and discards, then 413.
    Reply chunked = curl(scratch, server->url("/report"),
                         {"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + (scratch / "huge").string()});
    EXPECT_EQ(chunked.status, 413);
    EXPECT_TRUE(handler->posted() == body);  // the handler never saw the big ones
    Reply after = curl(scratch, server->url("/small"));
    EXPECT_EQ(after.status, 200);
}

TEST_F(HttpServerTest, Http64ParallelDownloadsAreIntact) {
    ASSERT_TRUE(start());
    // One curl running 64 transfers at once (one connection each): forking 64
    // curls from 64 threads would test the harness more than the server.
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "120", "--parallel", "--parallel-max", "64",
                                     "--parallel-immediate", "-w", "\n%{http_code}\n"};
    for (int i = 0; i < 64; ++i) {
        argv.push_back("-o");
        argv.push_back((scratch / ("p" + std::to_string(i))).string());
        argv.push_back(server->url("/big?n=" + std::to_string(i)));
    }
    std::string out;
    ASSERT_EQ(run(argv, &out), 0) << out;
    int ok_lines = 0;  // curl 7.88 prints its parallel progress meter despite -s: count the status lines
    for (std::size_t at = 0; (at = out.find("\n200\n", at)) != std::string::npos; at += 4) ++ok_lines;
    EXPECT_EQ(ok_lines, 64) << out;
    int intact = 0;
    for (int i = 0; i < 64; ++i) intact += read_file(scratch / ("p" + std::to_string(i))) == data ? 1 : 0;
    EXPECT_EQ(intact, 64);
    auto m = server->stop();
    EXPECT_EQ(m.requests, 64u);
    EXPECT_EQ(m.bytes_sent, 64u * data.size());
    EXPECT_EQ(m.in_flight, 0u);
}

TEST_F(HttpServerTest, HttpSlowReaderCompletesWhileOthersAreServed) {
    // 32 MiB at 8 MB/s (~4 s): far more than the socket buffers hold, so sendfile
    // hits EAGAIN again and again and the transfer only finishes if EPOLLOUT
    // after each EAGAIN reaches MHD through the loop.
    const std::string large = random_bytes(32 << 20, 4);
    write_file(root / "large", large);
    ASSERT_TRUE(start());
    auto slow = std::async(std::launch::async, [&] {
        return curl(scratch, server->url("/large"), {"--limit-rate", "8M"}, "slow");
    });
    std::this_thread::sleep_for(500ms);
    const auto t0 = std::chrono::steady_clock::now();
    Reply quick = curl(scratch, server->url("/small"));
    EXPECT_EQ(quick.status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);  // not queued behind the slow one
    Reply r = slow.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body == large) << "got " << r.body.size() << " bytes";
}

TEST_F(HttpServerTest, HttpGarbageNeverWedgesTheServer) {
    ASSERT_TRUE(start());
    const std::uint16_t port = server->port();
    std::string junk = random_bytes(64 * 1024, 5);
    send_raw(port, junk);
    send_raw(port, "GET /" + std::string(100 * 1024, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    send_raw(port, "GET /small HTTP/1.1\r\nHost: x\r\nX-Trunc");
    send_raw(port, "GET /small HTTP/1.1\r\nHost: x\r\nX-Trunc: 1\r\n", /*half_close=*/false);
    std::string bad_cl = send_raw(port, "POST /report HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\nhello");
    EXPECT_TRUE(bad_cl.empty() || bad_cl.starts_with("HTTP/1.1 4")) << bad_cl.substr(0, 40);
    send_raw(port, "POST /report HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    send_raw(port, "POST /report HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n");
    send_raw(port, "GET /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    send_raw(port, "GET /small HTTP/9.9\r\n\r\n");
    send_raw(port, "\r\n\r\n\r\n");
    send_raw(port, std::string("GET /sm\0all HTTP/1.1\r\nHost: x\r\n\r\n", 33));
    std::string header_flood = "GET /small HTTP/1.1\r\n";
    for (int i = 0; i < 5000; ++i) header_flood += "X-" + std::to_string(i) + ": y\r\n";
    send_raw(port, header_flood + "\r\n");
    // Pipelined requests in one packet still work.
    std::string pipelined = send_raw(port, "GET /small HTTP/1.1\r\nHost: x\r\n\r\nGET /small HTTP/1.1\r\nHost: x\r\n"
                                           "Connection: close\r\n\r\n");
    ASSERT_NE(pipelined.find("hello, world\n"), std::string::npos) << pipelined;
    EXPECT_NE(pipelined.find("hello, world\n"), pipelined.rfind("hello, world\n")) << pipelined;

    Reply good = curl(scratch, server->url("/big"));
    EXPECT_EQ(good.status, 200);
    EXPECT_TRUE(good.body == data);
    // Garbage is logged at most once per client per 10 s.
    int malformed_lines = 0;
    for (const auto& l : server->lines()) malformed_lines += l.starts_with("http request_malformed") ? 1 : 0;
    EXPECT_LE(malformed_lines, 1);
    auto m = server->stop();
    EXPECT_GE(m.malformed, 1u);
}

TEST_F(HttpServerTest, HttpNoDescriptorLeaks) {
    ASSERT_TRUE(start());
    ASSERT_EQ(curl(scratch, server->url("/small")).status, 200);
    const int before = count_fds();
    const std::vector<std::vector<std::string>> kinds = {
        {},
        {"-I"},
        {"-r", "5-9"},
        {"-H", "Range: bytes=999999999-"},
        {"-H", "If-None-Match: \"big-v1\""},
        {"-r", "0-1,5-6"},
        {"--limit-rate", "1M", "--max-filesize", "1000"},  // client gives up mid-transfer
    };
    for (int i = 0; i < 140; ++i) curl(scratch, server->url("/big"), kinds[i % kinds.size()]);
    // Raw clients that hang up after the first few KiB of a sendfile transfer.
    for (int i = 0; i < 20; ++i) send_raw(server->port(), "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", false, 4096);
    int after = count_fds();
    // Closes are seen on the loop's next turns; on a loaded machine that can take seconds.
    for (int i = 0; i < 300 && after != before; ++i) {
        std::this_thread::sleep_for(100ms);
        after = count_fds();
    }
    EXPECT_EQ(after, before);
    auto m = server->stop();
    EXPECT_EQ(m.in_flight, 0u);
}
