#include "netbootd/metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "netbootd/boot_service.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "netbootd/http_server.hpp"
#include "netbootd/tftp_server.hpp"

namespace netbootd {

// ---- Histogram

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
    std::sort(bounds_.begin(), bounds_.end());
    bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
    per_bucket_.assign(bounds_.size() + 1, 0);
}

Histogram Histogram::transfer_seconds() {
    return Histogram({0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300});
}

void Histogram::observe(double value) {
    // Buckets are "less than or equal": the first bound >= value.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++per_bucket_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

std::uint64_t Histogram::cumulative(std::size_t i) const {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k <= i && k < per_bucket_.size(); ++k) n += per_bucket_[k];
    return n;
}

// ---- Exposition

std::string format_value(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

namespace {

// HELP text escapes backslash and newline; label values also the double quote.
void append_escaped(std::string& out, std::string_view s, bool quote) {
    for (char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

}  // namespace

void Exposition::family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_.append(name);
    out_ += ' ';
    append_escaped(out_, help, false);
    out_ += "\n# TYPE ";
    out_.append(name);
    out_ += ' ';
    out_.append(type);
    out_ += '\n';
}

void Exposition::series(std::string_view name, const Labels& labels, std::string_view extra_key,
                        std::string_view extra_value) {
    out_.append(name);
    if (labels.empty() && extra_key.empty()) return;
    out_ += '{';
    bool first = true;
    auto label = [&](std::string_view k, std::string_view v) {
        if (!first) out_ += ',';
        first = false;
        out_.append(k);
        out_ += "=\"";
        append_escaped(out_, v, true);
        out_ += '"';
    };
    for (const auto& [k, v] : labels) label(k, v);
    if (!extra_key.empty()) label(extra_key, extra_value);
    out_ += '}';
}

void Exposition::sample(std::string_view name, const Labels& labels, std::uint64_t value) {
    series(name, labels);
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
    series(name, labels);
    out_ += ' ';
    out_ += format_value(value);
    out_ += '\n';
}

void Exposition::single(std::string_view name, std::string_view type, std::string_view help,
                        std::uint64_t value) {
    family(name, type, help);
    sample(name, {}, value);
}

void Exposition::single(std::string_view name, std::string_view type, std::string_view help,
                        double value) {
    family(name, type, help);
    sample(name, {}, value);
}

void Exposition::histogram(std::string_view name, const Labels& labels, const Histogram& h) {
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i < h.upper_bounds().size(); ++i) {
        series(bucket, labels, "le", format_value(h.upper_bounds()[i]));
        out_ += ' ' + std::to_string(h.cumulative(i)) + '\n';
    }
    series(bucket, labels, "le", "+Inf");
    out_ += ' ' + std::to_string(h.count()) + '\n';
    sample(std::string(name) + "_sum", labels, h.sum());
    sample(std::string(name) + "_count", labels, h.count());
}

// ---- process metrics

std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_size, double boot_time) {
    // proc(5): "pid (comm) state ppid ..."; comm may contain anything, so the
    // fields after it start at the last ')'. Field 3 (state) is index 0 here.
    const auto close = stat.rfind(')');
    if (close == std::string_view::npos || ticks_per_second <= 0 || page_size <= 0)
        return std::nullopt;
    std::vector<std::string_view> f;
    std::size_t i = close + 1;
    while (i < stat.size()) {
        while (i < stat.size() && (stat[i] == ' ' || stat[i] == '\n')) ++i;
        std::size_t j = i;
        while (j < stat.size() && stat[j] != ' ' && stat[j] != '\n') ++j;
        if (j > i) f.push_back(stat.substr(i, j - i));
        i = j;
    }
    // utime 14, stime 15, starttime 22, vsize 23, rss 24 (1-based in proc(5)).
    auto field = [&](std::size_t n, std::uint64_t& out) {
        if (n - 3 >= f.size()) return false;
        auto s = f[n - 3];
        auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    std::uint64_t utime, stime, start, vsize, rss;
    if (!field(14, utime) || !field(15, stime) || !field(22, start) || !field(23, vsize) ||
        !field(24, rss))
        return std::nullopt;
    ProcessStats p;
    const auto hz = static_cast<double>(ticks_per_second);
    p.cpu_seconds = static_cast<double>(utime + stime) / hz;
    p.virtual_bytes = vsize;
    p.resident_bytes = rss * static_cast<std::uint64_t>(page_size);
    p.start_time_seconds = boot_time + static_cast<double>(start) / hz;
    return p;
}

ProcessStats read_process_stats() {
    ProcessStats p;
    std::ifstream in("/proc/self/stat");
    std::stringstream ss;
    ss << in.rdbuf();
    // Boot time as the kernel computes btime for /proc/stat: the realtime clock
    // minus the boot-based clock that starttime counts in (no /proc/stat read).
    timespec real{}, boot{};
    clock_gettime(CLOCK_REALTIME, &real);
    clock_gettime(CLOCK_BOOTTIME, &boot);
    const double boot_time = static_cast<double>(real.tv_sec - boot.tv_sec) +
                             static_cast<double>(real.tv_nsec - boot.tv_nsec) / 1e9;
    if (auto parsed =
            parse_proc_stat(ss.str(), sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), boot_time))
        p = *parsed;
    if (DIR* d = opendir("/proc/self/fd")) {
        std::uint64_t n = 0;
        while (dirent* e = readdir(d))
            if (e->d_name[0] != '.') ++n;
        closedir(d);
        p.open_fds = n > 0 ? n - 1 : 0;  // not counting the directory's own descriptor
    }
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) p.max_fds = rl.rlim_cur;
    return p;
}

