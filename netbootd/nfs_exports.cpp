#include "netbootd/nfs_exports.hpp"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <system_error>

#include "common/fs.hpp"
#include "common/process.hpp"

namespace netbootd {

namespace {

namespace fs = std::filesystem;
using pib::Errc;
using pib::fail;
using pib::Result;

// FNV-1a, 64 bit: stable across builds, platforms and library versions (std::hash is not).
std::uint64_t fnv1a(std::string_view s) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return h;
}

// The ids to export, sorted by byte and de-duplicated.
std::vector<std::string> sorted_ids(const std::vector<std::string>& ids) {
    std::vector<std::string> out(ids);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Both servers read a double-quoted string up to the next '"'; neither has an
// escape we could rely on for '"' itself, so such paths are refused, not escaped.
std::string quotable_problem(std::string_view s) {
    for (unsigned char c : s)
        if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f)
            return "must not contain '\"', '\\' or control characters";
    return "";
}

// Every reason the set cannot be rendered, one per line; "" when it can.
std::string set_problems(const NfsExportSet& set, std::optional<std::string_view> pseudo_prefix) {
    std::string out;
    auto add = [&out](const std::string& line) { out += (out.empty() ? "" : "\n") + line; };
    const std::string dir = set.export_dir.string();
    if (!set.export_dir.is_absolute()) add("export_dir \"" + dir + "\": must be an absolute path");
    if (auto p = quotable_problem(dir); !p.empty()) add("export_dir: " + p);
    if (pseudo_prefix &&
        (pseudo_prefix->empty() || pseudo_prefix->front() != '/' || pseudo_prefix->back() == '/' ||
         !quotable_problem(*pseudo_prefix).empty()))
        add("pseudo_prefix \"" + std::string(*pseudo_prefix) +
            "\": must start with '/', not end with it");
    for (const auto& id : sorted_ids(set.release_ids))
        if (auto p = nfs_release_id_problem(id); !p.empty()) add("release id \"" + id + "\": " + p);
    return out;
}

std::string subnet_text(const Ipv4Net& n) {
    return pib::netbootd::ipv4_string(n.network) + "/" + std::to_string(n.prefix);
}

std::string release_path(const NfsExportSet& set, const std::string& id) {
    // lexically_normal drops a trailing '/' of the configured dir ("/srv/r/" + id).
    return (set.export_dir / id).lexically_normal().string();
}

}  // namespace

std::string nfs_release_id_problem(std::string_view id) {
    // The characters of release_id() (manifest.hpp: name and version are
    // [A-Za-z0-9._+~-]); all are plain in exports(5), ganesha strings and paths.
    bool ok = !id.empty() && id.size() <= 128 && id.front() != '.';
    for (char c : id)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::strchr("._+~-", c) != nullptr);
    return ok ? "" : "must be 1-128 of [A-Za-z0-9._+~-], not starting with '.'";
}

std::map<std::string, std::uint16_t> assign_ganesha_export_ids(
    const std::vector<std::string>& ids, const std::map<std::string, std::uint16_t>& previous) {
    constexpr std::uint32_t first = kGaneshaFirstExportId, span = 65536 - kGaneshaFirstExportId;
    const auto sorted = sorted_ids(ids);
    std::map<std::string, std::uint16_t> out;
    std::set<std::uint16_t> taken;
    // Pass 1: keep what clients already hold (a changed Export_Id makes their
    // file handles stale: ganesha puts the id in every handle).
    for (const auto& id : sorted) {
        auto it = previous.find(id);
        if (it != previous.end() && it->second >= first && taken.insert(it->second).second)
            out[id] = it->second;
    }
    // Pass 2: the rest from the hash, in sorted order, so the result depends only
    // on (ids, previous). More than `span` ids cannot be numbered; they are left
    // out and render refuses them.
    for (const auto& id : sorted) {
        if (out.count(id) || taken.size() >= span) continue;
        std::uint32_t slot = static_cast<std::uint32_t>(fnv1a(id) % span);
        while (taken.count(static_cast<std::uint16_t>(first + slot))) slot = (slot + 1) % span;
        out[id] = static_cast<std::uint16_t>(first + slot);
        taken.insert(out[id]);
    }
    return out;
}

