// Helpers shared by the QEMU end-to-end tests: waiting on a serial console,
// the QEMU monitor, and scripts/netboot-vm.sh run in the background.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "crypto/sha256.hpp"
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

/// The demo release, built once per build tree and shared by the QEMU tests
/// (each took ~3.5 min to build it on its own). The build is reproducible, so
/// a copy is what the test would have built itself.
struct SharedDemo {
    std::filesystem::path release;  ///< <shared>/releases/<id>: copy it, never modify it
    std::string id;
    std::filesystem::path key, pub;  ///< the signing key pair it was built with
    std::filesystem::path root;      ///< the kept staged root (a base for variants of the demo)
};

/// Builds recipes/demo-x86.yaml into <build>/e2e-shared/<stamp>/ unless that
/// exists. The stamp hashes the recipe and the pibuild, pib-init and pib-agent
/// binaries, so any change to them rebuilds. Tests running at once wait on a
/// lock for the one build. Returns nullopt when the build failed (`out`).
inline std::optional<SharedDemo> shared_demo_release(std::string& out) {
    namespace fs = std::filesystem;
    const fs::path pibuild = pib::test::built_binary("builder/pibuild");
    const fs::path base = fs::path(PIB_BINARY_DIR) / "e2e-shared";
    fs::create_directories(base);
    std::string material = pib::test::read_text(kSource / "recipes/demo-x86.yaml");
    for (const char* bin : {"builder/pibuild", "client/pib-init", "client/pib-agent"}) {
        auto d = pib::sha256_file(fs::path(PIB_BINARY_DIR) / bin);
        if (!d) {
            out = std::string("shared demo: cannot hash ") + bin + ": " + d.error().message;
            return std::nullopt;
        }
        material += d->sha256;
    }
    const std::string stamp = pib::sha256_hex(material).substr(0, 16);
    const fs::path dir = base / stamp;

    const int lock = open((base / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock < 0 || flock(lock, LOCK_EX) != 0) {
        out = "shared demo: cannot lock " + (base / "lock").string();
        if (lock >= 0) close(lock);
        return std::nullopt;
    }
    struct Unlock {
        int fd;
        ~Unlock() { close(fd); }  // releases the flock
    } unlock{lock};

    auto found = [&]() -> std::optional<SharedDemo> {
        SharedDemo d{{}, {}, dir / "fleet.key", dir / "fleet.pub", {}};
        if (!fs::exists(dir / "ready")) return std::nullopt;
        for (const auto& e : fs::directory_iterator(dir / "releases")) d.release = e.path(), d.id = e.path().filename();
        std::string root = pib::test::read_text(dir / "ready");
        while (!root.empty() && root.back() == '\n') root.pop_back();
        d.root = root;
        if (d.id.empty() || !fs::is_directory(d.root)) return std::nullopt;
        return d;
    };
    if (auto d = found()) return d;

    // Build afresh; older stamps (other binaries) go first, they only take space.
    for (const auto& e : fs::directory_iterator(base))
        if (e.is_directory()) fs::remove_all(e.path());
    fs::create_directories(dir);
    if (pib::test::run({pibuild.string(), "keygen", "-o", (dir / "fleet").string()}, &out) != 0) return std::nullopt;
    if (pib::test::run({pibuild.string(), "build", (kSource / "recipes/demo-x86.yaml").string(), "-o",
                        (dir / "releases").string(), "--key", (dir / "fleet.key").string(), "--work-dir",
                        (dir / "work").string(), "--cache-dir", (dir / "cache").string(), "--keep-work", "--json"},
                       &out) != 0)
        return std::nullopt;
    fs::path root;
    for (const auto& e : fs::directory_iterator(dir / "work"))
        if (fs::is_directory(e.path() / "root")) root = e.path() / "root";
    if (root.empty()) {
        out += "\nshared demo: no kept work tree under " + (dir / "work").string();
        return std::nullopt;
    }
    pib::test::write_text(dir / "ready", root.string() + "\n");
    return found();
}

/// Copies the shared demo release into <dir>/store/releases and its key pair
/// to <dir>/fleet.key and <dir>/fleet.pub. Returns the release id, or "" when
/// the shared build failed (its output in `out`).
inline std::string build_demo_release(const std::filesystem::path& dir, std::string& out) {
    namespace fs = std::filesystem;
    auto demo = shared_demo_release(out);
    if (!demo) return "";
    const fs::path releases = dir / "store" / "releases";
    fs::create_directories(releases);
    fs::copy(demo->release, releases / demo->id, fs::copy_options::recursive);
    fs::copy_file(demo->key, dir / "fleet.key", fs::copy_options::overwrite_existing);
    fs::copy_file(demo->pub, dir / "fleet.pub", fs::copy_options::overwrite_existing);
    fs::permissions(dir / "fleet.key", fs::perms::owner_read | fs::perms::owner_write);
    return demo->id;
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
