// netbootd.service run by a real systemd. systemd is not PID 1 on these
// machines (no systemd-run), so a Debian root with systemd 252 is booted with
// systemd-nspawn (--private-network: the container sees only its loopback,
// --volatile=overlay: every boot starts from the same root) with the built
// binary, the unit generated from netbootd.service.in and a config bound in.
// systemd itself then judges readiness (Type=notify), reloads, priorities in
// the journal and restarts under the unit's whole sandbox and syscall filter.
//
// The root is made once per build tree with mmdebstrap (the packages are those
// of the libraries netbootd links, found with ldd and dpkg -S) and kept in
// <build>/nspawn-root, rebuilt when that list changes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>
#include <thread>

#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

/// The Debian packages holding the shared libraries `binary` links.
std::string packages_of(const fs::path& binary, std::string& why) {
    std::string out;
    if (run({"ldd", binary.string()}, &out) != 0) {
        why = "ldd: " + out;
        return "";
    }
    std::set<std::string> pkgs;
    std::istringstream in(out);
    for (std::string l; std::getline(in, l);) {
        const auto arrow = l.find("=> /");
        if (arrow == std::string::npos) continue;
        std::string lib = l.substr(arrow + 3, l.find(' ', arrow + 3) - arrow - 3);
        std::string owner;
        // Debian's libraries live in /usr/lib; ldd may name them by /lib (merged /usr).
        if (run({"dpkg", "-S", fs::weakly_canonical(lib).string()}, &owner) != 0 &&
            run({"dpkg", "-S", lib}, &owner) != 0) {
            why = "no package owns " + lib;
            return "";
        }
        pkgs.insert(owner.substr(0, owner.find_first_of(":,")));
    }
    std::string list = "systemd,systemd-sysv,dbus,curl,procps";
    for (const auto& p : pkgs) list += "," + p;
    return list;
}

