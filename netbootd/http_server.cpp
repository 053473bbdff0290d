// libmicrohttpd (MHD) in external-event-loop mode: MHD_USE_EPOLL without a
// polling thread. MHD's own epoll fd is registered on our EventLoop; when it is
// readable we call MHD_run(), and after every run a timer is re-armed from
// MHD_get_timeout(). Why both: MHD registers connections edge-triggered in its
// epoll set, so work it could not finish in one run (a connection that is still
// writable after its sendfile chunk, a pipelined request) leaves no readable edge
// on the outer fd; MHD reports it instead as a timeout of 0 (its "eready" list),
// and the timer fires on the loop's next turn. Idle timeouts come from the same
// timer. A sendfile that hits EAGAIN drops the connection from that list until
// the kernel reports EPOLLOUT, which makes the epoll fd readable again.
//
// Corking: MHD sets TCP_CORK (beside TCP_NODELAY) on a connection for the
// body of a file response and sends it in 128 KiB sendfile pieces. Corked,
// every piece leaves its last partial segment held back and the transmit path
// works in smaller bursts: one connection over a veth moved 1.1-1.2 GB/s where
// the same pieces uncorked moved 2.0-2.5 (docs/performance.md). So once MHD
// has corked a large file response's socket we uncork it; MHD then believes it
// is still corked and does not cork it again. Uncorking can only push data
// sooner, never hold it back, so a change in MHD's strategy costs speed at
// worst, not correctness.
#include "netbootd/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <unordered_map>

#include "netbootd/http_semantics.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;

HttpResponse HttpResponse::text(int status, std::string body, std::string content_type) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = std::move(content_type);
    return r;
}

HttpResponse HttpResponse::json(int status, std::string body) {
    return text(status, std::move(body), "application/json");
}

namespace {

/// Per-request state, created by the URI callback (the first thing MHD parses)
/// and freed in the completion callback.
struct RequestState {
    std::string raw_uri;
    EventLoop::TimePoint start;
    bool handled = false;     ///< the HttpHandler ran (or we answered 413 ourselves)
    bool headers_seen = false;
    bool too_large = false;
    std::uint64_t discarded = 0;
    std::string body;
    std::string method;
    std::string path;
    int status = 0;
    std::uint64_t bytes = 0;
    bool file = false;
};

std::string peer_text(const sockaddr_in& sa) {
    char buf[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa.sin_addr, buf, sizeof buf);
    return buf;
}

sockaddr_in peer_of(MHD_Connection* c) {
    sockaddr_in out{};
    const MHD_ConnectionInfo* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (info && info->client_addr && info->client_addr->sa_family == AF_INET)
        std::memcpy(&out, info->client_addr, sizeof out);
    return out;
}

const char* termination_name(MHD_RequestTerminationCode toe) {
    switch (toe) {
        case MHD_REQUEST_TERMINATED_COMPLETED_OK: return "ok";
        case MHD_REQUEST_TERMINATED_WITH_ERROR: return "error";
        case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED: return "timeout";
        case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN: return "shutdown";
        case MHD_REQUEST_TERMINATED_READ_ERROR: return "read_error";
        case MHD_REQUEST_TERMINATED_CLIENT_ABORT: return "client_abort";
    }
    return "unknown";
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    auto* headers = static_cast<std::map<std::string, std::string>*>(cls);
    if (key) (*headers)[lower(key)] = value ? value : "";
    return MHD_YES;
}

std::optional<std::string_view> header(const HttpRequest& r, const char* name) {
    auto it = r.headers.find(name);
    if (it == r.headers.end()) return std::nullopt;
    return std::string_view(it->second);
}

/// SIGPIPE from sendfile() to a reset peer would kill the daemon: MHD only uses
/// sendfile when told the application has SIGPIPE handled (ignored or caught).
/// A library does not change process-wide signal dispositions, so we ask.
bool sigpipe_handled() {
    struct sigaction sa{};
    if (sigaction(SIGPIPE, nullptr, &sa) != 0) return false;
    return sa.sa_handler != SIG_DFL || (sa.sa_flags & SA_SIGINFO);
}

}  // namespace

