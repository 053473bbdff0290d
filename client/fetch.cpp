// HTTP exchanges with retries and back-off for pib-init.
#include "client/fetch.hpp"

#include <algorithm>

namespace pib::client {

Status StringSink::begin() {
    body_.clear();
    return {};
}

Status StringSink::write(std::string_view data) {
    if (body_.size() + data.size() > limit_)
        return fail(Errc::unsupported, "body larger than " + std::to_string(limit_) + " bytes");
    body_.append(data);
    return {};
}

Result<int> exchange(Connector& net, const Url& url, std::string_view request, BodySink& sink,
                     bool& sink_failed) {
    sink_failed = false;
    auto conn = net.connect(url);
    if (!conn) return conn.error();
    PIB_TRY((*conn)->write_all(request));
    ResponseParser parser;
    bool began = false;
    BodyFn body = [&](std::string_view data) -> Status {
        if (parser.status() != 200) return {};  // error pages are read and dropped
        if (!began) {
            began = true;
            if (auto s = sink.begin(); !s) {
                sink_failed = true;
                return s;
            }
        }
        auto s = sink.write(data);
        if (!s) sink_failed = true;
        return s;
    };
    std::string buf(64 * 1024, '\0');
    for (;;) {
        auto n = (*conn)->read(buf.data(), buf.size());
        if (!n) return n.error();
        Result<bool> done =
            *n == 0 ? parser.end_of_stream() : parser.feed(std::string_view(buf.data(), *n), body);
        if (!done) return done.error();
        if (*done) break;
    }
    // An empty 200 body still starts the sink, so a retried file is truncated.
    if (parser.status() == 200 && !began) {
        if (auto s = sink.begin(); !s) {
            sink_failed = true;
            return s.error();
        }
    }
    return parser.status();
}

Status fetch(Connector& net, const Url& url, BodySink& sink, const RetryPolicy& retry,
             const FetchEnv& env) {
    const std::string request = build_get(url);
    std::int64_t wait = retry.first_ms;
    for (int attempt = 1;; ++attempt) {
        env.say("waiting for " + url.text() + " (attempt " + std::to_string(attempt) + ")");
        bool sink_failed = false;
        auto status = exchange(net, url, request, sink, sink_failed);
        std::string why;
        if (status && *status == 200) return {};
        if (!status) {
            if (sink_failed) return status.error();
            why = status.error().message;
        } else if (*status >= 500) {
            why = "HTTP " + std::to_string(*status);
        } else {
            return fail(Errc::not_found, url.text() + ": HTTP " + std::to_string(*status));
        }
        if (retry.max_attempts > 0 && attempt >= retry.max_attempts)
            return fail(Errc::io, url.text() + ": " + why + " (gave up after " +
                                      std::to_string(attempt) + " attempts)");
        env.say(url.text() + ": " + why + "; retrying in " + std::to_string(wait / 1000) + "." +
                std::to_string(wait % 1000 / 100) + " s");
        env.sleep_ms(wait);
        wait = std::min(wait * 2, retry.cap_ms);
    }
}

namespace {
class DiscardSink : public BodySink {
  public:
    Status begin() override { return {}; }
    Status write(std::string_view) override { return {}; }
};
}  // namespace

Status post(Connector& net, const Url& url, std::string_view content_type, std::string_view body,
            int tries, std::int64_t wait_ms, const FetchEnv& env) {
    const std::string request = build_post(url, content_type, body);
    std::string why;
    for (int attempt = 1; attempt <= tries; ++attempt) {
        if (attempt > 1) env.sleep_ms(wait_ms);
        DiscardSink sink;
        bool sink_failed = false;
        auto status = exchange(net, url, request, sink, sink_failed);
        if (status && *status >= 200 && *status < 300) return {};
        why = status ? "HTTP " + std::to_string(*status) : status.error().message;
        env.say("POST " + url.text() + " (attempt " + std::to_string(attempt) + "): " + why);
    }
    return fail(Errc::io, "POST " + url.text() + ": " + why);
}

}  // namespace pib::client
