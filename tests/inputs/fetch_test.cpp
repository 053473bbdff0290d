// fetch_source against a real HTTP server on 127.0.0.1: Python's http.server
// with two extra routes (a redirect and a failing-then-healthy path), started
// once for the suite and killed by its PID in the suite teardown.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "builder/inputs.hpp"
#include "crypto/sha256.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// GET /redirect/P   -> 302 to /P
// GET /flaky/N/P    -> 503 for the first N requests of that exact path, then /P
// every request path is appended to requests.log (to count downloads).
constexpr const char* kServer = R"PY(
import functools, http.server, os, sys
root, portfile, reqlog = sys.argv[1:4]
counts = {}
class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        with open(reqlog, 'a') as f:
            f.write(self.path + '\n')
        if self.path.startswith('/redirect/'):
            self.send_response(302)
            self.send_header('Location', '/' + self.path[len('/redirect/'):])
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        if self.path.startswith('/flaky/'):
            _, _, n, rest = self.path.split('/', 3)
            seen = counts.get(self.path, 0)
            counts[self.path] = seen + 1
            if seen < int(n):
                self.send_error(503)
                return
            self.path = '/' + rest
        super().do_GET()
server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Handler, directory=root))
with open(portfile + '.tmp', 'w') as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + '.tmp', portfile)
server.serve_forever()
)PY";

class FetchSource : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = std::make_unique<TempDir>();
        test::write_text(*dir_ / "server.py", kServer);
        fs::create_directories(*dir_ / "www");
        const fs::path portfile = *dir_ / "port";
        pid_ = ::fork();
        if (pid_ == 0) {
            std::string script = (*dir_ / "server.py").string(), www = (*dir_ / "www").string();
            std::string port = portfile.string(), log = (*dir_ / "requests.log").string();
            ::execlp("python3", "python3", script.c_str(), www.c_str(), port.c_str(), log.c_str(),
                     static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !fs::exists(portfile); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        if (fs::exists(portfile)) base_ = "http://127.0.0.1:" + test::read_text(portfile);
    }
    static void TearDownTestSuite() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
        dir_.reset();
    }
    void SetUp() override { ASSERT_FALSE(base_.empty()) << "the test HTTP server did not start"; }

    // Serves `content` at /name.
    static void serve(const std::string& name, const std::string& content) {
        test::write_text(*dir_ / "www" / name, content);
    }
    static int requests_for(const std::string& path) {
        std::string log = test::read_text(*dir_ / "requests.log");
        int n = 0;
        for (std::size_t pos = 0; (pos = log.find(path + "\n", pos)) != std::string::npos; ++pos) {
            if (pos == 0 || log[pos - 1] == '\n') ++n;
        }
        return n;
    }
    Source url(const std::string& path, std::optional<std::string> sha = {}) {
        Source s;
        s.location = base_ + path;
        s.sha256 = std::move(sha);
        return s;
    }
    Logger logger() {
        return Logger([this](Level, const std::string& l) { lines_.push_back(l); }, Level::debug);
    }
    int logged(const std::string& event) const {
        int n = 0;
        for (const auto& l : lines_) n += l.find(event) != std::string::npos;
        return n;
    }
    static bool has_part_files(const fs::path& cache) {
        for (const auto& e : fs::directory_iterator(cache)) {
            if (e.path().extension() == ".part") return true;
        }
        return false;
    }

    static inline std::unique_ptr<TempDir> dir_;
    static inline pid_t pid_ = -1;
    static inline std::string base_;
    TempDir cache_;
    std::vector<std::string> lines_;
    FetchOptions quick_{.retries = 3, .backoff = std::chrono::milliseconds(10)};
};

