// /metrics: the Prometheus text exposition format (version 0.0.4) of
// netbootd's counters, two transfer-duration histograms, build info and the
// standard process metrics. Formatting is pure (unit-tested); the servers
// count, routes.cpp only calls render_metrics().
//
// Names follow https://prometheus.io/docs/practices/naming/: a `netbootd_`
// prefix, base units in the name (`_seconds`, `_bytes`), counters end in
// `_total` (bytes counters in `_bytes_total`), and what varies (protocol,
// result) is a label, not part of the name. The `process_*` metrics are the
// ones every Prometheus client library exports, with the same meaning.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netbootd {

struct TftpMetrics;
struct HttpMetrics;
struct DhcpProxyMetrics;
struct Snapshot;

/// A Prometheus histogram: counts of observations at or below each upper
/// bound (the implicit last bound is +Inf), their sum and count.
class Histogram {
  public:
    explicit Histogram(std::vector<double> upper_bounds);
    /// Bounds for a file transfer, in seconds: a Pi firmware file on a LAN
    /// (milliseconds) up to a root image over a slow or congested link (minutes).
    static Histogram transfer_seconds();

    void observe(double value);
    const std::vector<double>& upper_bounds() const { return bounds_; }
    /// Observations <= upper_bounds()[i] (cumulative, as exposed in `_bucket`).
    std::uint64_t cumulative(std::size_t i) const;
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

  private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> per_bucket_;  ///< not cumulative; one past the last bound is +Inf
    std::uint64_t count_ = 0;
    double sum_ = 0;
};

/// Writes metric families in the text format: HELP and TYPE once per family,
/// label values and HELP text escaped as the format requires.
class Exposition {
  public:
    using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

    /// Starts a family; `type` is counter, gauge, histogram or untyped.
    void family(std::string_view name, std::string_view type, std::string_view help);
    void sample(std::string_view name, const Labels& labels, std::uint64_t value);
    void sample(std::string_view name, const Labels& labels, double value);
    /// A family of one sample without labels.
    void single(std::string_view name, std::string_view type, std::string_view help,
                std::uint64_t value);
    void single(std::string_view name, std::string_view type, std::string_view help, double value);
    /// `name_bucket{le=...}` for each bound and +Inf, `name_sum`, `name_count`.
    void histogram(std::string_view name, const Labels& labels, const Histogram& h);
    const std::string& text() const { return out_; }

  private:
    void series(std::string_view name, const Labels& labels, std::string_view extra_key = {},
                std::string_view extra_value = {});
    std::string out_;
};

/// A value as the text format writes it: shortest round-trip decimal, +Inf, -Inf, NaN.
std::string format_value(double v);

/// The process metrics (the `process_*` names of the Prometheus client libraries).
struct ProcessStats {
    double cpu_seconds = 0;  ///< user + system time
    std::uint64_t resident_bytes = 0;
    std::uint64_t virtual_bytes = 0;
    double start_time_seconds = 0;  ///< since the Unix epoch
    std::uint64_t open_fds = 0;
    std::uint64_t max_fds = 0;  ///< soft RLIMIT_NOFILE
};

/// Parses /proc/[pid]/stat (proc(5)): utime, stime, starttime (clock ticks),
/// vsize (bytes), rss (pages). `boot_time` is the epoch time of boot in seconds.
/// The command name may hold spaces and ')': fields count from the last ')'.
std::optional<ProcessStats> parse_proc_stat(std::string_view stat, long ticks_per_second,
                                            long page_size, double boot_time);

/// This process's figures from /proc/self/stat, /proc/self/fd and getrlimit;
/// a part that cannot be read is left 0.
ProcessStats read_process_stats();

/// What netbootd_build_info labels.
struct BuildInfo {
    std::string version = "unknown";
    std::string commit = "unknown";
};

/// Where /metrics reads its numbers; any pointer or function may be null
/// (that server is off, or the figure is not kept).
struct MetricsSources {
    const TftpMetrics* tftp = nullptr;
    const DhcpProxyMetrics* dhcp = nullptr;
    const HttpMetrics* http = nullptr;
    std::function<std::uint64_t()> reloads;           ///< successful reloads
    std::function<std::uint64_t()> reloads_refused;   ///< reloads that kept the old config (errors)
    std::function<std::uint64_t()> fleet_reads;       ///< BootService::fleet_reads()
    std::function<std::uint64_t()> rollout_advances;  ///< RolloutDriver::advances()
    BuildInfo build;
};

/// The Content-Type of the text format.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

/// The whole /metrics page.
std::string render_metrics(const MetricsSources& m, const Snapshot& s, const ProcessStats& process);

}  // namespace netbootd
