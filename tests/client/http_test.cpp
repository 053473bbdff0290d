// HTTP response parsing and fetch retries over scripted connections.
#include <gtest/gtest.h>

#include <deque>

#include "client/fetch.hpp"
#include "client/http_response.hpp"

namespace pib::client {
namespace {

// Feeds `raw` in pieces of `step` bytes; returns body, or the error message.
std::string parse_all(const std::string& raw, std::size_t step, int* status = nullptr,
                      bool eof = true) {
    ResponseParser p;
    std::string body;
    BodyFn fn = [&](std::string_view d) -> Status {
        body.append(d);
        return {};
    };
    for (std::size_t i = 0; i < raw.size(); i += step) {
        auto r = p.feed(std::string_view(raw).substr(i, step), fn);
        if (!r) return "ERROR " + r.error().message;
        if (*r) {
            if (status) *status = p.status();
            return body;
        }
    }
    if (!eof) return "INCOMPLETE";
    auto r = p.end_of_stream();
    if (!r) return "ERROR " + r.error().message;
    if (status) *status = p.status();
    return body;
}

TEST(HttpResponse, ContentLengthInAnyPieces) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-A: b\r\n\r\nhello worldTRAILING";
    for (std::size_t step : {1u, 2u, 7u, 1000u}) {
        int status = 0;
        EXPECT_EQ(parse_all(raw, step, &status), "hello world") << step;
        EXPECT_EQ(status, 200);
    }
}

TEST(HttpResponse, Chunked) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nContent-Length: 999\r\n\r\n"
        "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
    for (std::size_t step : {1u, 3u, 1000u})
        EXPECT_EQ(parse_all(raw, step), "hello 0123456789") << step;
    EXPECT_EQ(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 100),
              "ERROR http: connection closed inside the chunked body");
    EXPECT_NE(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 100)
                  .find("bad chunk size"),
              std::string::npos);
    EXPECT_NE(parse_all("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", 100)
                  .find("longer"),
              std::string::npos);
}

