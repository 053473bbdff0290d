// netbootd as a whole: reads the config, verifies the store, binds the DHCP,
// TFTP and HTTP sockets, drops privileges, and serves on one event loop.
// SIGHUP, or a change in <store>/releases or the inventory file, reloads
// config, inventory and releases into a new Snapshot; transfers in flight keep
// the files they opened. The settings that need new sockets (listen.*,
// dhcp.mode, tftp limits) are kept until a restart and the reload says so.
// The fleet state needs no reload: BootService re-reads it when it changes,
// and a RolloutDriver advances rollouts after reports and every second.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/diag.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/boot_service.hpp"
#include "netbootd/config.hpp"
#include "netbootd/event_loop.hpp"
#include "netbootd/metrics.hpp"

namespace netbootd {

struct DaemonOptions {
    /// Switch to config.user/config.group after binding (main: when started as root).
    bool drop_privileges = true;
    /// Serve DHCP (tests of TFTP/HTTP alone turn it off).
    bool dhcp = true;
    /// Service-manager notifications in sd_notify(3) form ("READY=1\nSTATUS=..."):
    /// READY once serving, RELOADING/READY around each reload, STOPPING at the
    /// end. main passes sd_notify, so the daemon itself links no libsystemd.
    std::function<void(const std::string&)> notify;
    /// Version and commit for netbootd_build_info in /metrics.
    BuildInfo build;
};

class Daemon {
public:
    /// Loads everything and binds the sockets. Config and inventory problems
    /// go to `diags` (file:line:col) and come back as Errc::invalid.
    static pib::Result<std::unique_ptr<Daemon>> create(const std::filesystem::path& config_file,
                                                       const pib::Logger& log, pib::Diagnostics& diags,
                                                       DaemonOptions options = {});
    ~Daemon();

    /// Serves until stop() or SIGTERM/SIGINT (when handle_signals() was called).
    /// The first call logs `netbootd ready` and notifies READY=1: from here on
    /// every socket is bound, the first load is done and signals are handled.
    pib::Status run();
    /// Makes run() return; safe from any thread.
    void stop();
    /// Blocks SIGHUP/SIGTERM/SIGINT for the calling thread (call before creating
    /// other threads) and reads them through a signalfd on the loop.
    pib::Status handle_signals();
    /// Re-reads config, inventory and releases now; on an error the old ones
    /// stay and the reload counts as refused.
    pib::Status reload();
    /// Asks the loop to reload at its next turn; safe from any thread.
    void request_reload();

    std::uint16_t tftp_port() const;
    std::uint16_t http_port() const;
    std::uint64_t reloads() const { return reloads_; }
    std::uint64_t reloads_refused() const { return reloads_refused_; }
    std::shared_ptr<const Snapshot> snapshot() const;

    struct Impl;

private:
    explicit Daemon(std::unique_ptr<Impl> impl);
    pib::Status reload_now();
    std::unique_ptr<Impl> impl_;
    std::uint64_t reloads_ = 0;
    std::uint64_t reloads_refused_ = 0;
};

/// The first IPv4 address of interface `name` (host order); Errc::not_found without one.
pib::Result<Ipv4> interface_ipv4(const std::string& name);

}  // namespace netbootd
