// HTTP/1.1 response parsing for pib-init (RFC 9112 §4 status line, §5 fields,
// §6.3 message body length, §7.1 chunked transfer coding).
#include "client/http_response.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "client/cmdline.hpp"

namespace pib::client {

namespace {

constexpr std::size_t kMaxHeaderBytes = 32 * 1024;

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

Error corrupted(const std::string& what) { return fail(Errc::corrupted, "http: " + what); }

}  // namespace

std::string Url::text() const {
    return "http://" + host + (port == 80 ? "" : ":" + std::to_string(port)) + path;
}

Result<Url> parse_url(std::string_view text) {
    constexpr std::string_view scheme = "http://";
    if (text.substr(0, scheme.size()) != scheme)
        return fail(Errc::invalid, "url " + std::string(text) + ": only http:// is supported");
    std::string_view rest = text.substr(scheme.size());
    std::size_t slash = rest.find('/');
    std::string_view hostport = rest.substr(0, slash);
    Url u;
    u.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    std::size_t colon = hostport.find(':');
    u.host = std::string(hostport.substr(0, colon));
    if (!parse_ipv4(u.host))
        return fail(Errc::invalid,
                    "url " + std::string(text) + ": host must be a numeric IPv4 address");
    if (colon != std::string_view::npos) {
        std::string_view port = hostport.substr(colon + 1);
        unsigned v = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
        if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535)
            return fail(Errc::invalid, "url " + std::string(text) + ": bad port");
        u.port = static_cast<std::uint16_t>(v);
    }
    for (char c : u.path)
        if (c <= ' ' || c == 0x7f)
            return fail(Errc::invalid, "url: path contains a space or control character");
    return u;
}

static std::string host_header(const Url& url) {
    return url.host + (url.port == 80 ? "" : ":" + std::to_string(url.port));
}

std::string build_get(const Url& url) {
    return "GET " + url.path + " HTTP/1.1\r\nHost: " + host_header(url) +
           "\r\nUser-Agent: pib-init\r\nAccept: */*\r\nConnection: close\r\n\r\n";
}

std::string build_post(const Url& url, std::string_view content_type, std::string_view body) {
    return "POST " + url.path + " HTTP/1.1\r\nHost: " + host_header(url) +
           "\r\nUser-Agent: pib-init\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           std::string(body);
}

const std::string* ResponseParser::header(std::string_view name) const {
    for (const auto& [k, v] : headers_)
        if (iequal(k, name)) return &v;
    return nullptr;
}

Status ResponseParser::on_line(std::string_view line) {
    if (phase_ == Phase::status_line) {
        // "HTTP/1.1 200 OK" (RFC 9112 §4); HTTP/1.0 servers are fine too.
        if (line.substr(0, 7) != "HTTP/1." || line.size() < 12 || line[8] != ' ')
            return corrupted("bad status line");
        std::string_view code = line.substr(9, 3);
        auto [p, ec] = std::from_chars(code.data(), code.data() + 3, status_);
        if (ec != std::errc() || p != code.data() + 3 || status_ < 100 || status_ > 599)
            return corrupted("bad status code");
        phase_ = Phase::headers;
        return {};
    }
    if (phase_ == Phase::headers) {
        if (line.empty()) return start_body();
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return corrupted("bad header line");
        std::string name(line.substr(0, colon));
        if (name.find_first_of(" \t") != std::string::npos)
            return corrupted("space in header name");
        headers_.emplace_back(std::move(name), std::string(trim(line.substr(colon + 1))));
        return {};
    }
    if (phase_ == Phase::chunk_size) {
        std::string_view hex = trim(line.substr(0, line.find(';')));  // chunk extensions ignored
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), n, 16);
        if (hex.empty() || ec != std::errc() || p != hex.data() + hex.size())
            return corrupted("bad chunk size");
        remaining_ = n;
        phase_ = n == 0 ? Phase::trailers : Phase::chunk_data;
        return {};
    }
    if (phase_ == Phase::chunk_crlf) {
        if (!line.empty()) return corrupted("chunk data longer than its size");
        phase_ = Phase::chunk_size;
        return {};
    }
    if (phase_ == Phase::trailers) {
        if (line.empty()) phase_ = Phase::done;
        return {};
    }
    return corrupted("unexpected line");
}

Status ResponseParser::start_body() {
    // RFC 9112 §6.3: no body for 1xx, 204, 304; chunked wins over Content-Length.
    if (status_ < 200 || status_ == 204 || status_ == 304) {
        phase_ = Phase::done;
        return {};
    }
    if (const auto* te = header("Transfer-Encoding")) {
        if (!iequal(trim(*te), "chunked"))
            return fail(Errc::unsupported, "http: transfer coding " + *te);
        phase_ = Phase::chunk_size;
        return {};
    }
    if (const auto* cl = header("Content-Length")) {
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
        if (cl->empty() || ec != std::errc() || p != cl->data() + cl->size())
            return corrupted("bad Content-Length");
        remaining_ = n;
        phase_ = n == 0 ? Phase::done : Phase::body_length;
        return {};
    }
    phase_ = Phase::body_close;
    return {};
}

Result<bool> ResponseParser::feed(std::string_view data, const BodyFn& body) {
    while (!data.empty() && phase_ != Phase::done) {
        if (phase_ == Phase::body_close || phase_ == Phase::body_length ||
            phase_ == Phase::chunk_data) {
            std::size_t n = data.size();
            if (phase_ != Phase::body_close)
                n = static_cast<std::size_t>(std::min<std::uint64_t>(n, remaining_));
            PIB_TRY(body(data.substr(0, n)));
            body_bytes_ += n;
            data.remove_prefix(n);
            if (phase_ != Phase::body_close) {
                remaining_ -= n;
                if (remaining_ == 0)
                    phase_ = phase_ == Phase::body_length ? Phase::done : Phase::chunk_crlf;
            }
            continue;
        }
        // Line-oriented phases: collect up to LF.
        std::size_t lf = data.find('\n');
        std::string_view piece = data.substr(0, lf == std::string_view::npos ? data.size() : lf);
        header_bytes_ += piece.size() + 1;
        if (header_bytes_ > kMaxHeaderBytes) return corrupted("header section too large");
        line_.append(piece);
        if (lf == std::string_view::npos) break;
        data.remove_prefix(lf + 1);
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        std::string line = std::move(line_);
        line_.clear();
        PIB_TRY(on_line(line));
        if (phase_ == Phase::chunk_size || phase_ == Phase::chunk_crlf) header_bytes_ = 0;
    }
    return phase_ == Phase::done;
}

Result<bool> ResponseParser::end_of_stream() {
    if (phase_ == Phase::done) return true;
    if (phase_ == Phase::body_close) {
        phase_ = Phase::done;
        return true;
    }
    if (phase_ == Phase::body_length)
        return fail(Errc::truncated, "http: connection closed " + std::to_string(remaining_) +
                                         " bytes before the end of the body");
    if (phase_ <= Phase::headers)
        return fail(Errc::truncated, "http: connection closed before the headers ended");
    return fail(Errc::truncated, "http: connection closed inside the chunked body");
}

}  // namespace pib::client
