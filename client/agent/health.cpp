// Judging a node's health and the report body (health.hpp).
#include "client/agent/health.hpp"

#include <nlohmann/json.hpp>
#include <sstream>

namespace pib::client::agent {

namespace {

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

std::string describe_failure(const CheckResult& c) {
    std::string why = c.signal != 0 ? "killed by signal " + std::to_string(c.signal)
                                    : "exited " + std::to_string(c.exit_code);
    std::string out = c.output;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    if (auto nl = out.rfind('\n'); nl != std::string::npos) out = out.substr(nl + 1);
    return "check " + c.name + " " + why + (out.empty() ? "" : " (" + out + ")");
}

}  // namespace

HealthVerdict judge(const HealthInput& in) {
    std::vector<std::string> problems;
    if (in.system_state != "running") {
        std::string p = "system " + (in.system_state.empty() ? "state unknown" : in.system_state);
        if (!in.failed_units.empty()) p += ": failed units " + join(in.failed_units);
        problems.push_back(p);
    }
    int passed = 0;
    for (const auto& c : in.checks) {
        if (c.passed())
            ++passed;
        else
            problems.push_back(describe_failure(c));
    }
    HealthVerdict v;
    v.healthy = problems.empty();
    if (v.healthy) {
        v.detail = "system running; " + std::to_string(passed) + " health check" +
                   (passed == 1 ? "" : "s") + " passed";
    } else {
        for (const auto& p : problems) v.detail += (v.detail.empty() ? "" : "; ") + p;
    }
    return v;
}

std::vector<std::string> parse_failed_units(std::string_view text) {
    std::vector<std::string> units;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string w;
        words >> w;
        // Without --plain systemctl puts a "●" (or "*" on a non-UTF-8 terminal) first.
        if (w == "\xe2\x97\x8f" || w == "*") words >> w;
        if (!w.empty()) units.push_back(w);
    }
    return units;
}

std::string health_report_json(const std::string& release, const HealthInput& in,
                               const HealthVerdict& v) {
    nlohmann::json checks = nlohmann::json::array();
    for (const auto& c : in.checks)
        checks.push_back(
            {{"name", c.name}, {"exit", c.exit_code}, {"signal", c.signal}, {"output", c.output}});
    nlohmann::json j = {{"release", release},
                        {"kind", "health"},
                        {"healthy", v.healthy},
                        {"detail", v.detail},
                        {"system_state", in.system_state},
                        {"failed_units", in.failed_units},
                        {"checks", checks}};
    return j.dump();
}

}  // namespace pib::client::agent
