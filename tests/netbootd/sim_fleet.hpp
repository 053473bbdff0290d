// A simulated fleet for the rollout test (fleet_sim_test.cpp) and benchmark
// (bench/rollout_bench.cpp). Each node asks netbootd what to boot the way an
// iPXE node does — GET /ipxe/<aa-bb-cc-dd-ee-ff>.ipxe, whose kernel line names
// `pib.release=<id>` — and reports its boot the way pib-init does — POST
// /api/v1/nodes/<name>/report with pib-init's own body — both through
// pib-init's HTTP client (client/fetch.hpp over a TcpConnector: one connection
// per request, as on a node). Requests run on `threads` threads, each of which
// first joins the network namespace netbootd serves in. No gtest here: the
// benchmark links it too.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "client/boot_report.hpp"
#include "client/fetch.hpp"
#include "client/tcp_connector.hpp"
#include "netns.hpp"

namespace netbootd::sim {

struct SimNode {
    std::string name;     ///< "n0042"
    std::string mac;      ///< "52:54:01:00:00:2a"
    std::string booted;   ///< the release it runs now ("" before its first boot)
};

/// `n` nodes named n0000… with MACs 52:54:01:00:hh:ll, in name order.
inline std::vector<SimNode> make_nodes(std::size_t n) {
    std::vector<SimNode> out;
    for (std::size_t i = 0; i < n; ++i) {
        char name[32], mac[24];
        std::snprintf(name, sizeof name, "n%04zu", i % 100000);
        std::snprintf(mac, sizeof mac, "52:54:01:00:%02zx:%02zx", (i >> 8) & 0xff, i & 0xff);
        out.push_back({name, mac, ""});
    }
    return out;
}

/// nodes.yaml for `nodes`, every node following `channel`.
inline std::string inventory_yaml(const std::vector<SimNode>& nodes, const std::string& channel) {
    std::string y = "nodes:\n";
    for (const auto& n : nodes) y += "  - name: " + n.name + "\n    mac: " + n.mac + "\n    channel: " + channel + "\n";
    return y;
}

/// The release an iPXE script boots (its `pib.release=` word); "" when none.
inline std::string script_release(const std::string& script) {
    const std::string key = "pib.release=";
    auto at = script.find(key);
    if (at == std::string::npos) return "";
    at += key.size();
    return script.substr(at, script.find_first_of(" \n", at) - at);
}

/// One node's answer: the release named, how long the request took, or why it failed.
struct Answer {
    std::string release;
    std::int64_t micros = 0;
    std::string error;  ///< "" on success
};

class Client {
public:
    /// `netns`: namespace to run the requests in ("" = the caller's).
    Client(std::string server, std::uint16_t port, std::string netns, unsigned threads)
        : base_("http://" + server + ":" + std::to_string(port)), netns_(std::move(netns)), threads_(threads) {}

    /// Asks netbootd what every node boots (its iPXE script), in parallel.
    std::vector<Answer> ask_all(const std::vector<SimNode>& nodes) const {
        std::vector<Answer> out(nodes.size());
        parallel(nodes.size(), [&](std::size_t i) { out[i] = ask(nodes[i]); });
        return out;
    }

    Answer ask(const SimNode& node) const {
        std::string dashed = node.mac;
        for (auto& c : dashed)
            if (c == ':') c = '-';
        Answer a;
        auto url = pib::client::parse_url(base_ + "/ipxe/" + dashed + ".ipxe");
        if (!url) return Answer{"", 0, url.error().message};
        pib::client::TcpConnector net(5000, 15000);
        pib::client::StringSink sink;
        const auto t0 = std::chrono::steady_clock::now();
        auto st = pib::client::fetch(net, *url, sink, pib::client::RetryPolicy{3, 50, 200}, {});
        a.micros = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
        if (!st) {
            a.error = st.error().message;
            return a;
        }
        a.release = script_release(sink.body());
        if (a.release.empty()) a.error = "no pib.release in the script";
        return a;
    }

    /// Reports `node` booted on `release`: pib-init's body when healthy, else
    /// a failed boot ({"release", "kind": "boot", "healthy": false}). "" on success.
    std::string report(const SimNode& node, const std::string& release, bool healthy) const {
        pib::client::BootTimeline t;
        t.add("dhcp", 40);
        t.add("root_fetch", 900);
        std::string body = healthy ? pib::client::report_json(release, t)
                                   : R"({"release":")" + release + R"(","kind":"boot","healthy":false})";
        auto url = pib::client::parse_url(base_ + "/api/v1/nodes/" + node.name + "/report");
        if (!url) return url.error().message;
        pib::client::TcpConnector net(5000, 15000);
        auto st = pib::client::post(net, *url, "application/json", body, 3, 50, {});
        return st ? std::string() : st.error().message;
    }

    /// Runs f(0..n-1) on the client's threads (inside its namespace).
    template <class F>
    void parallel(std::size_t n, F f) const {
        std::atomic<std::size_t> next{0};
        std::vector<std::thread> pool;
        for (unsigned t = 0; t < threads_; ++t)
            pool.emplace_back([&] {
                if (!netns_.empty() && !netbootd::test::enter_netns(netns_)) return;
                for (std::size_t i = next++; i < n; i = next++) f(i);
            });
        for (auto& th : pool) th.join();
    }

private:
    std::string base_;
    std::string netns_;
    unsigned threads_;
};

}  // namespace netbootd::sim
