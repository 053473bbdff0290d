// Publishing releases through the system's NFS server needs root (the exports
// file lives under /etc; exportfs and ganesha's reload are root's), while
// netbootd runs unprivileged after binding its ports. So, privilege separation
// as OpenSSH does it: before dropping privileges netbootd forks a tiny helper
// that stays root and does exactly one thing — write the exports file for a
// list of release ids and tell the NFS server. Export dir, subnet, file and
// reload command are fixed when the helper starts; the unprivileged daemon can
// only choose which release directories are exported (read-only, to the boot
// subnet). The helper dies with the daemon (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/nfs_exports.hpp"

namespace netbootd {

class NfsPublisher {
public:
    /// `separate_process`: fork the root helper (the daemon drops privileges
    /// later); otherwise exports are applied in-process.
    static pib::Result<std::unique_ptr<NfsPublisher>> start(NfsExportSet fixed, NfsApplyOptions options,
                                                            bool separate_process, const pib::Logger& log);
    ~NfsPublisher();
    NfsPublisher(const NfsPublisher&) = delete;
    NfsPublisher& operator=(const NfsPublisher&) = delete;

    /// Exports exactly `release_ids` (verified releases); logs the outcome.
    pib::Status publish(const std::vector<std::string>& release_ids);

private:
    NfsPublisher(NfsExportSet fixed, NfsApplyOptions options, const pib::Logger& log)
        : fixed_(std::move(fixed)), options_(std::move(options)), log_(log) {}
    void log_report(const NfsApplyReport& r);

    NfsExportSet fixed_;
    NfsApplyOptions options_;
    const pib::Logger& log_;
    int fd_ = -1;      ///< socketpair end to the helper; -1 = in-process
    pid_t child_ = -1;
};

}  // namespace netbootd