TEST_F(FetchSource, DownloadsIntoCacheNamedByUrlDigest) {
    serve("a.bin", "alpha bytes\n");
    auto src = url("/a.bin", sha256_hex("alpha bytes\n"));
    auto r = fetch_source(src, "tarball", cache_.path(), logger());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->path, cache_.path() / sha256_hex(src.location));
    EXPECT_EQ(test::read_text(r->path), "alpha bytes\n");
    EXPECT_EQ(r->input, (BuildInput{"tarball", src.location, sha256_hex("alpha bytes\n")}));
    EXPECT_FALSE(has_part_files(cache_.path()));
    EXPECT_EQ(logged("inputs fetch_done"), 1);
}

TEST_F(FetchSource, FollowsRedirects) {
    serve("b.bin", "bravo\n");
    auto r = fetch_source(url("/redirect/b.bin"), "file", cache_.path(), logger());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(test::read_text(r->path), "bravo\n");
    EXPECT_EQ(r->input.sha256, sha256_hex("bravo\n"));
}

TEST_F(FetchSource, NotFoundNamesTheStatusAndDoesNotRetry) {
    auto r = fetch_source(url("/missing.bin"), "file", cache_.path(), logger(), quick_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::not_found);
    EXPECT_NE(r.error().message.find("HTTP 404"), std::string::npos) << r.error().message;
    EXPECT_EQ(requests_for("/missing.bin"), 1);
    EXPECT_FALSE(has_part_files(cache_.path()));
}

TEST_F(FetchSource, DigestMismatchIsAVerificationError) {
    serve("c.bin", "charlie\n");
    const std::string wrong(64, '0');
    auto src = url("/c.bin", wrong);
    auto r = fetch_source(src, "file", cache_.path(), logger());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::verification);
    EXPECT_NE(r.error().message.find("expected " + wrong), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("actual " + sha256_hex("charlie\n")), std::string::npos)
        << r.error().message;
    EXPECT_FALSE(fs::exists(cache_.path() / sha256_hex(src.location))) << "unverified bytes cached";
    EXPECT_FALSE(has_part_files(cache_.path()));
}

TEST_F(FetchSource, ReusesCachedFileWhenDigestPinned) {
    serve("d.bin", "delta\n");
    auto src = url("/d.bin", sha256_hex("delta\n"));
    ASSERT_TRUE(fetch_source(src, "file", cache_.path(), logger()).ok());
    fs::remove(*dir_ / "www/d.bin");  // a second download would now fail
    auto again = fetch_source(src, "file", cache_.path(), logger());
    ASSERT_TRUE(again.ok()) << again.error().message;
    EXPECT_EQ(test::read_text(again->path), "delta\n");
    EXPECT_EQ(requests_for("/d.bin"), 1);
    EXPECT_EQ(logged("inputs fetch_cache_hit"), 1);
}

TEST_F(FetchSource, ReplacesCorruptCachedFile) {
    serve("e.bin", "echo\n");
    auto src = url("/e.bin", sha256_hex("echo\n"));
    test::write_text(cache_.path() / sha256_hex(src.location), "stale or damaged");
    auto r = fetch_source(src, "file", cache_.path(), logger());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(test::read_text(r->path), "echo\n");
    EXPECT_EQ(requests_for("/e.bin"), 1);
}

TEST_F(FetchSource, WithoutDigestDownloadsEachTimeAndRecordsIt) {
    serve("f.bin", "first\n");
    auto one = fetch_source(url("/f.bin"), "file", cache_.path(), logger());
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(one->input.sha256, sha256_hex("first\n"));
    serve("f.bin", "second\n");
    auto two = fetch_source(url("/f.bin"), "file", cache_.path(), logger());
    ASSERT_TRUE(two.ok()) << two.error().message;
    EXPECT_EQ(two->input.sha256, sha256_hex("second\n"));
    EXPECT_EQ(test::read_text(two->path), "second\n");
    EXPECT_EQ(requests_for("/f.bin"), 2);
}

TEST_F(FetchSource, RetriesTransientServerErrors) {
    serve("g.bin", "golf\n");
    auto r = fetch_source(url("/flaky/2/g.bin"), "file", cache_.path(), logger(), quick_);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(test::read_text(r->path), "golf\n");
    EXPECT_EQ(requests_for("/flaky/2/g.bin"), 3);
    EXPECT_EQ(logged("inputs fetch_retry"), 2);
}

