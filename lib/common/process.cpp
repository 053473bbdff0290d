#include "common/process.hpp"
#include "common/fs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>

extern char** environ;

namespace pib {

namespace {

constexpr std::size_t kTailLines = 20;

// Splits output into lines, forwards them and keeps the last few for errors.
struct LineSink {
    const Command& cmd;
    std::deque<std::string>& tail;
    std::string partial;

    void feed(const char* data, std::size_t n) {
        partial.append(data, n);
        std::size_t pos;
        while ((pos = partial.find('\n')) != std::string::npos) {
            emit(partial.substr(0, pos));
            partial.erase(0, pos + 1);
        }
    }
    void flush() {
        if (!partial.empty()) emit(partial);
        partial.clear();
    }
    void emit(const std::string& line) {
        if (cmd.on_line) cmd.on_line(line);
        tail.push_back(line);
        if (tail.size() > kTailLines) tail.pop_front();
    }
};

// Runs in the forked child only: no allocation that could deadlock matters
// here because the child is single-threaded until exec, but keep it to syscalls.
bool mount_in(const std::string& root, const char* rel, const char* type, const char* src,
              unsigned long flags) {
    char target[4096];
    std::snprintf(target, sizeof target, "%s/%s", root.c_str(), rel);
    ::mkdir(target, 0755);
    if (::mount(src, target, type, flags, nullptr) != 0) {
        dprintf(2, "mount %s on %s: %s\n", src, target, std::strerror(errno));
        return false;
    }
    return true;
}

bool setup_chroot_mounts(const std::string& root) {
    if (::unshare(CLONE_NEWNS) != 0) {
        dprintf(2, "unshare(CLONE_NEWNS): %s\n", std::strerror(errno));
        return false;
    }
    // Keep our mounts from propagating back to the host's namespace.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        dprintf(2, "make / private: %s\n", std::strerror(errno));
        return false;
    }
    return mount_in(root, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC) &&
           mount_in(root, "sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY) &&
           mount_in(root, "dev", nullptr, "/dev", MS_BIND | MS_REC);
}

std::vector<std::string> build_env(const Command& cmd) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        std::string key(kv.substr(0, eq));
        if (cmd.env_set.count(key)) continue;
        bool drop = false;
        for (const auto& u : cmd.env_unset) drop |= (u == key);
        if (!drop) env.emplace_back(kv);
    }
    for (const auto& [k, v] : cmd.env_set) env.push_back(k + "=" + v);
    return env;
}

}  // namespace

std::string shell_quote(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) {
        if (!s.empty()) s += ' ';
        bool plain = !a.empty() && a.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") ==
            std::string::npos;
        if (plain) {
            s += a;
        } else {
            s += '\'';
            for (char c : a) {
                if (c == '\'') s += "'\\''";
                else s += c;
            }
            s += '\'';
        }
    }
    return s;
}

bool have_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::string p = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t start = 0;
    while (start <= p.size()) {
        auto end = p.find(':', start);
        if (end == std::string::npos) end = p.size();
        std::string cand = p.substr(start, end - start) + "/" + name;
        if (::access(cand.c_str(), X_OK) == 0) return true;
        start = end + 1;
    }
    return false;
}

