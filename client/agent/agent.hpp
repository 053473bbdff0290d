// pib-agent's two commands on a booted node (docs/boot.md "On-node agent"):
//   health  gathers systemd's verdict on the boot and the site's checks, and
//           reports it to netbootd (pib-health.service, once per boot);
//   watch   asks netbootd what the node should run and reboots into it inside
//           the channel's maintenance window (pib-update.service + .timer,
//           only when enabled).
// The server, node and booted release come from the kernel command line the
// initramfs booted with (pib.server=, pib.node=, pib.release=).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "client/fetch.hpp"
#include "common/log.hpp"

namespace pib::client::agent {

struct AgentOptions {
    std::filesystem::path cmdline = "/proc/cmdline";
    std::filesystem::path checks_dir = "/etc/pib/health.d";
    std::string systemctl = "systemctl";  ///< program run for is-system-running, list-units, reboot
    int tries = 8;                        ///< attempts to deliver a report or read the node
    std::int64_t first_wait_ms = 1000;    ///< back-off between attempts, doubling
    std::int64_t cap_wait_ms = 30000;
    bool dry_run = false;                   ///< watch: decide and log, never reboot
    std::optional<int> minute_of_day;       ///< watch: the local time to use (tests)
    std::function<void(std::int64_t)> sleep_ms = [](std::int64_t) {};
};

/// Exit codes: 0 done (a report delivered, healthy or not; nothing to do),
/// 1 the server could not be reached, 2 a bad command line.
int run_health(const AgentOptions& o, Connector& net, const Logger& log);

/// Exit codes: 0 done (rebooting, or nothing to do), 1 the node document
/// could not be read or the reboot failed, 2 a bad command line.
int run_watch(const AgentOptions& o, Connector& net, const Logger& log);

}  // namespace pib::client::agent