TEST_F(FetchSource, GivesUpAfterRetries) {
    serve("h.bin", "hotel\n");
    auto r = fetch_source(url("/flaky/10/h.bin"), "file", cache_.path(), logger(), quick_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("HTTP 503"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("after 4 attempts"), std::string::npos) << r.error().message;
    EXPECT_EQ(requests_for("/flaky/10/h.bin"), 4);
    EXPECT_FALSE(has_part_files(cache_.path()));
}

TEST_F(FetchSource, ConnectionRefusedIsRetriedThenReported) {
    // A port that was free a moment ago: nothing listens there.
    int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len), 0);
    ::close(s);
    Source src;
    src.location = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/x";
    FetchOptions once{.retries = 1, .backoff = std::chrono::milliseconds(1)};
    auto r = fetch_source(src, "file", cache_.path(), logger(), once);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_NE(r.error().message.find("after 2 attempts"), std::string::npos) << r.error().message;
}

TEST_F(FetchSource, CredentialsStayOutOfManifestAndLogs) {
    serve("i.bin", "india\n");
    auto with_credentials = [&](const std::string& path) {
        Source src = url(path);
        src.location.insert(std::string("http://").size(), "user:secret@");
        return src;
    };
    auto r = fetch_source(with_credentials("/i.bin"), "file", cache_.path(), logger());
    ASSERT_TRUE(r.ok()) << r.error().message;
    // The manifest still says where the bytes came from, with the userinfo masked.
    EXPECT_EQ(r->input.ref, "http://***@" + base_.substr(std::string("http://").size()) + "/i.bin");

    // Errors reach terminals and CI logs as well.
    auto missing =
        fetch_source(with_credentials("/missing.bin"), "file", cache_.path(), logger(), quick_);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message.find("secret"), std::string::npos) << missing.error().message;
    EXPECT_NE(missing.error().message.find("***@"), std::string::npos) << missing.error().message;
    for (const auto& l : lines_) {
        EXPECT_EQ(l.find("secret"), std::string::npos) << l;
        EXPECT_EQ(l.find("user:"), std::string::npos) << l;
    }
}

TEST(FetchLocal, ChecksDigestInPlace) {
    TempDir t;
    test::write_text(t / "base.tar", "local bytes\n");
    Source src;
    src.location = (t / "base.tar").string();
    src.sha256 = sha256_hex("local bytes\n");
    auto ok = fetch_source(src, "tarball", t / "cache", Logger());
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->path, t / "base.tar");
    EXPECT_EQ(ok->input, (BuildInput{"tarball", src.location, *src.sha256}));
    EXPECT_FALSE(fs::exists(t / "cache")) << "local files are not copied into the cache";

    src.sha256 = std::string(64, 'a');
    auto bad = fetch_source(src, "tarball", t / "cache", Logger());
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::verification);
    EXPECT_NE(bad.error().message.find("expected " + std::string(64, 'a') + ", actual " +
                                       sha256_hex("local bytes\n")),
              std::string::npos)
        << bad.error().message;
}

TEST(FetchLocal, MissingFileAndDirectories) {
    TempDir t;
    Source missing;
    missing.location = (t / "nope.img").string();
    auto r = fetch_source(missing, "image", t / "cache", Logger());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::not_found);

    Source dir;
    dir.location = t.path().string();
    auto d = fetch_source(dir, "directory", t / "cache", Logger());
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->input, (BuildInput{"directory", dir.location, ""}));
    dir.sha256 = std::string(64, 'b');
    auto pinned = fetch_source(dir, "directory", t / "cache", Logger());
    ASSERT_FALSE(pinned.ok());
    EXPECT_EQ(pinned.error().code, Errc::invalid);
}

}  // namespace
}  // namespace pib
