// The same fleet objects — node, rollout, channel, release — fetched from a
// running netbootd's API (curl on loopback) and from the real pibuild binary
// reading the same config: same keys, same values, null for absent values,
// and the same "schema" (docs/store.md, "JSON"; issue 11).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "netbootd/daemon.hpp"
#include "store/fleet_fixture.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pib::test::fleet::Output;
using pib::test::fleet::Store;

std::uint16_t test_port(int offset) {
    return static_cast<std::uint16_t>(40000 + (getpid() % 5000) * 4 + offset);
}

json parse(const std::string& text) {
    auto j = json::parse(text, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << text;
    return j;
}

// Every key of both, and each value, equal; the message names the first difference.
void expect_same(const json& api, const json& cli, const std::string& what) {
    ASSERT_TRUE(api.is_object()) << what << ": " << api.dump(2);
    ASSERT_TRUE(cli.is_object()) << what << ": " << cli.dump(2);
    std::vector<std::string> api_keys, cli_keys;
    for (const auto& [k, v] : api.items()) api_keys.push_back(k);
    for (const auto& [k, v] : cli.items()) cli_keys.push_back(k);
    EXPECT_EQ(api_keys, cli_keys) << what;
    for (const auto& [k, v] : api.items())
        if (cli.contains(k)) {
            EXPECT_EQ(v, cli[k]) << what << "." << k;
        }
    EXPECT_EQ(api["schema"], 1) << what;
}

class Daemon {
  public:
    explicit Daemon(const fs::path& config)
        : log_([](pib::Level, const std::string&) {}, pib::Level::info) {
        pib::Diagnostics diags;
        netbootd::DaemonOptions o;
        o.drop_privileges = false;
        o.dhcp = false;
        auto d = netbootd::Daemon::create(config, log_, diags, o);
        EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message) << diags.str();
        if (!d) return;
        daemon_ = std::move(*d);
        thread_ = std::thread([this] { (void)daemon_->run(); });
    }
    ~Daemon() {
        if (daemon_) daemon_->stop();
        if (thread_.joinable()) thread_.join();
    }
    bool ok() const { return daemon_ != nullptr; }

  private:
    pib::Logger log_;
    std::unique_ptr<netbootd::Daemon> daemon_;
    std::thread thread_;
};

TEST(FleetApiCli, SameObjectsFromTheApiAndTheCli) {
    Store s(3);
    const std::string a = s.published("1.0"), b = s.published("2.0"), c = s.published("3.0");
    // c is damaged in the store: both list it as not verified, with the problems.
    pib::test::write_text(s.store() / "releases" / c / "boot/vmlinuz", "damaged");
    const std::uint16_t http = test_port(1);
    const fs::path config = s.path("netbootd.yaml");
    pib::test::write_text(
        config,
        "store: " + s.store().string() + "\ninventory: " + (s.store() / "nodes.yaml").string() +
            "\npublic-key: " + (s.store() / "fleet.pub").string() +
            "\nlisten:\n  address: 127.0.0.1\n  tftp-port: " + std::to_string(test_port(0)) +
            "\n  http-port: " + std::to_string(http) + "\nuser: nobody\ngroup: nogroup\n");
    // pibuild reads the same config as netbootd: no --store.
    auto cli = [&](std::vector<std::string> args) {
        args.insert(args.begin(), pib::test::fleet::pibuild());
        args.push_back("--config");
        args.push_back(config.string());
        auto r = pib::test::fleet::run_split(args);
        EXPECT_EQ(r.code, 0) << r.err;
        return parse(r.out);
    };
    cli({"channel", "set", "stable", a, "--window", "02:00-04:00", "--json"});
    cli({"node", "pin", "node-003", b, "--json"});

    Daemon d(config);
    ASSERT_TRUE(d.ok());
    auto api = [&](const std::string& path) {
        std::string out;
        EXPECT_EQ(pib::test::run({"curl", "-sS", "--fail", "--max-time", "20",
                                  "http://127.0.0.1:" + std::to_string(http) + path},
                                 &out),
                  0)
            << path << ": " << out;
        return parse(out);
    };
    // node-001 reports through the API; then a rollout starts from the CLI.
    std::string out;
    ASSERT_EQ(pib::test::run(
                  {"curl", "-sS", "--fail", "--max-time", "20", "-X", "POST", "--data-binary",
                   R"({"release":")" + a + R"(","kind":"boot","healthy":true,"root":"http"})",
                   "http://127.0.0.1:" + std::to_string(http) + "/api/v1/nodes/node-001/report"},
                  &out),
              0)
        << out;
    const json started =
        cli({"rollout", b, "--channel", "stable", "--waves", "1,100%", "--detach", "--json"});
    const std::string id = std::to_string(started["id"].get<int>());

    // Nodes: each of the list, and one alone.
    const json api_nodes = api("/api/v1/nodes"), cli_nodes = cli({"node", "list", "--json"});
    ASSERT_EQ(api_nodes.size(), 3u);
    ASSERT_EQ(cli_nodes.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i)
        expect_same(api_nodes[i], cli_nodes[i], "node " + std::to_string(i));
    json shown = cli({"node", "show", "node-001", "--json"});
    shown.erase("origins");
    expect_same(api("/api/v1/nodes/node-001"), shown, "node-001");
    EXPECT_EQ(shown["last_report"]["release"], a);
    EXPECT_EQ(shown["last_report"]["root"], "http");
    EXPECT_EQ(shown["last_report"]["address"], "127.0.0.1");
    EXPECT_EQ(shown["rollout"]["id"], started["id"]);
    EXPECT_EQ(shown["release"], b);  // wave 1 is served the new release
    EXPECT_EQ(shown["address"], nullptr);
    EXPECT_EQ(cli_nodes[2]["pin"]["release"], b);
    EXPECT_EQ(cli_nodes[1]["last_report"], nullptr);

    // The rollout.
    expect_same(api("/api/v1/rollouts/" + id), cli({"rollout", "status", id, "--json"})[0],
                "rollout " + id);
    const json api_rollouts = api("/api/v1/rollouts");
    ASSERT_EQ(api_rollouts.size(), 1u);
    EXPECT_EQ(api_rollouts[0]["schema"], 1);
    EXPECT_EQ(api_rollouts[0]["finished_at"], nullptr);
    EXPECT_EQ(api_rollouts[0]["reason"], nullptr);

    // The channel.
    const json api_channels = api("/api/v1/channels"),
               cli_channels = cli({"channel", "list", "--json"});
    ASSERT_EQ(api_channels.size(), 1u);
    ASSERT_EQ(cli_channels.size(), 1u);
    expect_same(api_channels[0], cli_channels[0], "channel stable");
    EXPECT_EQ(api_channels[0]["previous"], nullptr);
    EXPECT_EQ(api_channels[0]["rollout"], started["id"]);

    // The releases: verified and not.
    const json api_releases = api("/api/v1/releases"),
               cli_releases = cli({"release", "list", "--json"});
    ASSERT_EQ(api_releases.size(), 3u);
    ASSERT_EQ(cli_releases.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i)
        expect_same(api_releases[i], cli_releases[i],
                    "release " + api_releases[i]["id"].get<std::string>());
    for (const auto& r : api_releases) {
        if (r["id"] == c) {
            EXPECT_EQ(r["verified"], false);
            EXPECT_EQ(r["name"], nullptr);
        }
        if (r["id"] == b) {
            EXPECT_EQ(r["used_by"]["pins"], json({"node-003"}));
            EXPECT_EQ(r["used_by"]["rollouts"], json({started["id"]}));
        }
    }
}

}  // namespace
