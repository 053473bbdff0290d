// netbootd: the command line. `--config FILE` serves; `--check-config FILE`
// validates (config, inventory, public key) and exits. All the work is in
// netbootd_core (daemon.cpp and the servers).
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "common/version.hpp"
#include "crypto/ed25519.hpp"
#include "inventory/inventory.hpp"
#include "netbootd/cli.hpp"
#include "netbootd/config.hpp"
#include "netbootd/daemon.hpp"

namespace {

// Exit codes: 0 ok, 1 failed while running or starting, 2 bad config.
constexpr int kFailed = 1;
constexpr int kBadConfig = 2;

pib::Level level_of(pib::netbootd::LogLevel l) {
    switch (l) {
        case pib::netbootd::LogLevel::debug: return pib::Level::debug;
        case pib::netbootd::LogLevel::warning: return pib::Level::warn;
        case pib::netbootd::LogLevel::error: return pib::Level::error;
        case pib::netbootd::LogLevel::info: break;
    }
    return pib::Level::info;
}

// Under systemd with stderr on the journal, every line carries its syslog
// priority (`journalctl -p err`); elsewhere lines stay as they were.
const bool g_journal = pib::fd_is_journal_stream(STDERR_FILENO);

const char* err_prefix() { return g_journal ? pib::syslog_prefix(pib::Level::error) : ""; }

void print_diags(const pib::Diagnostics& diags) {
    for (const auto& d : diags.items()) std::fprintf(stderr, "%s%s\n", err_prefix(), d.str().c_str());
}

int check_config(const std::string& file) {
    pib::Diagnostics diags;
    auto cfg = pib::netbootd::load_netbootd_config(file, diags);
    if (cfg && cfg->inventory) (void)pib::inventory::load_inventory(*cfg->inventory, diags);
    if (cfg) {
        auto key = pib::PublicKey::load(cfg->public_key);
        if (!key) diags.add(cfg->public_key.string(), 0, 0, "not a usable Ed25519 public key: " + key.error().message);
    }
    if (!diags.empty() || !cfg) {
        print_diags(diags);
        std::fprintf(stderr, "%snetbootd: %s: %zu problem%s\n", err_prefix(), file.c_str(), diags.size(),
                     diags.size() == 1 ? "" : "s");
        return kBadConfig;
    }
    std::printf("%s: ok\n", file.c_str());
    return 0;
}

int serve(const std::string& file, bool keep_privileges) {
    // The log level comes from the config; read it once up front.
    pib::Diagnostics pre;
    auto cfg = pib::netbootd::load_netbootd_config(file, pre);
    if (!cfg) {
        print_diags(pre);
        return kBadConfig;
    }
    const pib::Logger log(
        [](pib::Level level, const std::string& line) {
            const std::string out = pib::format_log_line(level, line, g_journal);
            std::fwrite(out.data(), 1, out.size(), stderr);
        },
        level_of(cfg->log_level));
    // A client closing its connection must not kill the daemon; libmicrohttpd
    // also only uses sendfile when SIGPIPE is ignored.
    std::signal(SIGPIPE, SIG_IGN);
    pib::Diagnostics diags;
    netbootd::DaemonOptions opts;
    opts.drop_privileges = !keep_privileges;
    opts.build = {std::string(pib::version()), std::string(pib::git_commit())};
    // Type=notify (netbootd.service): sent after the privilege drop, so the
    // unprivileged user must reach $NOTIFY_SOCKET (systemd's is world-writable)
    // and the sender stays the main PID (NotifyAccess=main). 0 = no socket set.
    opts.notify = [&log](const std::string& state) {
        if (int r = sd_notify(0, state.c_str()); r < 0)
            log.event(pib::Level::warn, "netbootd", "notify_failed")
                .kv("state", state.substr(0, state.find('\n')))
                .kv("error", std::strerror(-r));
    };
    auto daemon = netbootd::Daemon::create(file, log, diags, opts);
    if (!daemon) {
        print_diags(diags);
        std::fprintf(stderr, "%snetbootd: error: %s\n", err_prefix(), daemon.error().message.c_str());
        return daemon.error().code == pib::Errc::invalid ? kBadConfig : kFailed;
    }
    if (auto st = (*daemon)->handle_signals(); !st) {
        std::fprintf(stderr, "%snetbootd: error: %s\n", err_prefix(), st.error().message.c_str());
        return kFailed;
    }
    if (auto st = (*daemon)->run(); !st) {
        std::fprintf(stderr, "%snetbootd: error: %s\n", err_prefix(), st.error().message.c_str());
        return kFailed;
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    netbootd::CliArgs args;  // the options: netbootd/cli.cpp (also netbootd(8))
    auto app = netbootd::make_cli(args, pib::version_line("netbootd"));
    CLI11_PARSE(*app, argc, argv);
    if (args.config.empty() && args.check_config.empty()) {
        std::fprintf(stderr, "netbootd: give --config FILE or --check-config FILE (see --help)\n");
        return kBadConfig;
    }
    if (!args.check_config.empty()) return check_config(args.check_config);
    return serve(args.config, args.keep_privileges);
}