struct HttpServer::Impl {
    EventLoop& loop;
    HttpServerConfig config;
    HttpHandler& handler;
    const pib::Logger& log;
    MHD_Daemon* daemon = nullptr;
    int epoll_fd = -1;
    std::uint16_t port = 0;
    HttpMetrics metrics;
    EventLoop::TimerId timer = 0;
    std::unordered_map<std::uint32_t, EventLoop::TimePoint> malformed_logged;
    /// Connections sending a file body of several sendfile pieces whose
    /// socket MHD has not corked yet (see the top of this file), and their fds.
    std::unordered_map<MHD_Connection*, int> to_uncork;
    EventLoop::TimePoint mhd_message_logged{};

    Impl(EventLoop& l, HttpServerConfig c, HttpHandler& h, const pib::Logger& lg)
        : loop(l), config(std::move(c)), handler(h), log(lg) {}

    void drive();
    void rearm();
    MHD_Result on_access(MHD_Connection* c, const char* url, const char* method, const char* upload_data,
                         std::size_t* upload_size, RequestState& st);
    MHD_Result respond(MHD_Connection* c, const HttpRequest& request, HttpResponse response, RequestState& st);
    void on_completed(MHD_Connection* c, RequestState* st, MHD_RequestTerminationCode toe);
    void log_malformed(const sockaddr_in& peer, const char* why, const std::string& uri);
    void on_mhd_message(const char* fmt, va_list ap);
};

void HttpServer::Impl::drive() {
    MHD_run(daemon);
    for (auto it = to_uncork.begin(); it != to_uncork.end();) {
        int corked = 0;
        socklen_t len = sizeof corked;
        if (getsockopt(it->second, IPPROTO_TCP, TCP_CORK, &corked, &len) != 0) {
            it = to_uncork.erase(it);
        } else if (corked) {
            const int off = 0;
            setsockopt(it->second, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
            it = to_uncork.erase(it);
        } else {
            ++it;
        }
    }
    rearm();
}

void HttpServer::Impl::rearm() {
    if (timer) loop.cancel_timer(timer);
    timer = 0;
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(daemon, &ms) != MHD_YES) return;  // nothing to time out
    ms = std::min<MHD_UNSIGNED_LONG_LONG>(ms, 3600 * 1000);
    timer = loop.add_timer(loop.now() + std::chrono::milliseconds(ms), [this] {
        timer = 0;
        drive();
    });
}

void HttpServer::Impl::log_malformed(const sockaddr_in& peer, const char* why, const std::string& uri) {
    // At most one line per client per 10 s: a scanner or a broken client must not flood the log.
    const auto now = loop.now();
    auto [it, fresh] = malformed_logged.try_emplace(peer.sin_addr.s_addr, now);
    if (!fresh) {
        if (now - it->second < std::chrono::seconds(10)) return;
        it->second = now;
    }
    if (malformed_logged.size() > 4096) malformed_logged.clear();  // bounded under a spoofed flood
    log.event(Level::warn, "http", "request_malformed")
        .kv("client", peer_text(peer))
        .kv("reason", why)
        .kv("uri", http::log_safe(uri, 80));
}

void HttpServer::Impl::on_mhd_message(const char* fmt, va_list ap) {
    // MHD's own diagnostics ("Failed to send data", "Error processing request"):
    // per connection, without the client, so debug level and one a second at most.
    if (!log.enabled(Level::debug)) return;
    const auto now = loop.now();
    if (now - mhd_message_logged < std::chrono::seconds(1)) return;
    mhd_message_logged = now;
    char buf[256];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    std::string text = buf;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    log.event(Level::debug, "http", "mhd_message").kv("text", http::log_safe(text));
}

