// HTTP GET/POST with retries for pib-init, over an injected connection
// factory so that tests can script servers (short reads, early close, 503).
// Retried: connection errors, timeouts, truncated or malformed responses and
// 5xx, with exponential back-off. Not retried: other statuses (redirects are
// not followed: netbootd never sends them, and the URL is part of what the
// command line says to trust) and errors of the body sink.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "client/http_response.hpp"
#include "common/result.hpp"

namespace pib::client {

/// One connection: blocking reads and writes with the connector's timeouts.
class Stream {
  public:
    virtual ~Stream() = default;
    /// Writes everything or fails (Errc::io).
    virtual Status write_all(std::string_view data) = 0;
    /// Reads up to `n` bytes; 0 at end of stream; Errc::io on error or timeout.
    virtual Result<std::size_t> read(char* buf, std::size_t n) = 0;
};

/// Opens connections (TCP in pib-init).
class Connector {
  public:
    virtual ~Connector() = default;
    virtual Result<std::unique_ptr<Stream>> connect(const Url& url) = 0;
};

/// Where a body goes. begin() is called before each attempt's body (a retry
/// starts over: truncate the file, reset the hash).
class BodySink {
  public:
    virtual ~BodySink() = default;
    virtual Status begin() = 0;
    virtual Status write(std::string_view data) = 0;
};

/// A sink that keeps the body in memory (manifests, signatures), up to `limit` bytes.
class StringSink : public BodySink {
  public:
    explicit StringSink(std::size_t limit = 1 << 20) : limit_(limit) {}
    Status begin() override;
    Status write(std::string_view data) override;
    const std::string& body() const { return body_; }

  private:
    std::size_t limit_;
    std::string body_;
};

struct RetryPolicy {
    int max_attempts = 0;  ///< 0 = keep trying (the init waits for its server)
    std::int64_t first_ms = 1000;
    std::int64_t cap_ms = 16000;
};

/// Console lines and sleeping, injected.
struct FetchEnv {
    std::function<void(const std::string&)> say = [](const std::string&) {};
    std::function<void(std::int64_t ms)> sleep_ms = [](std::int64_t) {};
};

/// GETs `url` into `sink` (body of a 200 only). Says "waiting for <url>
/// (attempt N)" before each attempt. Errc::not_found for a non-retryable
/// status (message names it), the sink's error, or the last attempt's error.
Status fetch(Connector& net, const Url& url, BodySink& sink, const RetryPolicy& retry,
             const FetchEnv& env);

/// POSTs `body`; success is any 2xx. At most `tries` attempts, `wait_ms`
/// apart: a boot report must never hold the boot up for long.
Status post(Connector& net, const Url& url, std::string_view content_type, std::string_view body,
            int tries, std::int64_t wait_ms, const FetchEnv& env);

/// One exchange: sends `request`, reads the response, returns its status;
/// the body goes to `sink` only when the status is 200. `sink_failed` tells
/// a sink error from a transport error.
Result<int> exchange(Connector& net, const Url& url, std::string_view request, BodySink& sink,
                     bool& sink_failed);

}  // namespace pib::client