std::map<std::string, std::uint32_t> assign_kernel_fsids(const std::vector<std::string>& ids) {
    constexpr std::uint32_t first = 1u << 28, span = (1u << 31) - first;
    std::map<std::string, std::uint32_t> out;
    std::set<std::uint32_t> taken;
    for (const auto& id : sorted_ids(ids)) {
        std::uint32_t slot = static_cast<std::uint32_t>(fnv1a(id) % span);
        while (taken.count(first + slot)) slot = (slot + 1) % span;
        out[id] = first + slot;
        taken.insert(first + slot);
    }
    return out;
}

Result<std::string> render_kernel_exports(const NfsExportSet& set,
                                          const KernelExportOptions& options) {
    if (auto p = set_problems(set, std::nullopt); !p.empty()) return fail(Errc::invalid, p);
    const auto fsids = assign_kernel_fsids(set.release_ids);
    std::string out =
        "# Written by netbootd: its releases, read-only, for the kernel NFS server.\n"
        "# Rewritten whenever releases come or go (then `exportfs -ra`); edits here are lost.\n";
    for (const auto& [id, fsid] : fsids) {
        // ro + root_squash: nothing a client sends changes a release or acts as root.
        // subtree_check: each release is a subdirectory of the store's filesystem,
        // and without the check a client that forges a file handle reaches any file
        // of that filesystem (exports(5)); its cost -- handles of renamed files go
        // stale -- does not arise, as published releases never change. sync only
        // silences exportfs (nothing is written); sec=sys as the initramfs has no
        // Kerberos; fsid: handles then name the export, not the store's device
        // (which can change, or lack a UUID, as tmpfs and overlayfs do).
        out += "\"" + release_path(set, id) + "\" " + subnet_text(set.subnet) +
               "(ro,root_squash,subtree_check,sync,sec=sys," +
               (options.insecure ? "insecure," : "") + "fsid=" + std::to_string(fsid) + ")\n";
    }
    return out;
}

Result<std::string> render_ganesha_exports(const NfsExportSet& set,
                                           const GaneshaExportOptions& options) {
    if (auto p = set_problems(set, options.pseudo_prefix); !p.empty())
        return fail(Errc::invalid, p);
    const auto ids = sorted_ids(set.release_ids);
    const auto export_ids = assign_ganesha_export_ids(ids, options.previous_ids);
    if (export_ids.size() != ids.size())
        return fail(Errc::invalid,
                    std::to_string(ids.size()) + " releases: more than ganesha can number");
    const std::string clients = subnet_text(set.subnet);
    std::string out =
        "# Written by netbootd: its releases, read-only over NFSv4, for NFS-Ganesha.\n"
        "# %include'd from ganesha.conf; rewritten whenever releases come or go (then\n"
        "# ganesha gets SIGHUP and re-reads its exports); edits here are lost.\n";
    auto line = [&out](int depth, const std::string& text) {
        out.append(4 * depth, ' ') += text + "\n";
    };
    for (const auto& id : ids) {
        line(0, "");
        line(0, "EXPORT {");
        line(1, "Export_Id = " + std::to_string(export_ids.at(id)) + ";");
        line(1, "Path = \"" + release_path(set, id) + "\";");
        line(1, "Pseudo = \"" + options.pseudo_prefix + "/" + id + "\";");
        // NFSv4 only: v3 would need rpcbind, mountd and NLM, and cannot use Pseudo paths.
        line(1, "Protocols = 4;");
        line(1, "Transports = TCP;");
        line(1, "SecType = sys;");
        // None here: an EXPORT-level access type applies to every client that no
        // CLIENT block names, so RO here would open the release to the world
        // (tests/netbootd/nfs_exports_test.cpp checks that an outsider is refused).
        line(1, "Access_Type = None;");
        line(1, "Squash = Root_Squash;");
        line(1, "CLIENT {");
        line(2, "Clients = " + clients + ";");
        // Repeated: a CLIENT block otherwise allows v3 too, and ganesha with
        // NFS_CORE_PARAM Protocols = 4 warns "not enabled ... fixing up".
        line(2, "Protocols = 4;");
        line(2, "Access_Type = RO;");
        line(2, "Squash = Root_Squash;");
        line(1, "}");
        line(1, "FSAL {");
        line(2, "Name = VFS;");
        line(1, "}");
        line(0, "}");
    }
    return out;
}