MHD_Result HttpServer::Impl::on_access(MHD_Connection* c, const char* url, const char* method,
                                       const char* upload_data, std::size_t* upload_size,
                                       RequestState& st) {
    if (!st.headers_seen) {
        // First call: headers only. A declared body over the limit is refused now,
        // before the client sends it (curl waits for 100-continue and gets 413).
        st.headers_seen = true;
        st.method = method ? method : "";
        st.path = url ? url : "";
        const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char* end = nullptr;
            errno = 0;
            const unsigned long long n = std::strtoull(cl, &end, 10);
            if (errno == 0 && end != cl && n > config.max_body) {
                st.too_large = true;
                st.handled = true;
                HttpRequest dummy;
                return respond(c, dummy, HttpResponse::text(413, "request body too large\n"), st);
            }
        }
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (st.status != 0) {  // already answered (413): drain
            *upload_size = 0;
            return MHD_YES;
        }
        if (!st.too_large && st.body.size() + *upload_size <= config.max_body) {
            st.body.append(upload_data, *upload_size);
        } else {
            // Chunked body past the limit: keep reading (bounded) to answer 413 cleanly.
            st.too_large = true;
            st.body.clear();
            st.discarded += *upload_size;
            if (st.discarded > 16 * static_cast<std::uint64_t>(config.max_body) + (1u << 20)) return MHD_NO;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (st.status != 0) return MHD_YES;  // 413 already queued
    st.handled = true;
    HttpRequest request;
    if (st.too_large) return respond(c, request, HttpResponse::text(413, "request body too large\n"), st);

    // classify -> build the request -> ask the handler -> answer (STYLE.md rule 6)
    request.method = st.method;
    request.path = st.path;
    if (auto q = st.raw_uri.find('?'); q != std::string::npos) {
        auto end = st.raw_uri.find('#', q);
        request.query = st.raw_uri.substr(q + 1, end == std::string::npos ? std::string::npos : end - q - 1);
    }
    MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &request.headers);
    request.body = std::move(st.body);
    request.peer = peer_of(c);
    HttpResponse response;
    try {
        response = handler.handle(request);
    } catch (const std::exception& e) {
        log.event(Level::error, "http", "handler_failed")
            .kv("path", http::log_safe(request.path))
            .kv("reason", e.what());
        response = HttpResponse::text(500, "internal error\n");
    }
    return respond(c, request, std::move(response), st);
}