/// <build>/nspawn-root with `packages`, the netbootd user and its store; made
/// under a lock so that parallel tests build it once.
fs::path container_root(const std::string& packages, std::string& why) {
    const fs::path base = fs::path(PIB_BINARY_DIR) / "nspawn-root";
    const fs::path stamp = base / ".pib-packages";
    int lock = open((fs::path(PIB_BINARY_DIR) / "nspawn-root.lock").c_str(),
                    O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    flock(lock, LOCK_EX);
    struct Unlock {
        int fd;
        ~Unlock() { close(fd); }
    } unlock{lock};
    if (read_text(stamp) == packages) return base;
    const fs::path tmp = base.string() + ".new";
    fs::remove_all(tmp);
    fs::remove_all(base);
    std::string out;
    if (run({"mmdebstrap", "--variant=minbase", "--include=" + packages, "bookworm", tmp.string()},
            &out) != 0) {
        why = "mmdebstrap: " + out.substr(out.size() > 3000 ? out.size() - 3000 : 0);
        return {};
    }
    const std::string setup =
        "useradd --system --user-group --home-dir /var/lib/netbootd --no-create-home "
        "--shell /usr/sbin/nologin netbootd && "
        "install -d -m 0755 /var/lib/netbootd /var/lib/netbootd/releases /etc/netbootd && "
        "touch /usr/sbin/netbootd /etc/systemd/system/netbootd.service && "
        "ln -s /etc/systemd/system/netbootd.service /etc/systemd/system/multi-user.target.wants/ "
        "&& "
        "systemctl mask console-getty.service getty@tty1.service "
        "systemd-networkd-wait-online.service";
    if (run({"chroot", tmp.string(), "sh", "-c", setup}, &out) != 0) {
        why = "setting up the root: " + out;
        return {};
    }
    write_text(tmp / ".pib-packages", packages);
    fs::rename(tmp, base);
    return base;
}

/// A booted container; powered off and reaped in the destructor.
class Container {
  public:
    Container(const fs::path& root, const std::vector<std::string>& binds, const fs::path& log) {
        std::vector<std::string> argv = {"systemd-nspawn",
                                         "--quiet",
                                         "-D",
                                         root.string(),
                                         "--boot",
                                         "--volatile=overlay",
                                         "--register=no",
                                         "--keep-unit",
                                         "--private-network",
                                         "--console=pipe",
                                         "--machine=nbd-" + std::to_string(getpid())};
        for (const auto& b : binds) argv.push_back("--bind-ro=" + b);
        pid_ = fork();
        if (pid_ == 0) {
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            dup2(fd, 1);
            dup2(fd, 2);
            std::vector<char*> a;
            for (auto& s : argv) a.push_back(s.data());
            a.push_back(nullptr);
            execvp(a[0], a.data());
            _exit(127);
        }
    }
    ~Container() {
        if (pid_ <= 0) return;
        kill(pid_, SIGTERM);  // nspawn: an orderly shutdown of the container
        for (int i = 0; i < 300; ++i) {
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
            std::this_thread::sleep_for(100ms);
        }
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }

    /// The container's PID 1 as the host sees it (0 until it runs).
    pid_t init_pid() const {
        const std::string children = read_text("/proc/" + std::to_string(pid_) + "/task/" +
                                               std::to_string(pid_) + "/children");
        for (std::istringstream in(children); in;) {
            pid_t p = 0;
            if (in >> p && read_text("/proc/" + std::to_string(p) + "/comm") == "systemd\n")
                return p;
        }
        return 0;
    }

    /// `sh -c cmd` inside, with its output; returns the exit code.
    int sh(const std::string& cmd, std::string* out = nullptr) const {
        return run({"nsenter", "-t", std::to_string(init_pid()), "-a", "sh", "-c", cmd}, out);
    }
    std::string out(const std::string& cmd) const {
        std::string o;
        sh(cmd, &o);
        return o;
    }

    /// Polls `cmd` until its output is one of `want` (or the limit passes).
    std::string wait_for(const std::string& cmd, const std::set<std::string>& want,
                         std::chrono::seconds limit = 90s) const {
        const auto end = std::chrono::steady_clock::now() + limit;
        std::string o;
        while (std::chrono::steady_clock::now() < end) {
            if (init_pid() > 0) {
                o = out(cmd);
                if (want.count(o)) return o;
            }
            std::this_thread::sleep_for(200ms);
        }
        return o;
    }

  private:
    pid_t pid_ = -1;
};

TEST(NetbootdUnderSystemd, ServiceIsReadyReloadsLogsPrioritiesAndRestartsInItsSandbox) {
    ASSERT_TRUE(pib::test::is_root()) << "boots a container: run as root";
    for (const char* tool : {"systemd-nspawn", "mmdebstrap", "nsenter"})
        ASSERT_EQ(run({"sh", "-c", std::string("command -v ") + tool}), 0)
            << tool << " missing (Debian systemd-container, mmdebstrap, util-linux)";
    const fs::path bin = pib::test::built_binary("netbootd/netbootd");
    std::string why;
    const std::string packages = packages_of(bin, why);
    ASSERT_FALSE(packages.empty()) << why;
    const fs::path root = container_root(packages, why);
    ASSERT_FALSE(root.empty()) << why;

    // What the package would install: the unit for /usr/sbin, a config, key, inventory, a release.
    pib::test::TempDir dir;
    std::string unit = read_text(fs::path(PIB_SOURCE_DIR) / "netbootd/netbootd.service.in");
    for (std::size_t at; (at = unit.find("@SBINDIR@")) != std::string::npos;)
        unit.replace(at, 9, "/usr/sbin");
    write_text(dir / "netbootd.service", unit);
    auto key = netbootd::test::fixed_key();
    write_text(dir / "etc/fleet.pub", key.public_key().to_pem());
    const fs::path releases = dir / "releases";
    fs::create_directories(releases);
    const std::string id = netbootd::test::make_release(
        releases, "demo-pc", "pc",
        {{"root.squashfs", "sq"}, {"boot/vmlinuz", "k"}, {"boot/initrd.img", "i"}}, key);
    const std::string nodes =
        "nodes:\n  - name: pc-01\n    mac: 52:54:00:12:34:56\n    release: " + id + "\n";
    write_text(dir / "etc/nodes.yaml", nodes);
    write_text(dir / "etc/netbootd.yaml",
               "store: /var/lib/netbootd\ninventory: /etc/netbootd/nodes.yaml\n"
               "public-key: /etc/netbootd/fleet.pub\nlisten:\n  address: 127.0.0.1\n");
    for (const auto& p : fs::recursive_directory_iterator(dir.path()))
        fs::permissions(p.path(), fs::perms::others_read | fs::perms::others_exec,
                        fs::perm_options::add);
    fs::permissions(dir.path(), fs::perms::others_read | fs::perms::others_exec,
                    fs::perm_options::add);

    Container c(root,
                {bin.string() + ":/usr/sbin/netbootd",
                 (dir / "netbootd.service").string() + ":/etc/systemd/system/netbootd.service",
                 (dir / "etc").string() + ":/etc/netbootd",
                 releases.string() + ":/var/lib/netbootd/releases"},
                dir / "console.log");

    // Type=notify: "active" only once READY=1 came, from the main PID.
    const std::string state = c.wait_for("systemctl is-active netbootd", {"active\n", "failed\n"});
    ASSERT_EQ(state, "active\n") << c.out(
                                        "systemctl status netbootd; journalctl -u netbootd -o cat")
                                 << read_text(dir / "console.log");
    EXPECT_EQ(
        c.out("systemctl show -p Type -p NotifyAccess -p StatusText netbootd"),
        "Type=notify\nNotifyAccess=main\n"
        "StatusText=serving 1 releases (0 rejected) to 1 nodes; tftp 69, http 80, dhcp proxy\n");
    EXPECT_EQ(c.out("curl -sS http://127.0.0.1/healthz"), "ok\n")
        << "port 80 bound before the switch";
    EXPECT_EQ(c.out("stat -c %U /proc/$(systemctl show -p MainPID --value netbootd)"),
              "netbootd\n");
    EXPECT_EQ(c.out("stat -c %U /var/lib/netbootd/state.db"), "netbootd\n") << "CAP_CHOWN";
    EXPECT_NE(c.out("journalctl -u netbootd -o cat").find("info netbootd ready "),
              std::string::npos);
    EXPECT_EQ(c.out("journalctl -u netbootd -p err -o cat"), "") << "no errors logged at start";

    // systemctl reload: the root `kill` reaches the unprivileged daemon (ExecReload=+).
    std::string o;
    EXPECT_EQ(c.sh("systemctl reload netbootd", &o), 0)
        << o << c.out("journalctl -u netbootd -o cat");
    EXPECT_NE(c.out("journalctl -u netbootd -o cat").find("info netbootd reloaded "),
              std::string::npos);

    // A broken inventory: refused, said in the status, an error for `journalctl -p err`.
    write_text(dir / "etc/nodes.yaml", "nodes: [\n", 0644);
    EXPECT_EQ(c.sh("systemctl reload netbootd", &o), 0) << o;
    EXPECT_EQ(c.wait_for("systemctl show -p StatusText --value netbootd | cut -d';' -f1",
                         {"reload refused, kept the previous configuration\n"}, 30s),
              "reload refused, kept the previous configuration\n");
    const std::string errors = c.out("journalctl -u netbootd -p err -o cat");
    EXPECT_NE(errors.find("error netbootd reload_failed what=\"inventory or store\""),
              std::string::npos)
        << errors;
    EXPECT_EQ(c.out("journalctl -u netbootd -p err -o cat | grep -cv ' reload_failed '"), "0\n")
        << errors;
    const std::string metrics = c.out("curl -sS http://127.0.0.1/metrics");
    EXPECT_NE(metrics.find("\nprocess_max_fds 8192\n"), std::string::npos) << "LimitNOFILE";
    EXPECT_EQ(metrics.find("netbootd_reloads_total{result=\"refused\"} 0\n"), std::string::npos)
        << metrics;
    write_text(dir / "etc/nodes.yaml", nodes, 0644);

    // A restart opens the now unprivileged user's state.db read-write as root
    // (CAP_DAC_OVERRIDE), or reports and rollouts could not be written.
    EXPECT_EQ(c.sh("systemctl restart netbootd", &o), 0)
        << o << c.out("journalctl -u netbootd -o cat");
    EXPECT_EQ(c.out("systemctl is-active netbootd"), "active\n");
    const std::string fdflags = c.out(
        "p=$(systemctl show -p MainPID --value netbootd); for f in /proc/$p/fd/*; do "
        "[ \"$(readlink $f)\" = /var/lib/netbootd/state.db ] && grep flags "
        "/proc/$p/fdinfo/${f##*/}; done");
    ASSERT_FALSE(fdflags.empty()) << "state.db not open";
    EXPECT_EQ(std::stoul(fdflags.substr(fdflags.find_first_of("0123456789")), nullptr, 8) & 3u, 2u)
        << "O_RDWR: " << fdflags;
    EXPECT_EQ(c.out("systemctl show -p NRestarts --value netbootd"), "0\n");
}

}  // namespace
