// The health verdict of `pib-agent health` (docs/boot.md "On-node agent"):
// systemd's view of the boot (`systemctl is-system-running --wait`) plus the
// site's own checks in /etc/pib/health.d/, turned into the report netbootd's
// rollouts gate on. Pure: the runner (agent.cpp) gathers the inputs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pib::client::agent {

/// One executable of /etc/pib/health.d/ and how it ended.
struct CheckResult {
    std::string name;    ///< file name
    int exit_code = 0;   ///< -1 when killed by a signal
    int signal = 0;      ///< terminating signal, 0 if it exited
    std::string output;  ///< the last lines it printed
    bool passed() const { return exit_code == 0 && signal == 0; }
};

/// What the runner gathered.
struct HealthInput {
    std::string system_state;               ///< is-system-running's answer: running, degraded, ...
    std::vector<std::string> failed_units;  ///< when not running
    std::vector<CheckResult> checks;        ///< in name order
};

/// Healthy only when systemd says `running` and every check exits 0.
struct HealthVerdict {
    bool healthy = false;
    std::string detail;  ///< one line: why (failed units, failing checks) or what passed
};

HealthVerdict judge(const HealthInput& in);

/// Unit names from `systemctl list-units --state=failed --plain --no-legend`
/// output: the first word of each line (a leading status bullet skipped).
std::vector<std::string> parse_failed_units(std::string_view list_units_output);

/// The report body POSTed to /api/v1/nodes/<node>/report:
/// {"release", "kind": "health", "healthy", "detail", "system_state",
///  "failed_units": [...], "checks": [{"name", "exit", "signal", "output"}]}.
std::string health_report_json(const std::string& release, const HealthInput& in,
                               const HealthVerdict& v);

}  // namespace pib::client::agent
