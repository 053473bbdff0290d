// netbootd under systemd, with systemd's own interfaces played by the test:
// the sd_notify(3) datagram socket ($NOTIFY_SOCKET) the real binary reports
// readiness and reloads to, the journal stream ($JOURNAL_STREAM) that turns on
// syslog priority prefixes, and the unit generated from netbootd.service.in
// checked by `systemd-analyze verify` and `systemd-analyze security`.
// systemd is not PID 1 here (no systemd-run), so the unit is not started.
#include <gtest/gtest.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <regex>
#include <sstream>

#include "common/log.hpp"
#include "daemon_process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netbootd::test::BinaryFleet;
using netbootd::test::curl;
using netbootd::test::DaemonProcess;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

/// The service manager's end of sd_notify: a datagram socket that receives
/// the sender's credentials (SO_PASSCRED), as systemd's does.
class NotifySocket {
  public:
    struct Message {
        std::string text;
        pid_t pid = 0;
        uid_t uid = 0;
        bool has(const std::string& line) const {
            return ("\n" + text + "\n").find("\n" + line + "\n") != std::string::npos;
        }
    };

    explicit NotifySocket(const fs::path& path) : path_(path) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
        ok_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
        int one = 1;
        ok_ = ok_ && setsockopt(fd_, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) == 0;
        // Like /run/systemd/notify: any user may send (the daemon sends after dropping root).
        ok_ = ok_ && chmod(path.c_str(), 0777) == 0;
    }
    ~NotifySocket() {
        if (fd_ >= 0) close(fd_);
    }
    bool ok() const { return ok_; }
    const fs::path& path() const { return path_; }

    /// The next datagram, or nothing within `limit`.
    std::optional<Message> next(std::chrono::milliseconds limit = 30s) {
        pollfd p{fd_, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(limit.count())) != 1) return std::nullopt;
        char buf[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{buf, sizeof buf};
        msghdr mh{};
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = control;
        mh.msg_controllen = sizeof control;
        ssize_t n = recvmsg(fd_, &mh, 0);
        if (n < 0) return std::nullopt;
        Message m;
        m.text.assign(buf, static_cast<std::size_t>(n));
        for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cr{};
                std::memcpy(&cr, CMSG_DATA(c), sizeof cr);
                m.pid = cr.pid;
                m.uid = cr.uid;
            }
        }
        return m;
    }

  private:
    fs::path path_;
    int fd_ = -1;
    bool ok_ = false;
};

std::string dev_ino(const fs::path& p) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return "";
    return std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
           std::to_string(static_cast<unsigned long long>(st.st_ino));
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

// ---- sd_notify -------------------------------------------------------------

TEST(NetbootdSystemd, NotifiesReadyAfterPortsAnswerAndAroundReloadsFromTheDroppedMainPid) {
    ASSERT_TRUE(pib::test::is_root()) << "drops privileges: run as root";
    const passwd* nobody = getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    NotifySocket ns(f.dir.path() / "notify");
    ASSERT_TRUE(ns.ok()) << std::strerror(errno);
    DaemonProcess d(f, f.dir.path() / "log", {.env = {{"NOTIFY_SOCKET", ns.path().string()}}});

    auto ready = ns.next();
    ASSERT_TRUE(ready) << "no notification\n" << d.log();
    EXPECT_TRUE(ready->has("READY=1")) << ready->text;
    EXPECT_NE(
        ready->text.find("\nSTATUS=serving 1 releases (0 rejected) to 1 nodes; tftp " +
                         std::to_string(f.tftp_port) + ", http " + std::to_string(f.http_port)),
        std::string::npos)
        << ready->text;
    // NotifyAccess=main: from the main PID, and after the switch to the
    // unprivileged user (who can still reach the socket).
    EXPECT_EQ(ready->pid, d.pid());
    EXPECT_EQ(ready->uid, nobody_uid);
    // When READY=1 arrives the ports answer at once: no retries here.
    int rc = -1;
    EXPECT_EQ(curl(f, {f.url("/healthz")}, &rc), "ok\n");
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(f.tftp_get("vmlinuz", f.dir.path() / "got"), f.kernel);
    const std::string log = d.log();
    ASSERT_NE(log.find("info netbootd ready"), std::string::npos) << log;
    EXPECT_LT(log.find("privileges_dropped user=nobody"), log.find("netbootd ready")) << log;

    // systemctl reload: RELOADING=1 (with the monotonic time systemd >= 253
    // asks for), then READY=1 with the new status.
    d.signal(SIGHUP);
    auto reloading = ns.next();
    ASSERT_TRUE(reloading) << d.log();
    EXPECT_TRUE(reloading->has("RELOADING=1")) << reloading->text;
    EXPECT_TRUE(std::regex_search(reloading->text, std::regex("(^|\n)MONOTONIC_USEC=[0-9]+(\n|$)")))
        << reloading->text;
    auto reloaded = ns.next();
    ASSERT_TRUE(reloaded) << d.log();
    EXPECT_TRUE(reloaded->has("READY=1")) << reloaded->text;
    EXPECT_NE(reloaded->text.find("STATUS=serving 1 releases"), std::string::npos)
        << reloaded->text;

    // A broken inventory is refused (the inventory's directory is watched, so
    // its own reload may come first): every RELOADING=1 is answered by READY=1,
    // and the status says the previous configuration stays.
    write_text(f.inventory, "nodes:\n  - name: Bad_Name\n    mac: 52:54:00:00:00:01\n");
    d.signal(SIGHUP);
    bool refused = false;
    for (int i = 0; i < 4 && !refused; ++i) {
        auto a = ns.next();
        ASSERT_TRUE(a) << d.log();
        ASSERT_TRUE(a->has("RELOADING=1")) << a->text;
        auto b = ns.next();
        ASSERT_TRUE(b) << d.log();
        ASSERT_TRUE(b->has("READY=1")) << b->text;
        refused =
            b->text.find(
                "STATUS=reload refused, kept the previous configuration; serving 1 releases") !=
            std::string::npos;
    }
    EXPECT_TRUE(refused) << d.log();
    EXPECT_EQ(curl(f, {f.url("/healthz")}), "ok\n") << "still serving";

    const int st = d.stop();
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st << d.log();
    // What the refused inventory's reloads left queued, then STOPPING=1.
    std::optional<NotifySocket::Message> last;
    while (auto m = ns.next(2s)) last = m;
    ASSERT_TRUE(last) << d.log();
    EXPECT_TRUE(last->has("STOPPING=1")) << last->text;
}

