// /metrics: the exposition format unit by unit (histograms, escaping, values,
// /proc/self/stat), then the real daemon scraped with curl after a TFTP
// transfer (tftp-hpa), an HTTP download and a refused reload, checked by
// Prometheus' own parser (`promtool check metrics`, Debian package prometheus).
#include "netbootd/metrics.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "daemon_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netbootd::Exposition;
using netbootd::Histogram;
using netbootd::test::BinaryFleet;
using netbootd::test::curl;
using netbootd::test::DaemonProcess;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

TEST(Metrics, HistogramBucketsAreCumulativeAndInclusive) {
    Histogram h({1, 0.1, 10});  // sorted on construction
    ASSERT_EQ(h.upper_bounds(), (std::vector<double>{0.1, 1, 10}));
    for (double v : {0.05, 0.1, 0.5, 1.0, 30.0}) h.observe(v);
    EXPECT_EQ(h.cumulative(0), 2u);  // 0.05 and 0.1: "less than or equal"
    EXPECT_EQ(h.cumulative(1), 4u);
    EXPECT_EQ(h.cumulative(2), 4u);
    EXPECT_EQ(h.count(), 5u);
    EXPECT_DOUBLE_EQ(h.sum(), 31.65);
    Exposition e;
    e.family("t_seconds", "histogram", "Test.");
    e.histogram("t_seconds", {{"protocol", "tftp"}}, h);
    EXPECT_EQ(e.text(),
              "# HELP t_seconds Test.\n"
              "# TYPE t_seconds histogram\n"
              "t_seconds_bucket{protocol=\"tftp\",le=\"0.1\"} 2\n"
              "t_seconds_bucket{protocol=\"tftp\",le=\"1\"} 4\n"
              "t_seconds_bucket{protocol=\"tftp\",le=\"10\"} 4\n"
              "t_seconds_bucket{protocol=\"tftp\",le=\"+Inf\"} 5\n"
              "t_seconds_sum{protocol=\"tftp\"} 31.65\n"
              "t_seconds_count{protocol=\"tftp\"} 5\n");
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
    Exposition e;
    e.family("x_info", "gauge", "Back\\slash and\nnewline \"quoted\".");
    e.sample("x_info", {{"version", "1.0\"\\\n"}}, std::uint64_t{1});
    EXPECT_EQ(e.text(),
              "# HELP x_info Back\\\\slash and\\nnewline \"quoted\".\n"
              "# TYPE x_info gauge\n"
              "x_info{version=\"1.0\\\"\\\\\\n\"} 1\n");
}

TEST(Metrics, ValuesAreShortestRoundTrip) {
    EXPECT_EQ(netbootd::format_value(0.005), "0.005");
    EXPECT_EQ(netbootd::format_value(300), "300");
    EXPECT_EQ(netbootd::format_value(1765150000.25), "1765150000.25");
    EXPECT_EQ(netbootd::format_value(INFINITY), "+Inf");
    EXPECT_EQ(netbootd::format_value(-INFINITY), "-Inf");
    EXPECT_EQ(netbootd::format_value(NAN), "NaN");
}

TEST(Metrics, ProcStatParsesFromTheLastParenthesis) {
    // proc(5) fields 1..24 with a command name holding ") (" and spaces.
    const std::string stat =
        "4242 (net) (bootd x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 3 0 "
        "12345 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
    auto p = netbootd::parse_proc_stat(stat, 100, 4096, 1700000000.0);
    ASSERT_TRUE(p);
    EXPECT_DOUBLE_EQ(p->cpu_seconds, 3.0);  // (250 + 50) / 100
    EXPECT_EQ(p->virtual_bytes, 104857600u);
    EXPECT_EQ(p->resident_bytes, 2560u * 4096u);
    EXPECT_DOUBLE_EQ(p->start_time_seconds, 1700000123.45);
    EXPECT_FALSE(netbootd::parse_proc_stat("4242 (x) S 1 2 3", 100, 4096, 0));
    EXPECT_FALSE(netbootd::parse_proc_stat("no parenthesis", 100, 4096, 0));
}

TEST(Metrics, ReadProcessStatsOfThisProcess) {
    rlimit rl{};
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    const auto p = netbootd::read_process_stats();
    EXPECT_EQ(p.max_fds, rl.rlim_cur);
    EXPECT_GE(p.open_fds, 3u);
    EXPECT_GT(p.resident_bytes, 0u);
    EXPECT_GE(p.virtual_bytes, p.resident_bytes);
    EXPECT_GT(p.start_time_seconds, 1.6e9);
    EXPECT_LE(p.start_time_seconds, static_cast<double>(::time(nullptr)) + 1);
}

// ---- the real daemon -------------------------------------------------------

/// Samples of a scrape: "name{labels}" -> value.
std::map<std::string, double> samples(const std::string& text) {
    std::map<std::string, double> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
        if (l.empty() || l[0] == '#') continue;
        const auto sp = l.rfind(' ');
        out[l.substr(0, sp)] = std::stod(l.substr(sp + 1));
    }
    return out;
}

