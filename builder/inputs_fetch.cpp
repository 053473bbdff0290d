// fetch_source: local files are checked in place, URLs are downloaded with
// libcurl into a cache named by the URL's digest.
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <thread>

#include "builder/inputs.hpp"
#include "common/fs.hpp"
#include "crypto/sha256.hpp"

namespace pib {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Credentials in a URL (https://user:pass@host/...) must not reach logs, errors
// or the published manifest. The userinfo is the authority's part up to its
// last '@'; the authority ends at the first '/', '?' or '#' (RFC 3986 3.2).
std::string redact_url(const std::string& url) {
    auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    auto host_start = scheme + 3;
    auto path_start = url.find_first_of("/?#", host_start);
    auto at = url.rfind('@', path_start == std::string::npos ? url.size() : path_start);
    if (at == std::string::npos || at < host_start) return url;
    return url.substr(0, host_start) + "***@" + url.substr(at + 1);
}

Status check_digest(const std::string& what, const std::optional<std::string>& expected,
                    const std::string& actual) {
    if (expected && lower(*expected) != actual) {
        return fail(Errc::verification, what + ": sha256 mismatch: expected " + lower(*expected) +
                                            ", actual " + actual);
    }
    return {};
}

Result<LocalInput> use_local(const Source& src, const std::string& kind, const Logger& log) {
    fs::path p = src.location;
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st))
        return fail(Errc::not_found, p.string() + ": no such file or directory");
    if (fs::is_directory(st)) {
        // A tree has no single digest; the recipe cannot pin one.
        if (src.sha256) return fail(Errc::invalid, p.string() + ": sha256 given for a directory");
        log.event(Level::info, "inputs", "fetch_local").kv("path", p.string()).kv("kind", kind);
        return LocalInput{p, BuildInput{kind, src.location, ""}};
    }
    auto digest = sha256_file(p);
    if (!digest) return digest.error();
    PIB_TRY(check_digest(p.string(), src.sha256, digest->sha256));
    log.event(Level::info, "inputs", "fetch_local")
        .kv("path", p.string())
        .kv("kind", kind)
        .kv("sha256", digest->sha256);
    return LocalInput{p, BuildInput{kind, src.location, digest->sha256}};
}

// ---- one download attempt --------------------------------------------------

struct Sink {
    std::FILE* file = nullptr;
    Sha256 hash;
    std::uint64_t bytes = 0;
};

size_t on_data(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    size_t len = size * n;
    if (std::fwrite(data, 1, len, sink->file) != len) return 0;  // CURLE_WRITE_ERROR
    sink->hash.update(std::string_view(data, len));
    sink->bytes += len;
    return len;
}

struct Attempt {
    Status status;
    bool transient = false;
    std::string sha256;
    std::uint64_t bytes = 0;
};

bool transient_curl(CURLcode c) {
    switch (c) {
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_GOT_NOTHING:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_SSL_CONNECT_ERROR:
            return true;
        default:
            return false;
    }
}

// Request timeout, rate limiting and server-side failures are worth another try;
// other 4xx answers will not change.
bool transient_http(long status) { return status == 408 || status == 429 || status >= 500; }

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Attempt download_once(const std::string& url, const fs::path& part, const FetchOptions& opts) {
    Attempt a;
    const std::string shown = redact_url(url);
    Sink sink;
    sink.file = std::fopen(part.c_str(), "wb");
    if (!sink.file) {
        a.status = fail(Errc::io, errno_message("open " + part.string()));
        return a;
    }
    CURL* curl = curl_easy_init();
    if (!curl) {
        std::fclose(sink.file);
        a.status = fail(Errc::io, "curl_easy_init failed");
        return a;
    }
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opts.connect_timeout_s);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, opts.stall_timeout_s);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "pibuild");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);

    bool flushed = std::fflush(sink.file) == 0 && ::fsync(::fileno(sink.file)) == 0;
    flushed = (std::fclose(sink.file) == 0) && flushed;
    if (rc == CURLE_HTTP_RETURNED_ERROR) {
        a.transient = transient_http(status);
        a.status = fail(status == 404 || status == 410 ? Errc::not_found : Errc::io,
                        "download " + shown + ": HTTP " + std::to_string(status));
    } else if (rc != CURLE_OK) {
        a.transient = transient_curl(rc);
        a.status = fail(Errc::io, "download " + shown + ": " +
                                      (errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc)));
    } else if (!flushed) {
        a.status = fail(Errc::io, errno_message("write " + part.string()));
    } else {
        a.sha256 = sink.hash.finish_hex();
        a.bytes = sink.bytes;
    }
    return a;
}