TEST(NetbootdSystemd, NoNotifySocketNoNotificationsAndTheSameLog) {
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    DaemonProcess d(f, f.dir.path() / "log",
                    {.args = {"--keep-privileges"}, .unset_env = {"NOTIFY_SOCKET"}});
    ASSERT_TRUE(d.wait_logged("info netbootd ready")) << d.log();
    EXPECT_EQ(d.log().find("notify_failed"), std::string::npos) << d.log();
}

TEST(NetbootdSystemd, UnreachableNotifySocketIsLoggedNotFatal) {
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    DaemonProcess d(f, f.dir.path() / "log",
                    {.args = {"--keep-privileges"},
                     .env = {{"NOTIFY_SOCKET", (f.dir.path() / "nothing").string()}}});
    ASSERT_TRUE(d.wait_logged("warn netbootd notify_failed state=\"READY=1\"")) << d.log();
    EXPECT_EQ(curl(f, {f.url("/healthz")}), "ok\n");
}

// ---- the journal -------------------------------------------------------------

TEST(NetbootdSystemd, LogLinesCarrySyslogPrioritiesWhenStderrIsTheJournalStream) {
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    f.extra_config = "log-level: debug\n";
    f.write_config();
    const fs::path log = f.dir.path() / "journal";
    write_text(log, "");  // the daemon's stderr is this inode (opened with O_TRUNC)
    DaemonProcess d(f, log,
                    {.args = {"--keep-privileges"}, .env = {{"JOURNAL_STREAM", dev_ino(log)}}});
    ASSERT_TRUE(d.wait_logged("<6>info netbootd ready ")) << d.log();
    EXPECT_EQ(f.tftp_get("vmlinuz", f.dir.path() / "got"), f.kernel);
    EXPECT_TRUE(d.wait_logged("<7>debug tftp transfer_start")) << d.log();
    // A socket-bound setting changed: a warning; a broken inventory: an error.
    f.tftp_port = static_cast<std::uint16_t>(f.tftp_port + 2);
    f.write_config();
    d.signal(SIGHUP);
    EXPECT_TRUE(d.wait_logged("<4>warn netbootd restart_needed")) << d.log();
    write_text(f.inventory, "nodes: [\n");
    d.signal(SIGHUP);
    EXPECT_TRUE(d.wait_logged("<3>error netbootd reload_failed")) << d.log();
    d.stop();
    const std::regex prefixed("^<(3>error|4>warn|6>info|7>debug) [a-z]+ [a-z_]+( .*)?$");
    for (const auto& l : lines_of(d.log())) EXPECT_TRUE(std::regex_match(l, prefixed)) << l;
}

TEST(NetbootdSystemd, LogLinesUnchangedWhenJournalStreamNamesAnotherFile) {
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    const fs::path log = f.dir.path() / "log";
    // Set by a unit for its own stderr, inherited by a shell that redirected ours.
    DaemonProcess d(
        f, log, {.args = {"--keep-privileges"}, .env = {{"JOURNAL_STREAM", dev_ino(f.config)}}});
    ASSERT_TRUE(d.wait_logged("info netbootd ready ")) << d.log();
    d.stop();
    const auto lines = lines_of(d.log());
    ASSERT_FALSE(lines.empty());
    for (const auto& l : lines)
        EXPECT_TRUE(std::regex_match(l, std::regex("^(error|warn|info|debug) .*"))) << l;
}

