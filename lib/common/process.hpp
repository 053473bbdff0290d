// Running external programs (mmdebstrap, tar, chroot commands) without a shell.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pib {

/// What to run and how.
struct Command {
    std::vector<std::string> argv;                 ///< argv[0] is looked up in PATH
    std::map<std::string, std::string> env_set;    ///< added to (or replacing in) the environment
    std::vector<std::string> env_unset;            ///< removed from the environment
    std::optional<std::filesystem::path> cwd;      ///< working directory
    std::optional<std::filesystem::path> chroot;   ///< chroot(2) into this before exec (needs root)
    /// With chroot: run in a private mount namespace with /proc, /sys and /dev
    /// mounted inside the chroot. The mounts die with the child, so a killed
    /// build never leaves mounts behind on the host.
    bool chroot_mounts = false;
    bool capture_stdout = false;                   ///< collect stdout into ProcessResult::out
    std::string stdin_data;                        ///< written to the child's stdin (closed after)
    /// Called with each line the child writes to stdout (unless captured) and stderr.
    std::function<void(const std::string&)> on_line;
};

/// How it ended.
struct ProcessResult {
    int exit_code = -1;   ///< exit status, or -1 when killed by a signal
    int signal = 0;       ///< terminating signal, 0 if it exited
    std::string out;      ///< stdout when captured
    std::string tail;     ///< the last lines of output (for error messages)
};

/// Runs a command to completion. An error is returned only when it could not be started.
Result<ProcessResult> run_process(const Command& cmd);

/// Runs a command; any non-zero exit becomes an Errc::io error naming the
/// command and quoting the last lines of its output.
Result<ProcessResult> run_checked(const Command& cmd);

/// Quotes argv for display in logs and errors.
std::string shell_quote(const std::vector<std::string>& argv);

/// True when `name` is an executable in PATH.
bool have_program(const std::string& name);

}  // namespace pib