// ---- the page

std::string render_metrics(const MetricsSources& m, const Snapshot& s,
                           const ProcessStats& process) {
    Exposition e;
    const auto* t = m.tftp;
    const auto* d = m.dhcp;
    const auto* h = m.http;
    using L = Exposition::Labels;
    auto proto = [](std::string_view p) { return L{{"protocol", p}}; };

    e.family("netbootd_build_info", "gauge", "Always 1; the labels name the running build.");
    e.sample("netbootd_build_info", L{{"version", m.build.version}, {"commit", m.build.commit}},
             std::uint64_t{1});

    e.family("netbootd_requests_total", "counter",
             "Requests received (DHCP datagrams, TFTP read requests, HTTP requests).");
    if (d) e.sample("netbootd_requests_total", proto("dhcp"), d->received);
    if (t) e.sample("netbootd_requests_total", proto("tftp"), t->requests);
    if (h) e.sample("netbootd_requests_total", proto("http"), h->requests);
    e.family("netbootd_responses_total", "counter",
             "DHCP replies sent and TFTP transfers completed.");
    if (d) e.sample("netbootd_responses_total", proto("dhcp"), d->replies);
    if (t) e.sample("netbootd_responses_total", proto("tftp"), t->completed);
    e.family("netbootd_sent_bytes_total", "counter",
             "Payload bytes sent (TFTP includes retransmissions).");
    if (t) e.sample("netbootd_sent_bytes_total", proto("tftp"), t->bytes_sent);
    if (h) e.sample("netbootd_sent_bytes_total", proto("http"), h->bytes_sent);
    e.family("netbootd_transfers_in_flight", "gauge",
             "TFTP transfers and HTTP file responses in progress.");
    if (t) e.sample("netbootd_transfers_in_flight", proto("tftp"), t->in_flight);
    if (h) e.sample("netbootd_transfers_in_flight", proto("http"), h->in_flight);
    e.family("netbootd_errors_total", "counter", "Refused or failed requests and transfers.");
    if (d) e.sample("netbootd_errors_total", proto("dhcp"), d->send_errors);
    if (t) e.sample("netbootd_errors_total", proto("tftp"), t->errors);
    if (h) e.sample("netbootd_errors_total", proto("http"), h->errors);
    e.family("netbootd_dropped_total", "counter", "Malformed packets dropped.");
    if (d) e.sample("netbootd_dropped_total", proto("dhcp"), d->dropped);
    if (t) e.sample("netbootd_dropped_total", proto("tftp"), t->dropped);
    if (t) {
        e.family("netbootd_tftp_transfer_duration_seconds", "histogram",
                 "Duration of TFTP transfers acknowledged to the end, from the read request to the "
                 "last ACK.");
        e.histogram("netbootd_tftp_transfer_duration_seconds", {}, t->durations);
    }
    if (h) {
        e.family("netbootd_http_transfer_duration_seconds", "histogram",
                 "Duration of HTTP file responses sent completely, from the request to the last "
                 "byte written.");
        e.histogram("netbootd_http_transfer_duration_seconds", {}, h->file_durations);
    }

    e.family("netbootd_releases", "gauge", "Releases in the store, by verification result.");
    e.sample("netbootd_releases", L{{"state", "verified"}},
             static_cast<std::uint64_t>(s.catalog->releases().size()));
    e.sample("netbootd_releases", L{{"state", "rejected"}},
             static_cast<std::uint64_t>(s.catalog->rejected().size()));
    e.single("netbootd_nodes", "gauge", "Nodes in the inventory.",
             static_cast<std::uint64_t>(s.inventory->nodes.size()));
    if (m.reloads || m.reloads_refused) {
        e.family("netbootd_reloads_total", "counter",
                 "Reloads (SIGHUP, store or inventory changes): ok, or refused for an error "
                 "(the previous configuration stays).");
        if (m.reloads) e.sample("netbootd_reloads_total", L{{"result", "ok"}}, m.reloads());
        if (m.reloads_refused)
            e.sample("netbootd_reloads_total", L{{"result", "refused"}}, m.reloads_refused());
    }
    if (m.fleet_reads)
        e.single("netbootd_fleet_reads_total", "counter",
                 "Full reads of the fleet state (channels, pins, rollouts): once per change, not "
                 "per request.",
                 m.fleet_reads());
    if (m.rollout_advances)
        e.single("netbootd_rollout_advances_total", "counter",
                 "Times rollouts were advanced (after reports, every second).",
                 m.rollout_advances());

    // The names, types and help texts of the Prometheus client libraries.
    e.single("process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.", process.cpu_seconds);
    e.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
             process.resident_bytes);
    e.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
             process.virtual_bytes);
    e.single("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.", process.start_time_seconds);
    e.single("process_open_fds", "gauge", "Number of open file descriptors.", process.open_fds);
    e.single("process_max_fds", "gauge", "Maximum number of open file descriptors.",
             process.max_fds);
    return e.text();
}

}  // namespace netbootd