MHD_Result HttpServer::Impl::respond(MHD_Connection* c, const HttpRequest& request, HttpResponse response,
                                     RequestState& st) {
    int status = response.status;
    MHD_Response* r = nullptr;
    std::vector<std::pair<std::string, std::string>> headers;
    if (response.file) {
        HttpFile& f = *response.file;
        const std::string last_modified = f.mtime > 0 ? http::http_date(f.mtime) : "";
        http::FilePlan plan;
        plan.slice = {0, f.size};
        plan.send_body = st.method != "HEAD";
        if (status == 200) {
            http::FileRequest fr;
            fr.head = st.method == MHD_HTTP_METHOD_HEAD;
            fr.get = fr.head || st.method == MHD_HTTP_METHOD_GET;
            fr.range = header(request, "range");
            fr.if_range = header(request, "if-range");
            fr.if_none_match = header(request, "if-none-match");
            fr.if_modified_since = header(request, "if-modified-since");
            plan = http::plan_file(fr, f.size, f.etag, last_modified);
            status = plan.status;
        }
        // HEAD keeps the 200's slice so MHD announces the real Content-Length.
        if ((status == 200 || status == 206) && plan.slice.length > 0) {
            r = MHD_create_response_from_fd_at_offset64(plan.slice.length, f.fd,
                                                        static_cast<std::int64_t>(plan.slice.first));
            if (r) {
                f.fd = -1;  // MHD closes it when the response is destroyed
                st.file = true;
            }
        }
        if (f.fd >= 0) {
            close(f.fd);
            f.fd = -1;
            if (status == 200 || status == 206) {
                if (plan.slice.length > 0) status = 500;  // MHD could not take the fd
                plan.slice.length = 0;
            }
        }
        if (plan.send_body && (status == 200 || status == 206)) st.bytes = plan.slice.length;
        headers.emplace_back(MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
        if (!f.etag.empty()) headers.emplace_back(MHD_HTTP_HEADER_ETAG, f.etag);
        if (!last_modified.empty()) headers.emplace_back(MHD_HTTP_HEADER_LAST_MODIFIED, last_modified);
        if (!plan.content_range.empty()) headers.emplace_back(MHD_HTTP_HEADER_CONTENT_RANGE, plan.content_range);
        if (status != 304) headers.emplace_back(MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type);
    } else {
        if (st.method != MHD_HTTP_METHOD_HEAD) st.bytes = response.body.size();
        r = MHD_create_response_from_buffer(response.body.size(), response.body.data(), MHD_RESPMEM_MUST_COPY);
        headers.emplace_back(MHD_HTTP_HEADER_CONTENT_TYPE, response.content_type);
    }
    if (!r) r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    for (const auto& [k, v] : headers) MHD_add_response_header(r, k.c_str(), v.c_str());
    // Handler headers MHD refuses (Content-Length, control characters) are dropped.
    for (const auto& [k, v] : response.headers) MHD_add_response_header(r, k.c_str(), v.c_str());
    st.status = status;
    const MHD_Result queued = MHD_queue_response(c, static_cast<unsigned>(status), r);
    MHD_destroy_response(r);  // the connection holds its own reference
    if (queued != MHD_YES) {
        st.file = false;
        return MHD_NO;
    }
    if (st.file) {
        ++metrics.in_flight;
        // Bodies of one sendfile piece (128 KiB) are sent uncorked by MHD anyway.
        if (st.bytes > 128 * 1024) {
            const MHD_ConnectionInfo* ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
            if (ci && ci->connect_fd >= 0) to_uncork[c] = ci->connect_fd;
        }
    }
    metrics.bytes_sent += st.bytes;
    return MHD_YES;
}

void HttpServer::Impl::on_completed(MHD_Connection* c, RequestState* st, MHD_RequestTerminationCode toe) {
    to_uncork.erase(c);
    if (!st) return;
    ++metrics.requests;
    const sockaddr_in peer = peer_of(c);
    if (st->file) --metrics.in_flight;
    if (!st->handled) {
        // MHD answered (400, 414, 431, 505...) or dropped it before our handler saw it.
        ++metrics.errors;
        ++metrics.malformed;
        log_malformed(peer, termination_name(toe), st->raw_uri);
        delete st;
        return;
    }
    if (st->status >= 400) ++metrics.errors;
    if (st->status == 304) ++metrics.not_modified;
    if (st->status == 206) ++metrics.partial;
    const auto elapsed = loop.now() - st->start;
    if (st->file && st->bytes > 0 && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        metrics.file_durations.observe(std::chrono::duration<double>(elapsed).count());
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
    auto ev = log.event(Level::info, "http", "request");
    ev.kv("method", http::log_safe(st->method, 16))
        .kv("path", http::log_safe(st->path))
        .kv("status", st->status)
        .kv("bytes", st->bytes)
        .kv("ms", static_cast<std::int64_t>(ms))
        .kv("client", peer_text(peer));
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) ev.kv("result", termination_name(toe));
    delete st;
}

pib::Result<std::unique_ptr<HttpServer>> HttpServer::create(EventLoop& loop, HttpServerConfig config,
                                                            HttpHandler& handler, const pib::Logger& log) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(config.port);
    if (inet_pton(AF_INET, config.address.c_str(), &sa.sin_addr) != 1)
        return fail(Errc::invalid, "not an IPv4 address: " + config.address);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Errc::io, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        return fail(Errc::io, "bind " + config.address + ":" + std::to_string(config.port) + ": " +
                                  std::strerror(e));
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);

    auto impl = std::make_unique<Impl>(loop, std::move(config), handler, log);
    Impl* self = impl.get();
    self->port = ntohs(bound.sin_port);
    const bool sendfile_ok = sigpipe_handled();

    auto access = [](void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
                     const char* upload_data, std::size_t* upload_size, void** con_cls) -> MHD_Result {
        auto* impl = static_cast<Impl*>(cls);
        if (!*con_cls) {  // no URI callback ran (should not happen): make the state now
            auto* st = new RequestState;
            st->start = impl->loop.now();
            *con_cls = st;
        }
        return impl->on_access(c, url, method, upload_data, upload_size, *static_cast<RequestState*>(*con_cls));
    };
    auto uri_log = [](void* cls, const char* uri, MHD_Connection*) -> void* {
        auto* st = new RequestState;
        st->raw_uri = uri ? uri : "";
        st->start = static_cast<Impl*>(cls)->loop.now();
        return st;
    };
    auto completed = [](void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode toe) {
        static_cast<Impl*>(cls)->on_completed(c, static_cast<RequestState*>(*con_cls), toe);
        *con_cls = nullptr;
    };
    auto logger = [](void* cls, const char* fmt, va_list ap) { static_cast<Impl*>(cls)->on_mhd_message(fmt, ap); };

    // MHD owns the listening socket once started and closes it in MHD_stop_daemon.
    const unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    self->daemon = MHD_start_daemon(
        flags, 0, nullptr, nullptr, +access, self,                                            //
        MHD_OPTION_LISTEN_SOCKET, fd,                                                         //
        MHD_OPTION_CONNECTION_LIMIT, static_cast<unsigned>(self->config.connection_limit),    //
        MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(self->config.connection_timeout_s),
        MHD_OPTION_URI_LOG_CALLBACK, +uri_log, self,                                          //
        MHD_OPTION_NOTIFY_COMPLETED, +completed, self,                                        //
        MHD_OPTION_EXTERNAL_LOGGER, +logger, self,                                            //
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, static_cast<int>(sendfile_ok ? 1 : 0),             //
        MHD_OPTION_END);
    if (!self->daemon) {
        // Whether a failed start closed the provided socket differs across MHD versions.
        if (fcntl(fd, F_GETFD) != -1) close(fd);
        return fail(Errc::io, "libmicrohttpd refused to start on " + self->config.address + ":" +
                                  std::to_string(self->port));
    }
    const MHD_DaemonInfo* info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    self->epoll_fd = info ? info->epoll_fd : -1;
    if (self->epoll_fd < 0) {
        MHD_stop_daemon(self->daemon);
        return fail(Errc::io, "libmicrohttpd has no epoll fd");
    }
    if (auto st = loop.add_fd(self->epoll_fd, [self] { self->drive(); }); !st) {
        MHD_stop_daemon(self->daemon);
        return st.error();
    }
    self->rearm();
    log.event(Level::info, "http", "listening")
        .kv("address", self->config.address)
        .kv("port", static_cast<unsigned>(self->port))
        .kv("sendfile", sendfile_ok ? "yes" : "no");
    if (!sendfile_ok)
        log.event(Level::warn, "http", "sendfile_disabled").kv("reason", "SIGPIPE not ignored by the process");
    return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
    if (impl_->timer) impl_->loop.cancel_timer(impl_->timer);
    impl_->loop.remove_fd(impl_->epoll_fd);
    MHD_stop_daemon(impl_->daemon);  // completion callbacks run here and free their state
}

std::uint16_t HttpServer::port() const { return impl_->port; }

const HttpMetrics& HttpServer::metrics() const { return impl_->metrics; }

}  // namespace netbootd
