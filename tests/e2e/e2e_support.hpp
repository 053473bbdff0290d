// Helpers shared by the QEMU end-to-end tests: waiting on a serial console,
// the QEMU monitor, and scripts/netboot-vm.sh run in the background.
#pragma once

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace pib::e2e {

inline const std::filesystem::path kSource = PIB_SOURCE_DIR;

/// How often `needle` occurs in `text`.
inline std::size_t count(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
    return n;
}

/// Polls `pred` every half second until it holds or `limit` passes.
inline bool wait_for(const std::function<bool()>& pred, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return pred();
}

/// The text of the console after the `nth` (1-based) occurrence of `marker`.
inline std::string after(const std::string& text, const std::string& marker, std::size_t nth) {
    std::size_t p = std::string::npos, from = 0;
    for (std::size_t i = 0; i < nth; ++i) {
        p = text.find(marker, from);
        if (p == std::string::npos) return "";
        from = p + 1;
    }
    return text.substr(p);
}

/// Sends one command to a QEMU monitor socket.
inline bool monitor(const std::filesystem::path& sock, const std::string& command) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock.c_str());
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    const std::string line = command + "\n";
    ok = ok && write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    close(fd);
    return ok;
}

/// Builds recipes/demo-x86.yaml with `pibuild` into <dir>/store/releases,
/// signed with <dir>/fleet.key (work and cache directories below `dir`).
/// Returns the release id, or "" when the build failed (its output in `out`).
inline std::string build_demo_release(const std::filesystem::path& pibuild, const std::filesystem::path& dir,
                                      std::string& out) {
    const auto releases = dir / "store" / "releases";
    if (pib::test::run({pibuild.string(), "build", (kSource / "recipes/demo-x86.yaml").string(), "-o",
                        releases.string(), "--key", (dir / "fleet.key").string(), "--work-dir",
                        (dir / "work").string(), "--cache-dir", (dir / "cache").string(), "--json"},
                       &out) != 0)
        return "";
    std::string id;
    for (const auto& e : std::filesystem::directory_iterator(releases)) id = e.path().filename().string();
    return id;
}

/// scripts/netboot-vm.sh in the background; stopped (and its namespace removed) by PID.
struct NetbootVms {
    pid_t pid = -1;
    std::filesystem::path workdir;  ///< set before start()
    NetbootVms() = default;
    NetbootVms(const NetbootVms&) = delete;
    NetbootVms& operator=(const NetbootVms&) = delete;
    ~NetbootVms() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        waitpid(pid, nullptr, 0);
    }
    /// Runs the script with `args` and --workdir.
    void start(std::vector<std::string> args) {
        const std::string script = (kSource / "scripts/netboot-vm.sh").string();
        args.insert(args.begin(), script);
        args.push_back("--workdir");
        args.push_back(workdir.string());
        pid = fork();
        if (pid == 0) {
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(script.c_str(), argv.data());
            _exit(127);
        }
    }
    /// The serial console of machine `n` (1-based) so far, without the '\r'
    /// the tty adds before each '\n'.
    std::string console(int n) const {
        std::string t = pib::test::read_text(workdir / ("console-" + std::to_string(n) + ".log"));
        t.erase(std::remove(t.begin(), t.end(), '\r'), t.end());
        return t;
    }
    /// Resets machine `n` through its QEMU monitor.
    bool reset(int n) const {
        return monitor(workdir / ("monitor-" + std::to_string(n) + ".sock"), "system_reset");
    }
    std::string netns() const { return "pibvm-" + std::to_string(pid); }
    /// GET http://<netbootd's address><path> from inside the namespace; a
    /// discarded JSON value when that fails (the body or error is in `out`).
    nlohmann::json api(const std::string& path, std::string& out) const {
        const std::string cfg = pib::test::read_text(workdir / "netbootd.yaml");
        std::smatch m;
        if (!std::regex_search(cfg, m, std::regex("address: ([0-9.]+)"))) return nlohmann::json::value_t::discarded;
        if (pib::test::run({"ip", "netns", "exec", netns(), "curl", "-sS", "--max-time", "10",
                            "http://" + m[1].str() + path},
                           &out) != 0)
            return nlohmann::json::value_t::discarded;
        return nlohmann::json::parse(out, nullptr, false);
    }
};

}  // namespace pib::e2e