// Holds an exclusive flock on `<entry>.lock` so that two builds sharing a cache
// do not write the same `.part` file at once.
class CacheLock {
  public:
    explicit CacheLock(const fs::path& path)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {}
    ~CacheLock() {
        if (fd_ >= 0) ::close(fd_);
    }
    CacheLock(const CacheLock&) = delete;
    CacheLock& operator=(const CacheLock&) = delete;
    Status acquire(const fs::path& path) {
        if (fd_ < 0 || ::flock(fd_, LOCK_EX) != 0)
            return fail(Errc::io, errno_message("lock " + path.string()));
        return {};
    }

  private:
    int fd_;
};

Result<LocalInput> use_url(const Source& src, const std::string& kind, const fs::path& cache_dir,
                           const Logger& log, const FetchOptions& opts) {
    // The manifest is published: it records the URL without credentials.
    const std::string shown = redact_url(src.location);
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    if (ec) return fail(Errc::io, "create " + cache_dir.string() + ": " + ec.message());
    const std::string key = sha256_hex(src.location);
    const fs::path final_path = cache_dir / key;
    const fs::path part = cache_dir / (key + ".part");
    const fs::path lock_path = cache_dir / (key + ".lock");
    CacheLock lock(lock_path);
    PIB_TRY(lock.acquire(lock_path));

    // Only a pinned digest makes a cached copy trustworthy: without one the
    // server's current bytes are what the recipe means.
    if (src.sha256 && fs::is_regular_file(final_path, ec)) {
        auto cached = sha256_file(final_path);
        if (cached && cached->sha256 == lower(*src.sha256)) {
            log.event(Level::info, "inputs", "fetch_cache_hit")
                .kv("url", shown)
                .kv("path", final_path.string())
                .kv("sha256", cached->sha256);
            return LocalInput{final_path, BuildInput{kind, shown, cached->sha256}};
        }
        log.event(Level::info, "inputs", "fetch_cache_stale").kv("url", shown);
    }

    init_curl_once();
    auto start = std::chrono::steady_clock::now();
    Attempt a;
    for (int attempt = 0;; ++attempt) {
        a = download_once(src.location, part, opts);
        if (a.status.ok() || !a.transient || attempt >= opts.retries) break;
        auto wait = opts.backoff * (1 << attempt);
        log.event(Level::warn, "inputs", "fetch_retry")
            .kv("url", shown)
            .kv("attempt", attempt + 1)
            .kv("wait_ms", static_cast<std::int64_t>(wait.count()))
            .kv("error", a.status.error().message);
        std::this_thread::sleep_for(wait);
    }
    if (!a.status.ok()) {
        fs::remove(part, ec);
        Error e = a.status.error();
        if (a.transient)
            e.message += " (gave up after " + std::to_string(opts.retries + 1) + " attempts)";
        return e;
    }
    if (auto st = check_digest(shown, src.sha256, a.sha256); !st.ok()) {
        fs::remove(part, ec);
        return st.error();
    }
    fs::rename(part, final_path, ec);
    if (ec) return fail(Errc::io, "rename " + part.string() + ": " + ec.message());
    PIB_TRY(fsync_dir(cache_dir));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    log.event(Level::info, "inputs", "fetch_done")
        .kv("url", shown)
        .kv("bytes", a.bytes)
        .kv("sha256", a.sha256)
        .kv("ms", static_cast<std::int64_t>(ms.count()));
    return LocalInput{final_path, BuildInput{kind, shown, a.sha256}};
}

}  // namespace

Result<LocalInput> fetch_source(const Source& src, const std::string& kind,
                                const std::filesystem::path& cache_dir, const Logger& log,
                                const FetchOptions& opts) {
    if (src.is_url()) return use_url(src, kind, cache_dir, log, opts);
    return use_local(src, kind, log);
}

}  // namespace pib
