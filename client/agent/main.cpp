// pib-agent: the on-node service of a release built with `initramfs: pib`
// (docs/boot.md "On-node agent"). Installed as /usr/lib/pib/pib-agent and run
// by pib-health.service (health) and pib-update.service (watch). Static, like
// pib-init, so that it runs on any root the recipe builds.
#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "client/agent/agent.hpp"
#include "client/tcp_connector.hpp"
#include "common/version.hpp"

namespace {

constexpr const char* kUsage =
    "usage: pib-agent health|watch [options]\n"
    "  health              report this boot's health to netbootd (pib-health.service)\n"
    "  watch               reboot into the release netbootd serves this node, inside the\n"
    "                      channel's maintenance window (pib-update.service)\n"
    "options:\n"
    "  --cmdline FILE      kernel command line to read (default /proc/cmdline)\n"
    "  --checks DIR        health checks (default /etc/pib/health.d)\n"
    "  --systemctl PROG    systemctl to run (default systemctl)\n"
    "  --tries N           attempts to reach netbootd (default 8, back-off 1 s doubling to 30 s)\n"
    "  --dry-run           watch: decide and log, do not reboot\n"
    "  --time HH:MM        watch: use this local time instead of the clock\n"
    "  --version           print the version and exit\n"
    "Documentation: /usr/share/doc/pibuild/boot.md, section \"On-node agent\" (on the build host).\n";

int usage_error(const std::string& why) {
    std::fprintf(stderr, "pib-agent: %s\n%s", why.c_str(), kUsage);
    return 2;
}

bool parse_int(const std::string& s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
    using namespace pib::client::agent;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
        std::fputs(kUsage, stdout);
        return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") return std::puts(pib::version_line("pib-agent").c_str()) < 0;
    const std::string cmd = args[0];
    if (cmd != "health" && cmd != "watch") return usage_error("unknown command \"" + cmd + "\"");
    AgentOptions o;
    o.sleep_ms = [](std::int64_t ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); };
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (a == "--dry-run") {
            o.dry_run = true;
        } else if (a == "--cmdline" && value(v)) {
            o.cmdline = v;
        } else if (a == "--checks" && value(v)) {
            o.checks_dir = v;
        } else if (a == "--systemctl" && value(v)) {
            o.systemctl = v;
        } else if (a == "--tries" && value(v)) {
            if (!parse_int(v, o.tries) || o.tries < 1) return usage_error("--tries: a positive number");
        } else if (a == "--time" && value(v)) {
            int h = 0, m = 0;
            if (v.size() != 5 || v[2] != ':' || !parse_int(v.substr(0, 2), h) ||
                !parse_int(v.substr(3), m) || h > 23 || m > 59 || h < 0 || m < 0)
                return usage_error("--time: HH:MM");
            o.minute_of_day = h * 60 + m;
        } else {
            return usage_error("unknown or incomplete option \"" + a + "\"");
        }
    }
    // Lines go to stdout: the units send it to the journal and the console.
    pib::Logger log([](pib::Level l, const std::string& line) {
        std::printf("pib-agent %s %s\n", pib::level_name(l), line.c_str());
        std::fflush(stdout);
    });
    pib::client::TcpConnector net(5000, 15000);
    return cmd == "health" ? run_health(o, net, log) : run_watch(o, net, log);
}