std::map<std::string, std::uint16_t> parse_ganesha_export_ids(std::string_view text,
                                                              std::string_view pseudo_prefix) {
    std::map<std::string, std::uint16_t> out;
    int current = -1;  // the Export_Id of the block being read
    const std::string pseudo_start = "Pseudo = \"" + std::string(pseudo_prefix) + "/";
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (line.starts_with("EXPORT {")) {
            current = -1;
        } else if (line.starts_with("Export_Id = ") && line.ends_with(";")) {
            auto num = line.substr(12, line.size() - 13);
            std::uint16_t v = 0;
            auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
            if (ec == std::errc() && end == num.data() + num.size()) current = v;
        } else if (current >= 0 && line.starts_with(pseudo_start) && line.ends_with("\";")) {
            std::string id(line.substr(pseudo_start.size(), line.size() - pseudo_start.size() - 2));
            if (nfs_release_id_problem(id).empty()) out[id] = static_cast<std::uint16_t>(current);
            current = -1;
        }
    }
    return out;
}

std::string nfs_mount_path(NfsServer server, const fs::path& export_dir, std::string_view id,
                           std::string_view pseudo_prefix) {
    if (server == NfsServer::ganesha) return std::string(pseudo_prefix) + "/" + std::string(id);
    return (export_dir / std::string(id)).lexically_normal().string();
}

fs::path default_exports_file(NfsServer server) {
    return server == NfsServer::kernel ? "/etc/exports.d/netbootd.exports"
                                       : "/etc/ganesha/netbootd-exports.conf";
}

std::vector<std::string> default_reload_command(NfsServer server) {
    if (server == NfsServer::kernel) return {"exportfs", "-ra"};
    return {"systemctl", "reload", "nfs-ganesha"};
}

NfsApplyOptions NfsApplyOptions::defaults(NfsServer server) {
    NfsApplyOptions o;
    o.server = server;
    o.exports_file = default_exports_file(server);
    o.reload_command = default_reload_command(server);
    return o;
}

Result<NfsApplyReport> apply_nfs_exports(const NfsExportSet& set, const NfsApplyOptions& options) {
    NfsApplyReport report;
    // Stage 1: which releases. An odd directory name is skipped, not fatal: one
    // stray entry in the store must not unpublish every other release.
    NfsExportSet usable{set.export_dir, {}, set.subnet};
    for (const auto& id : sorted_ids(set.release_ids)) {
        if (auto p = nfs_release_id_problem(id); !p.empty()) {
            report.warnings.push_back("nfs refused_id id=\"" + id + "\": " + p);
            continue;
        }
        std::error_code ec;
        if (!fs::is_regular_file(set.export_dir / id / "root.squashfs", ec))
            report.warnings.push_back("nfs missing_root id=" + id +
                                      ": no root.squashfs; exported anyway");
        usable.release_ids.push_back(id);
    }
    report.exported = usable.release_ids;

    // Stage 2: render, keeping the Export_Ids the current file hands out.
    auto old = pib::read_file(options.exports_file);
    const std::string old_text = old ? *old : std::string();
    auto text = [&]() -> Result<std::string> {
        if (options.server == NfsServer::kernel)
            return render_kernel_exports(usable, options.kernel);
        GaneshaExportOptions g = options.ganesha;
        for (const auto& [id, n] : parse_ganesha_export_ids(old_text, g.pseudo_prefix))
            g.previous_ids.emplace(id, n);
        return render_ganesha_exports(usable, g);
    }();
    if (!text) return text.error();

    // Stage 3: write only on change.
    if (old && *old == *text && !options.force) return report;
    std::error_code ec;
    fs::create_directories(options.exports_file.parent_path(), ec);
    if (ec)
        return fail(Errc::io,
                    "create " + options.exports_file.parent_path().string() + ": " + ec.message());
    PIB_TRY(pib::write_file_atomic(options.exports_file, *text, 0644));
    report.changed = true;

    // Stage 4: tell the server; a failure is reported, the file stays right.
    if (options.server == NfsServer::ganesha && options.ganesha_pid) {
        if (::kill(*options.ganesha_pid, SIGHUP) == 0)
            report.reloaded = true;
        else
            report.reload_error =
                pib::errno_message("kill -HUP " + std::to_string(*options.ganesha_pid));
        return report;
    }
    if (options.reload_command.empty()) return report;
    pib::Command cmd;
    cmd.argv = options.reload_command;
    auto r = pib::run_process(cmd);
    if (!r)
        report.reload_error = r.error().message;
    else if (r->exit_code != 0)
        report.reload_error = pib::shell_quote(cmd.argv) + " failed (exit " +
                              std::to_string(r->exit_code) + ", signal " +
                              std::to_string(r->signal) + "): " + r->tail;
    else
        report.reloaded = true;
    return report;
}

}  // namespace netbootd
