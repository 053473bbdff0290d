// Publishing releases read-only through the system's NFS server. netbootd does
// not speak NFS: it writes the export list of the kernel server
// (/etc/exports.d/netbootd.exports) or of NFS-Ganesha (a file ganesha.conf
// %include's) and asks the server to re-read it. The generators are pure and
// deterministic (same inputs, same bytes); the applier does the file and the
// reload. Why each export option is there: docs/nfs.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "netbootd/config.hpp"

namespace netbootd {

// The config's types (config.hpp lives in pib::netbootd).
using pib::netbootd::Ipv4Net;
using pib::netbootd::NfsServer;

/// What to export: every release id below `export_dir`, to `subnet` only.
struct NfsExportSet {
    std::filesystem::path export_dir;      ///< absolute; releases are <export_dir>/<id>
    std::vector<std::string> release_ids;  ///< any order; sorted and de-duplicated on output
    Ipv4Net subnet;
};

/// Options of the kernel nfsd export lines.
struct KernelExportOptions {
    /// Accept requests from source ports >= 1024. The Linux kernel client (the
    /// initramfs mount) uses a reserved port as root, so this is off; turn it on
    /// only for userspace clients such as libnfs run by a non-root user.
    bool insecure = false;
};

/// Options of the NFS-Ganesha export blocks.
struct GaneshaExportOptions {
    /// NFSv4 pseudo path under which releases appear: <prefix>/<id>.
    std::string pseudo_prefix = "/netbootd";
    /// Export_Ids already handed out (read back from the current file by
    /// parse_ganesha_export_ids). They are kept, so a release keeps its id -- and
    /// clients their file handles -- when other releases come and go.
    std::map<std::string, std::uint16_t> previous_ids;
};

/// Why `id` cannot be exported ("must ..."), or "" when it can: [A-Za-z0-9._+~-],
/// 1..128 characters, not starting with '.'.
std::string nfs_release_id_problem(std::string_view id);

/// Ganesha Export_Ids live in [kGaneshaFirstExportId, 65535]; ids below are
/// left to exports an administrator writes by hand (0 is ganesha's pseudo root).
inline constexpr std::uint16_t kGaneshaFirstExportId = 4096;

/// Export_Id of each id: previous ids kept when valid and unique, the others
/// from a hash of the id, probing upwards (wrapping) on collision, in sorted order.
std::map<std::string, std::uint16_t> assign_ganesha_export_ids(
    const std::vector<std::string>& ids, const std::map<std::string, std::uint16_t>& previous = {});

/// The `fsid=` number of each id: a 31-bit hash of the id (>= 2^28, so clear of
/// small hand-picked numbers and of 0, NFSv4's root), probing on collision.
std::map<std::string, std::uint32_t> assign_kernel_fsids(const std::vector<std::string>& ids);

/// The text of /etc/exports.d/netbootd.exports. Errc::invalid naming every bad
/// id, or an export_dir that is relative or holds '"', '\' or control characters.
pib::Result<std::string> render_kernel_exports(const NfsExportSet& set,
                                               const KernelExportOptions& options = {});

/// The text of the ganesha export file (EXPORT blocks, NFSv4 only). Errors as above.
pib::Result<std::string> render_ganesha_exports(const NfsExportSet& set,
                                                const GaneshaExportOptions& options = {});

/// Release id -> Export_Id of a file render_ganesha_exports wrote with `pseudo_prefix`;
/// anything else in the text is ignored.
std::map<std::string, std::uint16_t> parse_ganesha_export_ids(
    std::string_view text, std::string_view pseudo_prefix = "/netbootd");

/// The path a client mounts for release `id`: <export_dir>/<id> from the kernel
/// server, <pseudo_prefix>/<id> from ganesha (`mount -t nfs4 server:<path>`).
std::string nfs_mount_path(NfsServer server, const std::filesystem::path& export_dir,
                           std::string_view id, std::string_view pseudo_prefix = "/netbootd");

/// How the applier writes and reloads.
struct NfsApplyOptions {
    NfsServer server = NfsServer::kernel;
    std::filesystem::path exports_file;  ///< defaults(): see default_exports_file()
    /// Run after the file changed; empty = do not reload. defaults(): `exportfs
    /// -ra` (kernel) or `systemctl reload nfs-ganesha` (whose ExecReload sends SIGHUP).
    std::vector<std::string> reload_command;
    /// Ganesha only: send SIGHUP to this process instead of running reload_command
    /// (a ganesha started by hand, or by a test). Ganesha 4.x re-reads its EXPORT
    /// blocks on SIGHUP, adding new exports and removing vanished ones.
    std::optional<pid_t> ganesha_pid;
    /// Rewrite and reload even when the file already holds the same bytes (to
    /// retry after a failed reload).
    bool force = false;
    KernelExportOptions kernel;
    GaneshaExportOptions ganesha;  ///< previous_ids are filled from the current file

    /// The options with this server's default file and reload command.
    static NfsApplyOptions defaults(NfsServer server);
};

/// /etc/exports.d/netbootd.exports or /etc/ganesha/netbootd-exports.conf.
std::filesystem::path default_exports_file(NfsServer server);
/// `exportfs -ra` or `systemctl reload nfs-ganesha`.
std::vector<std::string> default_reload_command(NfsServer server);

/// What apply_nfs_exports did.
struct NfsApplyReport {
    std::vector<std::string> exported;  ///< sorted ids now in the file
    std::vector<std::string> warnings;  ///< refused ids, releases without root.squashfs
    bool changed = false;               ///< the file was (re)written
    bool reloaded = false;              ///< the server was told, successfully
    std::string reload_error;           ///< why telling the server failed ("" = it did not)
};

/// Publishes `set`: ids with odd characters are left out (with a warning), ids
/// whose root.squashfs is missing are exported with a warning; the file is
/// written atomically only when its bytes change, and then the server is told.
/// A reload that fails is reported in the result, not as an error: the file is
/// right, and the next reload will pick it up. Errors: the file cannot be written
/// (Errc::io), or the export dir cannot stand in it (relative, quotes: Errc::invalid).
pib::Result<NfsApplyReport> apply_nfs_exports(const NfsExportSet& set,
                                              const NfsApplyOptions& options);

}  // namespace netbootd
