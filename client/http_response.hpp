// HTTP/1.1 for pib-init: URLs, request bytes and an incremental response
// parser (RFC 9112: status line, headers, Content-Length, chunked transfer
// coding, or a body delimited by the connection closing). Pure: no sockets.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace pib::client {

/// An http:// URL with a numeric IPv4 host (pib-init has no resolver).
struct Url {
    std::string host;
    std::uint16_t port = 80;
    std::string path = "/";  ///< with the query, starting with '/'
    std::string text() const;
    bool operator==(const Url&) const = default;
};

/// Parses "http://A.B.C.D[:PORT][/path]"; Errc::invalid otherwise.
Result<Url> parse_url(std::string_view text);

/// "GET <path> HTTP/1.1" with Host, User-Agent and `Connection: close`.
std::string build_get(const Url& url);
/// A POST of `body` with Content-Type and Content-Length, `Connection: close`.
std::string build_post(const Url& url, std::string_view content_type, std::string_view body);

/// Receives body bytes; an error stops parsing and is returned from feed().
using BodyFn = std::function<Status(std::string_view)>;

/// Parses one response from a stream of bytes fed in any pieces.
class ResponseParser {
  public:
    /// Feeds bytes. True once the response is complete (bytes after it are
    /// ignored); corrupted on a malformed response, or the BodyFn's error.
    Result<bool> feed(std::string_view data, const BodyFn& body);
    /// The peer closed the connection. True when that completes the
    /// response (a body without length); truncated when it ends early.
    Result<bool> end_of_stream();

    bool headers_done() const { return phase_ > Phase::headers; }
    int status() const { return status_; }
    /// The value of header `name` (case-insensitive), or nullptr.
    const std::string* header(std::string_view name) const;
    /// Body bytes delivered so far (after de-chunking).
    std::uint64_t body_bytes() const { return body_bytes_; }

  private:
    enum class Phase {
        status_line,
        headers,
        body_length,
        body_close,
        chunk_size,
        chunk_data,
        chunk_crlf,
        trailers,
        done
    };
    Status on_line(std::string_view line);
    Status start_body();

    Phase phase_ = Phase::status_line;
    std::string line_;
    int status_ = 0;
    std::vector<std::pair<std::string, std::string>> headers_;
    std::uint64_t remaining_ = 0;
    std::uint64_t body_bytes_ = 0;
    std::size_t header_bytes_ = 0;
};

}  // namespace pib::client