TEST(NetbootdSystemd, CheckConfigErrorsAreErrorPriorityOnTheJournal) {
    BinaryFleet f;
    ASSERT_EQ(f.netns_error, "");
    write_text(f.config, read_text(f.config) + "tftp-port: 69\n");
    const fs::path log = f.dir.path() / "journal";
    write_text(log, "");
    const auto bin = pib::test::built_binary("netbootd/netbootd");
    const std::string stream = dev_ino(log);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log.c_str(), O_WRONLY | O_TRUNC);
        dup2(fd, 2);
        setenv("JOURNAL_STREAM", stream.c_str(), 1);
        execl(bin.c_str(), bin.c_str(), "--check-config", f.config.c_str(), nullptr);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) << st;
    const std::string out = read_text(log);
    EXPECT_NE(out.find("<3>" + f.config.string() + ":"), std::string::npos) << out;
    EXPECT_NE(out.find("tftp-port: unknown key"), std::string::npos) << out;
    EXPECT_NE(out.find("<3>netbootd: " + f.config.string() + ": 1 problem\n"), std::string::npos)
        << out;
}

TEST(LogFormat, JournalStreamMatchesOnlyItsOwnDeviceAndInode) {
    EXPECT_TRUE(pib::journal_stream_matches("64769:1234567", 64769, 1234567));
    EXPECT_FALSE(pib::journal_stream_matches("64769:1234567", 64769, 1234568));
    EXPECT_FALSE(pib::journal_stream_matches("64770:1234567", 64769, 1234567));
    for (const char* bad :
         {"", ":", "64769", "64769:", ":1234567", "64769:1234567x", "x64769:1234567", " 1:2"})
        EXPECT_FALSE(pib::journal_stream_matches(bad, 64769, 1234567)) << bad;
    EXPECT_FALSE(pib::journal_stream_matches(nullptr, 0, 0));
    EXPECT_EQ(pib::format_log_line(pib::Level::error, "netbootd reload_failed", true),
              "<3>error netbootd reload_failed\n");
    EXPECT_EQ(pib::format_log_line(pib::Level::warn, "a b", true), "<4>warn a b\n");
    EXPECT_EQ(pib::format_log_line(pib::Level::info, "a b", true), "<6>info a b\n");
    EXPECT_EQ(pib::format_log_line(pib::Level::debug, "a b", true), "<7>debug a b\n");
    EXPECT_EQ(pib::format_log_line(pib::Level::info, "netbootd ready", false),
              "info netbootd ready\n");
}

// ---- the unit ------------------------------------------------------------------

/// netbootd.service as installed, with @SBINDIR@ the build's netbootd directory.
fs::path generate_unit(const fs::path& dir) {
    std::string unit = read_text(fs::path(PIB_SOURCE_DIR) / "netbootd/netbootd.service.in");
    const std::string sbindir = pib::test::built_binary("netbootd").string();
    for (std::size_t at; (at = unit.find("@SBINDIR@")) != std::string::npos;)
        unit.replace(at, 9, sbindir);
    const fs::path out = dir / "netbootd.service";
    write_text(out, unit);
    return out;
}

TEST(NetbootdUnit, GeneratedUnitPassesSystemdAnalyzeVerify) {
    pib::test::TempDir dir;
    const fs::path unit = generate_unit(dir.path());
    const std::string text = read_text(unit);
    EXPECT_EQ(text.find("@SBINDIR@"), std::string::npos) << "unsubstituted placeholder";
    EXPECT_NE(text.find("\nType=notify\n"), std::string::npos);
    EXPECT_NE(text.find("\nExecStart=" + pib::test::built_binary("netbootd/netbootd").string() +
                        " --config "),
              std::string::npos);
    // verify loads the unit as systemd would (unknown or misspelt settings,
    // ExecStart= binaries that must exist and be executable); --man=no: the
    // Documentation= man pages are checked where they are installed (the package test).
    std::string out;
    EXPECT_EQ(run({"systemd-analyze", "verify", "--man=no", unit.string()}, &out), 0) << out;
    EXPECT_EQ(out, "") << "systemd-analyze verify warnings";
}

TEST(NetbootdUnit, SecurityExposureIsTheOneDocumented) {
    pib::test::TempDir dir;
    const fs::path unit = generate_unit(dir.path());
    std::string out;
    ASSERT_EQ(
        run({"systemd-analyze", "security", "--offline=yes", "--no-pager", unit.string()}, &out), 0)
        << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        out, m, std::regex("Overall exposure level for netbootd.service: ([0-9.]+) ")))
        << out;
    const std::string doc = read_text(fs::path(PIB_SOURCE_DIR) / "docs/netbootd.md");
    EXPECT_NE(doc.find("exposure **" + m[1].str() + "**"), std::string::npos)
        << "docs/netbootd.md states another `systemd-analyze security` figure than " << m[1] << "\n"
        << out;
}

}  // namespace
