// The HTTP server: libmicrohttpd parses requests and owns connections, driven
// from netbootd's EventLoop (no thread of its own, so handlers run on the
// loop's thread like the TFTP and DHCP servers). This file owns the HTTP
// semantics of files (Range, HEAD, ETag/If-None-Match, zero-copy sendfile);
// what a URL means is the injected HttpHandler's (STYLE.md rule 5).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/event_loop.hpp"
#include "netbootd/metrics.hpp"

namespace netbootd {

struct HttpRequest {
    std::string method;  ///< "GET", "HEAD", "POST", ...
    std::string path;    ///< percent-decoded path, without the query string
    std::string query;   ///< raw query string without '?', "" when none
    /// Header names lower-cased; a repeated header keeps the last value.
    std::map<std::string, std::string> headers;
    std::string body;    ///< POST/PUT body (bounded by HttpServerConfig::max_body)
    sockaddr_in peer{};  ///< the client's address
};

/// An open file to send. The server owns `fd` once the response is returned
/// (it closes it), and sends it with sendfile.
struct HttpFile {
    int fd = -1;
    std::uint64_t size = 0;
    /// Strong validator, quoted as sent: "\"<sha256-hex>\"" for release
    /// artifacts (the manifest's hash), else derived from inode/size/mtime.
    std::string etag;
    std::int64_t mtime = 0;  ///< seconds since the epoch, for Last-Modified
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/octet-stream";
    /// Either `file` (status 200 only; the server turns it into 206/304/416
    /// as Range and If-None-Match/If-Range ask) or `body`.
    std::optional<HttpFile> file;
    std::string body;
    /// Extra headers (Cache-Control, Location, ...).
    std::vector<std::pair<std::string, std::string>> headers;

    static HttpResponse text(int status, std::string body,
                             std::string content_type = "text/plain; charset=utf-8");
    static HttpResponse json(int status, std::string body);
};

/// What URLs mean. Called on the event loop's thread, once per request, after
/// the whole body has arrived.
class HttpHandler {
public:
    virtual ~HttpHandler() = default;
    virtual HttpResponse handle(const HttpRequest& request) = 0;
};

struct HttpServerConfig {
    std::string address = "0.0.0.0";
    std::uint16_t port = 80;  ///< 0 picks a free port (tests); see HttpServer::port()
    std::size_t max_body = 64 * 1024;           ///< larger bodies get 413
    unsigned connection_limit = 1024;
    unsigned connection_timeout_s = 30;          ///< idle connections are closed
};

/// Counters for /metrics; read on the loop's thread.
struct HttpMetrics {
    std::uint64_t requests = 0;
    std::uint64_t bytes_sent = 0;       ///< body bytes queued for sending (files and bodies)
    std::uint64_t in_flight = 0;        ///< file responses currently being sent
    std::uint64_t errors = 0;           ///< responses with status >= 400
    std::uint64_t not_modified = 0;     ///< 304s
    std::uint64_t partial = 0;          ///< 206s
    std::uint64_t malformed = 0;        ///< requests refused before the handler (400, 414, 431...)
    /// Seconds from the request to the last byte of file bodies sent completely (not HEAD, 304).
    Histogram file_durations = Histogram::transfer_seconds();
};

class HttpServer {
public:
    /// Binds and registers on `loop`. `handler` and `log` must outlive the server.
    static pib::Result<std::unique_ptr<HttpServer>> create(EventLoop& loop, HttpServerConfig config,
                                                           HttpHandler& handler,
                                                           const pib::Logger& log);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    std::uint16_t port() const;
    const HttpMetrics& metrics() const;

    struct Impl;

private:
    explicit HttpServer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace netbootd
