// pib-agent health's pure parts: the verdict from systemd's state and the
// checks, failed-unit parsing, and the report body netbootd receives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "client/agent/health.hpp"

namespace pib::client::agent {
namespace {

TEST(AgentHealth, RunningWithPassingChecksIsHealthy) {
    HealthInput in{"running", {}, {{"10-disk", 0, 0, ""}, {"20-app", 0, 0, "ok\n"}}};
    auto v = judge(in);
    EXPECT_TRUE(v.healthy);
    EXPECT_EQ(v.detail, "system running; 2 health checks passed");
    EXPECT_EQ(judge(HealthInput{"running", {}, {}}).detail, "system running; 0 health checks passed");
}

TEST(AgentHealth, DegradedNamesTheFailedUnits) {
    HealthInput in{"degraded", {"nginx.service", "data.mount"}, {}};
    auto v = judge(in);
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.detail, "system degraded: failed units nginx.service, data.mount");
}

TEST(AgentHealth, AFailingCheckIsUnhealthyAndQuotesItsLastLine) {
    HealthInput in{"running",
                   {},
                   {{"10-disk", 0, 0, ""},
                    {"20-app", 3, 0, "probing\napp not answering on :8080\n"},
                    {"30-hang", -1, 9, ""}}};
    auto v = judge(in);
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.detail,
              "check 20-app exited 3 (app not answering on :8080); check 30-hang killed by signal 9");
}

TEST(AgentHealth, UnknownStateIsUnhealthy) {
    auto v = judge(HealthInput{"", {}, {}});
    EXPECT_FALSE(v.healthy);
    EXPECT_EQ(v.detail, "system state unknown");
    EXPECT_FALSE(judge(HealthInput{"maintenance", {}, {}}).healthy);
    EXPECT_FALSE(judge(HealthInput{"stopping", {}, {}}).healthy);
}

TEST(AgentHealth, FailedUnitsFromListUnits) {
    EXPECT_EQ(parse_failed_units("nginx.service loaded failed failed A high performance web server\n"
                                 "data.mount    loaded failed failed /data\n"),
              (std::vector<std::string>{"nginx.service", "data.mount"}));
    // Without --plain systemctl prints a bullet first.
    EXPECT_EQ(parse_failed_units("\xe2\x97\x8f x.service loaded failed failed X\n\n"),
              (std::vector<std::string>{"x.service"}));
    EXPECT_TRUE(parse_failed_units("").empty());
}

TEST(AgentHealth, ReportBodyIsWhatNetbootdReads) {
    HealthInput in{"degraded", {"x.service"}, {{"10-disk", 1, 0, "full\n"}}};
    auto v = judge(in);
    auto j = nlohmann::json::parse(health_report_json("demo-1.0-abc", in, v));
    EXPECT_EQ(j["release"], "demo-1.0-abc");
    EXPECT_EQ(j["kind"], "health");
    EXPECT_EQ(j["healthy"], false);
    EXPECT_EQ(j["detail"], "system degraded: failed units x.service; check 10-disk exited 1 (full)");
    EXPECT_EQ(j["system_state"], "degraded");
    EXPECT_EQ(j["failed_units"], nlohmann::json::array({"x.service"}));
    EXPECT_EQ(j["checks"][0]["name"], "10-disk");
    EXPECT_EQ(j["checks"][0]["exit"], 1);
    EXPECT_EQ(j["checks"][0]["signal"], 0);
    EXPECT_EQ(j["checks"][0]["output"], "full\n");
}

}  // namespace
}  // namespace pib::client::agent