TEST(NetbootdMetrics, ScrapeAfterTransfersAndARefusedReloadIsValidPrometheus) {
    ASSERT_EQ(run({"promtool", "--version"}), 0) << "promtool missing: apt-get install prometheus";
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    const double before = static_cast<double>(::time(nullptr));
    DaemonProcess d(f, f.dir.path() / "log", {.args = {"--keep-privileges"}, .nofile = 4096});
    ASSERT_TRUE(d.wait_logged("netbootd ready")) << d.log();
    const double after = static_cast<double>(::time(nullptr));

    const fs::path got = f.dir.path() / "got";
    EXPECT_EQ(f.tftp_get("vmlinuz", got), f.kernel) << d.log();
    EXPECT_EQ(curl(f, {f.url("/releases/" + f.pc_id + "/boot/vmlinuz")}), f.kernel);
    EXPECT_EQ(curl(f, {"-I", f.url("/releases/" + f.pc_id + "/boot/vmlinuz")}).substr(0, 15),
              "HTTP/1.1 200 OK")
        << "a HEAD is no transfer";

    // A config error refused by SIGHUP alone (the config's directory is not
    // watched): exactly one refused reload, none ok.
    const std::string good_config = read_text(f.config);
    write_text(f.config, good_config + "no-such-key: 1\n");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_logged("reload_failed what=config")) << d.log();

    int rc = -1;
    const std::string text = curl(f, {f.url("/metrics")}, &rc);
    ASSERT_EQ(rc, 0) << text;
    auto m = samples(text);
    EXPECT_EQ(m["netbootd_tftp_transfer_duration_seconds_count"], 1) << text;
    EXPECT_EQ(m["netbootd_tftp_transfer_duration_seconds_bucket{le=\"+Inf\"}"], 1) << text;
    EXPECT_GT(m["netbootd_tftp_transfer_duration_seconds_sum"] + 1, 1) << text;
    EXPECT_EQ(m["netbootd_http_transfer_duration_seconds_count"], 1) << text;
    EXPECT_EQ(m["netbootd_http_transfer_duration_seconds_bucket{le=\"+Inf\"}"], 1) << text;
    EXPECT_EQ(m["netbootd_sent_bytes_total{protocol=\"tftp\"}"],
              static_cast<double>(f.kernel.size()))
        << text;
    EXPECT_EQ(m["netbootd_reloads_total{result=\"refused\"}"], 1) << text;
    EXPECT_EQ(m["netbootd_reloads_total{result=\"ok\"}"], 0) << text;
    EXPECT_TRUE(std::regex_search(
        text,
        std::regex(
            "\nnetbootd_build_info\\{version=\"[^\"]+\",commit=\"(?:[0-9a-f]+|unknown)\"\\} 1\n")))
        << text;
    EXPECT_EQ(m["process_max_fds"], 4096) << text;
    EXPECT_GE(m["process_open_fds"], 5) << "listening sockets, epoll, signalfd, inotify";
    EXPECT_GT(m["process_resident_memory_bytes"], 0);
    EXPECT_GE(m["process_virtual_memory_bytes"], m["process_resident_memory_bytes"]);
    EXPECT_GE(m["process_start_time_seconds"], before - 1) << std::fixed << before;
    EXPECT_LE(m["process_start_time_seconds"], after + 1) << std::fixed << after;
    EXPECT_GE(m["process_cpu_seconds_total"], 0);
    // Buckets never decrease.
    const std::regex bucket(
        "^netbootd_(tftp|http)_transfer_duration_seconds_bucket\\{le=\"([^\"]+)\"\\}$");
    for (const char* proto : {"tftp", "http"}) {
        std::vector<std::pair<double, double>> b;
        for (const auto& [k, v] : m) {
            std::smatch sm;
            if (std::regex_match(k, sm, bucket) && sm[1] == proto)
                b.emplace_back(sm[2] == "+Inf" ? INFINITY : std::stod(sm[2]), v);
        }
        std::sort(b.begin(), b.end());
        ASSERT_GE(b.size(), 10u) << proto;
        for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LE(b[i - 1].second, b[i].second) << proto;
    }

    // Prometheus' own parser and linter (naming conventions, HELP/TYPE).
    const fs::path file = f.dir.path() / "metrics.txt";
    write_text(file, text);
    std::string out;
    EXPECT_EQ(run({"sh", "-c", "promtool check metrics < \"$0\"", file.string()}, &out), 0) << out;
    EXPECT_EQ(out, "") << out;

    // Repaired config, then a broken inventory: refused too.
    write_text(f.config, good_config);
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_logged("netbootd reloaded")) << d.log();
    write_text(f.inventory, "nodes:\n  - name: Bad_Name\n    mac: 52:54:00:00:00:01\n");
    d.signal(SIGHUP);
    ASSERT_TRUE(d.wait_logged("reload_failed what=\"inventory or store\"")) << d.log();
    m = samples(curl(f, {f.url("/metrics")}));
    EXPECT_EQ(m["netbootd_reloads_total{result=\"ok\"}"], 1);
    EXPECT_GE(m["netbootd_reloads_total{result=\"refused\"}"], 2);
}

}  // namespace