Result<ProcessResult> run_process(const Command& cmd) {
    if (cmd.argv.empty()) return fail(Errc::invalid, "empty command");
    int out_pipe[2], err_pipe[2], in_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) return fail(Errc::io, errno_message("pipe"));
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]); ::close(out_pipe[1]);
        return fail(Errc::io, errno_message("pipe"));
    }
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) {
        ::close(out_pipe[0]); ::close(out_pipe[1]); ::close(err_pipe[0]); ::close(err_pipe[1]);
        return fail(Errc::io, errno_message("pipe"));
    }

    // Everything the child needs is prepared before fork (no allocation after it).
    std::vector<std::string> env = build_env(cmd);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = cmd.argv;
    std::vector<char*> argvp;
    for (auto& a : args) argvp.push_back(a.data());
    argvp.push_back(nullptr);
    std::string chroot_dir = cmd.chroot ? cmd.chroot->string() : "";
    const bool mounts = cmd.chroot_mounts;
    std::string cwd = cmd.cwd ? cmd.cwd->string() : (cmd.chroot ? "/" : "");
    // Resolve the program against PATH ourselves: execvpe uses the parent's PATH
    // view, which inside a chroot is what we want as well.
    std::string path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& e : env) if (e.rfind("PATH=", 0) == 0) path_env = e.substr(5);

    pid_t pid = ::fork();
    if (pid < 0) return fail(Errc::io, errno_message("fork"));
    if (pid == 0) {
        // A killed build must not leave mmdebstrap or apt running on its own.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        ::dup2(in_pipe[0], 0);
        ::dup2(out_pipe[1], 1);
        ::dup2(err_pipe[1], 2);
        if (!chroot_dir.empty() && mounts && !setup_chroot_mounts(chroot_dir)) _exit(126);
        if (!chroot_dir.empty() && ::chroot(chroot_dir.c_str()) != 0) {
            dprintf(2, "chroot %s: %s\n", chroot_dir.c_str(), std::strerror(errno));
            _exit(126);
        }
        if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
            dprintf(2, "chdir %s: %s\n", cwd.c_str(), std::strerror(errno));
            _exit(126);
        }
        ::setenv("PATH", path_env.c_str(), 1);
        ::execvpe(argvp[0], argvp.data(), envp.data());
        dprintf(2, "exec %s: %s\n", argvp[0], std::strerror(errno));
        _exit(127);
    }
    ::close(in_pipe[0]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);

    // Feed stdin (usually small) without blocking the output readers.
    std::string_view to_write = cmd.stdin_data;
    int in_fd = in_pipe[1];
    if (to_write.empty()) { ::close(in_fd); in_fd = -1; }
    else ::fcntl(in_fd, F_SETFL, O_NONBLOCK);

    ProcessResult res;
    std::deque<std::string> tail;
    LineSink out_sink{cmd, tail, {}}, err_sink{cmd, tail, {}};
    int fds[2] = {out_pipe[0], err_pipe[0]};
    char buf[65536];
    while (fds[0] >= 0 || fds[1] >= 0) {
        pollfd p[3];
        int n = 0;
        int idx[3];
        for (int i = 0; i < 2; ++i) if (fds[i] >= 0) { p[n] = {fds[i], POLLIN, 0}; idx[n++] = i; }
        if (in_fd >= 0) { p[n] = {in_fd, POLLOUT, 0}; idx[n++] = 2; }
        if (::poll(p, n, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int k = 0; k < n; ++k) {
            if (!p[k].revents) continue;
            if (idx[k] == 2) {
                ssize_t w = ::write(in_fd, to_write.data(), to_write.size());
                if (w > 0) to_write.remove_prefix(static_cast<std::size_t>(w));
                if (w < 0 && errno != EAGAIN && errno != EINTR) to_write = {};
                if (to_write.empty()) { ::close(in_fd); in_fd = -1; }
                continue;
            }
            int i = idx[k];
            ssize_t r = ::read(fds[i], buf, sizeof buf);
            if (r > 0) {
                if (i == 0 && cmd.capture_stdout) res.out.append(buf, static_cast<std::size_t>(r));
                else (i == 0 ? out_sink : err_sink).feed(buf, static_cast<std::size_t>(r));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                ::close(fds[i]);
                fds[i] = -1;
            }
        }
    }
    if (in_fd >= 0) ::close(in_fd);
    out_sink.flush();
    err_sink.flush();

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
    for (const auto& l : tail) { res.tail += l; res.tail += '\n'; }
    return res;
}

Result<ProcessResult> run_checked(const Command& cmd) {
    auto r = run_process(cmd);
    if (!r) return r;
    if (r->exit_code != 0) {
        std::string why = r->signal ? "killed by signal " + std::to_string(r->signal)
                                    : "exited with status " + std::to_string(r->exit_code);
        std::string msg = shell_quote(cmd.argv) + " " + why;
        if (cmd.chroot) msg += " (inside " + cmd.chroot->string() + ")";
        if (!r->tail.empty()) msg += ":\n" + r->tail;
        return fail(Errc::io, msg);
    }
    return r;
}

}  // namespace pib
