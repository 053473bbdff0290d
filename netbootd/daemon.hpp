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
#include <memory>
#include <string>

#include "common/diag.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/boot_service.hpp"
#include "netbootd/config.hpp"
#include "netbootd/event_loop.hpp"

namespace netbootd {

struct DaemonOptions {
    /// Switch to config.user/config.group after binding (main: when started as root).
    bool drop_privileges = true;
    /// Serve DHCP (tests of TFTP/HTTP alone turn it off).
    bool dhcp = true;
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
    pib::Status run();
    /// Makes run() return; safe from any thread.
    void stop();
    /// Blocks SIGHUP/SIGTERM/SIGINT for the calling thread (call before creating
    /// other threads) and reads them through a signalfd on the loop.
    pib::Status handle_signals();
    /// Re-reads config, inventory and releases now; on an error the old ones stay.
    pib::Status reload();
    /// Asks the loop to reload at its next turn; safe from any thread.
    void request_reload();

    std::uint16_t tftp_port() const;
    std::uint16_t http_port() const;
    std::uint64_t reloads() const { return reloads_; }
    std::shared_ptr<const Snapshot> snapshot() const;

    struct Impl;

private:
    explicit Daemon(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::uint64_t reloads_ = 0;
};

/// The first IPv4 address of interface `name` (host order); Errc::not_found without one.
pib::Result<Ipv4> interface_ipv4(const std::string& name);

}  // namespace netbootd