TEST(HttpResponse, BodyUntilCloseAndTruncation) {
    EXPECT_EQ(parse_all("HTTP/1.0 200 OK\r\n\r\nall of it", 4), "all of it");
    EXPECT_EQ(parse_all("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 4),
              "ERROR http: connection closed 5 bytes before the end of the body");
    EXPECT_EQ(parse_all("HTTP/1.1 200 OK\r\nContent-", 4),
              "ERROR http: connection closed before the headers ended");
    int status = 0;
    EXPECT_EQ(parse_all("HTTP/1.1 204 No Content\r\n\r\n", 100, &status, false), "");
    EXPECT_EQ(status, 204);
}

TEST(HttpResponse, Malformed) {
    EXPECT_NE(parse_all("SSH-2.0-OpenSSH\r\n", 100).find("bad status line"), std::string::npos);
    EXPECT_NE(parse_all("HTTP/1.1 2x0 OK\r\n", 100).find("bad status code"), std::string::npos);
    EXPECT_NE(parse_all("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", 100).find("bad header"),
              std::string::npos);
    EXPECT_NE(
        parse_all("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 100).find("Content-Length"),
        std::string::npos);
    EXPECT_NE(parse_all("HTTP/1.1 200 OK\r\nX: " + std::string(40000, 'a'), 1000).find("too large"),
              std::string::npos);
}

TEST(HttpUrl, ParseAndRequests) {
    auto u = parse_url("http://10.0.0.1:8080/releases/x/manifest.json");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->host, "10.0.0.1");
    EXPECT_EQ(u->port, 8080);
    EXPECT_EQ(u->path, "/releases/x/manifest.json");
    EXPECT_EQ(u->text(), "http://10.0.0.1:8080/releases/x/manifest.json");
    EXPECT_EQ(
        build_get(*u),
        "GET /releases/x/manifest.json HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: pib-init\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n");
    EXPECT_NE(build_post(*parse_url("http://10.0.0.1/a"), "application/json", "{}")
                  .find("Content-Length: 2\r\nConnection: close\r\n\r\n{}"),
              std::string::npos);
    EXPECT_FALSE(parse_url("https://10.0.0.1/").ok());
    EXPECT_FALSE(parse_url("http://server/").ok());
    EXPECT_FALSE(parse_url("http://10.0.0.1:99999/").ok());
    EXPECT_FALSE(parse_url("http://10.0.0.1/a b").ok());
}

// A connector whose connections each replay one scripted response.
class ScriptedConnector : public Connector {
  public:
    std::deque<std::string> responses;  ///< "REFUSE" = connection refused
    std::vector<std::string> requests;

    Result<std::unique_ptr<Stream>> connect(const Url&) override {
        if (responses.empty()) return fail(Errc::io, "no more scripted responses");
        std::string r = responses.front();
        responses.pop_front();
        if (r == "REFUSE") return fail(Errc::io, "connect: Connection refused");
        return std::unique_ptr<Stream>(new Replay(std::move(r), requests));
    }

  private:
    class Replay : public Stream {
      public:
        Replay(std::string data, std::vector<std::string>& log)
            : data_(std::move(data)), log_(log) {}
        Status write_all(std::string_view d) override {
            log_.emplace_back(d);
            return {};
        }
        Result<std::size_t> read(char* buf, std::size_t n) override {
            std::size_t k = std::min<std::size_t>({n, data_.size() - pos_, 3});  // short reads
            std::copy_n(data_.data() + pos_, k, buf);
            pos_ += k;
            return k;
        }

      private:
        std::string data_;
        std::size_t pos_ = 0;
        std::vector<std::string>& log_;
    };
};

struct Recorder {
    std::vector<std::string> said;
    std::vector<std::int64_t> slept;
    FetchEnv env() {
        FetchEnv e;
        e.say = [this](const std::string& l) { said.push_back(l); };
        e.sleep_ms = [this](std::int64_t ms) { slept.push_back(ms); };
        return e;
    }
};

TEST(Fetch, RetriesRefusedTruncatedAnd503ThenSucceeds) {
    ScriptedConnector net;
    net.responses = {"REFUSE", "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabc",
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy",
                     "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nabcdefgh"};
    StringSink sink;
    Recorder rec;
    RetryPolicy retry{0, 1000, 3000};
    auto s = fetch(net, *parse_url("http://10.0.0.1/f"), sink, retry, rec.env());
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(sink.body(), "abcdefgh");  // the truncated attempt's bytes were dropped
    EXPECT_EQ(rec.slept, (std::vector<std::int64_t>{1000, 2000, 3000}));
    EXPECT_EQ(rec.said.front(), "waiting for http://10.0.0.1/f (attempt 1)");
    EXPECT_NE(
        std::find(rec.said.begin(), rec.said.end(), "waiting for http://10.0.0.1/f (attempt 4)"),
        rec.said.end());
    EXPECT_NE(std::find(rec.said.begin(), rec.said.end(),
                        "http://10.0.0.1/f: HTTP 503; retrying in 3.0 s"),
              rec.said.end());
}

TEST(Fetch, NotFoundAndRedirectAreNotRetried) {
    for (const char* resp :
         {"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
          "HTTP/1.1 302 Found\r\nLocation: http://10.0.0.2/\r\nContent-Length: 0\r\n\r\n"}) {
        ScriptedConnector net;
        net.responses = {resp, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"};
        StringSink sink;
        Recorder rec;
        auto s = fetch(net, *parse_url("http://10.0.0.1/f"), sink, RetryPolicy{}, rec.env());
        ASSERT_FALSE(s.ok());
        EXPECT_EQ(s.error().code, Errc::not_found);
        EXPECT_EQ(net.requests.size(), 1u);
    }
}

TEST(Fetch, GivesUpAfterMaxAttemptsAndSinkErrorsStop) {
    ScriptedConnector net;
    net.responses = {"REFUSE", "REFUSE", "REFUSE", "REFUSE"};
    StringSink sink;
    Recorder rec;
    auto s = fetch(net, *parse_url("http://10.0.0.1/f"), sink, RetryPolicy{3, 10, 10}, rec.env());
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("gave up after 3 attempts"), std::string::npos);
    EXPECT_EQ(net.responses.size(), 1u);

    ScriptedConnector big;
    big.responses = {"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789", "REFUSE"};
    StringSink small(10);
    auto s2 = fetch(big, *parse_url("http://10.0.0.1/f"), small, RetryPolicy{}, rec.env());
    ASSERT_FALSE(s2.ok());
    EXPECT_EQ(s2.error().code, Errc::unsupported);
    EXPECT_EQ(big.responses.size(), 1u);  // not retried
}

TEST(Fetch, PostTriesTwiceAtMost) {
    ScriptedConnector net;
    net.responses = {"REFUSE", "REFUSE", "HTTP/1.1 204 No Content\r\n\r\n"};
    Recorder rec;
    auto url = *parse_url("http://10.0.0.1/api/v1/nodes/n/report");
    EXPECT_FALSE(post(net, url, "application/json", "{}", 2, 100, rec.env()).ok());
    EXPECT_EQ(rec.slept, (std::vector<std::int64_t>{100}));
    EXPECT_TRUE(post(net, url, "application/json", "{}", 2, 100, rec.env()).ok());
    EXPECT_EQ(net.requests.back().substr(0, 36), "POST /api/v1/nodes/n/report HTTP/1.1");
}

}  // namespace
}  // namespace pib::client
