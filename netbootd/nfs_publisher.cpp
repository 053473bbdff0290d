#include "netbootd/nfs_publisher.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;
using nlohmann::json;

namespace {

// One message = one SOCK_SEQPACKET datagram, so no framing is needed.
constexpr std::size_t kMaxMessage = 1 << 20;

json report_json(const NfsApplyReport& r) {
    return {{"exported", r.exported}, {"warnings", r.warnings}, {"changed", r.changed},
            {"reloaded", r.reloaded}, {"reload_error", r.reload_error}};
}

void close_other_fds(int keep) {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return;
    std::vector<int> fds;
    while (dirent* e = readdir(d)) {
        int fd = std::atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != keep && fd != dirfd(d)) fds.push_back(fd);
    }
    closedir(d);
    for (int fd : fds) close(fd);
}

[[noreturn]] void helper_main(int fd, const NfsExportSet& fixed, const NfsApplyOptions& options) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) _exit(0);
    close_other_fds(fd);
    std::string buf(kMaxMessage, '\0');
    while (true) {
        ssize_t n = recv(fd, buf.data(), buf.size(), 0);
        if (n == 0) _exit(0);
        if (n < 0) {
            if (errno == EINTR) continue;
            _exit(1);
        }
        json reply;
        json req = json::parse(buf.substr(0, static_cast<std::size_t>(n)), nullptr, false);
        if (!req.is_array()) {
            reply = {{"error", "malformed request"}};
        } else {
            NfsExportSet set = fixed;  // only the ids come from the daemon
            set.release_ids.clear();
            for (const auto& id : req)
                if (id.is_string()) set.release_ids.push_back(id.get<std::string>());
            auto r = apply_nfs_exports(set, options);
            reply = r ? report_json(*r) : json{{"error", r.error().message}};
        }
        const std::string out = reply.dump();
        if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) _exit(1);
    }
}

}  // namespace

pib::Result<std::unique_ptr<NfsPublisher>> NfsPublisher::start(NfsExportSet fixed, NfsApplyOptions options,
                                                               bool separate_process, const pib::Logger& log) {
    auto p = std::unique_ptr<NfsPublisher>(new NfsPublisher(std::move(fixed), std::move(options), log));
    if (!separate_process) return p;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return fail(Errc::io, std::string("socketpair: ") + std::strerror(errno));
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return fail(Errc::io, std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        helper_main(sv[1], p->fixed_, p->options_);
    }
    close(sv[1]);
    p->fd_ = sv[0];
    p->child_ = pid;
    log.event(Level::info, "nfs", "helper_started").kv("pid", static_cast<std::int64_t>(pid));
    return p;
}

NfsPublisher::~NfsPublisher() {
    if (fd_ >= 0) close(fd_);  // the helper sees EOF and exits
    if (child_ > 0) waitpid(child_, nullptr, 0);
}

void NfsPublisher::log_report(const NfsApplyReport& r) {
    auto ev = log_.event(r.reload_error.empty() ? Level::info : Level::warn, "nfs", "exports_applied");
    ev.kv("exports", static_cast<std::uint64_t>(r.exported.size()))
        .kv("changed", r.changed ? "true" : "false")
        .kv("reloaded", r.reloaded ? "true" : "false");
    if (!r.reload_error.empty()) ev.kv("reload_error", r.reload_error);
    for (const auto& w : r.warnings) log_.event(Level::warn, "nfs", "export_warning").kv("detail", w);
}

pib::Status NfsPublisher::publish(const std::vector<std::string>& release_ids) {
    if (fd_ < 0) {
        NfsExportSet set = fixed_;
        set.release_ids = release_ids;
        auto r = apply_nfs_exports(set, options_);
        if (!r) {
            log_.event(Level::error, "nfs", "exports_failed").kv("error", r.error().message);
            return r.error();
        }
        log_report(*r);
        return {};
    }
    const std::string req = json(release_ids).dump();
    if (send(fd_, req.data(), req.size(), MSG_NOSIGNAL) < 0)
        return fail(Errc::io, std::string("nfs helper: ") + std::strerror(errno));
    std::string buf(kMaxMessage, '\0');
    ssize_t n;
    do n = recv(fd_, buf.data(), buf.size(), 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return fail(Errc::io, "nfs helper: gone");
    json reply = json::parse(buf.substr(0, static_cast<std::size_t>(n)), nullptr, false);
    if (!reply.is_object()) return fail(Errc::io, "nfs helper: malformed reply");
    if (reply.contains("error")) {
        const std::string e = reply["error"].is_string() ? reply["error"].get<std::string>() : "?";
        log_.event(Level::error, "nfs", "exports_failed").kv("error", e);
        return fail(Errc::io, e);
    }
    NfsApplyReport r;
    r.exported = reply.value("exported", std::vector<std::string>{});
    r.warnings = reply.value("warnings", std::vector<std::string>{});
    r.changed = reply.value("changed", false);
    r.reloaded = reply.value("reloaded", false);
    r.reload_error = reply.value("reload_error", std::string());
    log_report(r);
    return {};
}

}  // namespace netbootd
