// The real netbootd binary for tests: a small signed store, an inventory and a
// config on the loopback of a network namespace of the test's own (the binary
// serves proxyDHCP on every interface it sees), and a child process running
// `netbootd --config` there with its stderr in a file, the environment the
// test chooses and a descriptor limit; SIGTERM and reaped in the destructor
// whatever happened. Clients (curl, tftp) run in the same namespace.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "netns.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace netbootd::test {

/// A store with one signed PC release, an inventory (in its own directory,
/// which the daemon watches) and a config naming both.
struct BinaryFleet {
    NetnsGuard netns{"nbsd"};
    std::string netns_error;  ///< why the namespace could not be made ("" when it was)
    pib::test::TempDir dir;
    std::filesystem::path store, releases, inventory, config, pubkey;
    std::string pc_id;
    std::string kernel = random_bytes(256 * 1024, 21);
    std::uint16_t tftp_port, http_port;
    std::string extra_config;

    /// tftp-hpa's copy of `file` (saved to `to`), or why it failed.
    std::string tftp_get(const std::string& file, const std::filesystem::path& to) const {
        std::string out;
        const int rc =
            pib::test::run(in_netns({"tftp", "-m", "binary", "127.0.0.1", std::to_string(tftp_port),
                                     "-c", "get", file, to.string()}),
                           &out);
        return rc == 0 ? pib::test::read_text(to) : "tftp failed: " + out;
    }

    BinaryFleet() {
        namespace fs = std::filesystem;
        if (!netns.add("srv", netns_error) && netns_error.empty())
            netns_error = "ip netns add failed";
        const auto base = static_cast<std::uint16_t>(30000 + (getpid() % 4000) * 4);
        tftp_port = base;
        http_port = static_cast<std::uint16_t>(base + 1);
        store = dir.path() / "store";
        releases = store / "releases";
        fs::create_directories(releases);
        auto key = fixed_key();
        pubkey = dir.path() / "fleet.pub";
        pib::test::write_text(pubkey, key.public_key().to_pem());
        pc_id = make_release(releases, "demo-pc", "pc",
                             {{"root.squashfs", "squashfs-bytes"},
                              {"boot/vmlinuz", kernel},
                              {"boot/initrd.img", "initrd"},
                              {"boot/cmdline.txt", "console=ttyS0\n"}},
                             key);
        inventory = dir.path() / "inventory" / "nodes.yaml";
        write_inventory();
        config = dir.path() / "netbootd.yaml";
        write_config();
        // Readable by the unprivileged user the daemon drops to; state.db is
        // written after the switch.
        for (const fs::path& p : {dir.path(), dir.path() / "inventory"})
            fs::permissions(p,
                            fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        fs::permissions(store, fs::perms::all);
    }

    void write_inventory() {
        pib::test::write_text(inventory,
                              "nodes:\n"
                              "  - name: pc-01\n"
                              "    mac: 52:54:00:12:34:56\n"
                              "    release: " +
                                  pc_id + "\n");
    }

    void write_config() {
        pib::test::write_text(
            config, extra_config + "store: " + store.string() +
                        "\ninventory: " + inventory.string() + "\npublic-key: " + pubkey.string() +
                        "\nlisten:\n  address: 127.0.0.1\n  tftp-port: " +
                        std::to_string(tftp_port) + "\n  http-port: " + std::to_string(http_port) +
                        "\ntftp:\n  root-fallback: {default-release: " + pc_id +
                        "}\nuser: nobody\ngroup: nogroup\n");
    }

    /// argv run inside the namespace (`ip netns exec` execs in place: same PID).
    std::vector<std::string> in_netns(std::vector<std::string> argv) const {
        argv.insert(argv.begin(), {"ip", "netns", "exec", netns.name("srv")});
        return argv;
    }

    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(http_port) + path;
    }
};

/// `netbootd --config` as a child process.
class DaemonProcess {
  public:
    struct Options {
        std::vector<std::string> args;           ///< after --config FILE
        std::map<std::string, std::string> env;  ///< set in the child
        std::vector<std::string> unset_env;      ///< removed in the child
        rlim_t nofile = 0;                       ///< RLIMIT_NOFILE (soft and hard) when not 0
    };

    DaemonProcess(const BinaryFleet& f, const std::filesystem::path& log, Options o) : log_(log) {
        const auto bin = pib::test::built_binary("netbootd/netbootd");
        std::vector<std::string> argv = f.in_netns({bin.string(), "--config", f.config.string()});
        argv.insert(argv.end(), o.args.begin(), o.args.end());
        pid_ = fork();
        if (pid_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 2);
            for (const auto& k : o.unset_env) unsetenv(k.c_str());
            for (const auto& [k, v] : o.env) setenv(k.c_str(), v.c_str(), 1);
            if (o.nofile) {
                rlimit rl{o.nofile, o.nofile};
                setrlimit(RLIMIT_NOFILE, &rl);
            }
            std::vector<char*> a;
            for (auto& s : argv) a.push_back(s.data());
            a.push_back(nullptr);
            execvp(a[0], a.data());
            _exit(127);
        }
    }
    ~DaemonProcess() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);
        waitpid(pid_, nullptr, 0);
    }
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    pid_t pid() const { return pid_; }
    std::string log() const { return pib::test::read_text(log_); }
    void signal(int sig) const { kill(pid_, sig); }

    /// Sends SIGTERM and returns the wait status.
    int stop() {
        int st = 0;
        kill(pid_, SIGTERM);
        waitpid(pid_, &st, 0);
        pid_ = -1;
        return st;
    }

    /// Polls until `needle` is in the log (or the limit passes; then false).
    bool wait_logged(const std::string& needle,
                     std::chrono::seconds limit = std::chrono::seconds(20)) const {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            if (log().find(needle) != std::string::npos) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        return log().find(needle) != std::string::npos;
    }

  private:
    std::filesystem::path log_;
    pid_t pid_ = -1;
};

/// curl's output (body) in the fleet's namespace, with its exit code in `rc`.
inline std::string curl(const BinaryFleet& f, std::vector<std::string> args, int* rc = nullptr) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    int r = pib::test::run(f.in_netns(argv), &out);
    if (rc) *rc = r;
    return out;
}

}  // namespace netbootd::test
