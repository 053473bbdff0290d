// The boot timeline pib-init keeps: per-phase durations, written to
// /run/pib/boot.json in the new root and POSTed to netbootd's
// /api/v1/nodes/<node>/report (docs/netbootd.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pib::client {

/// Phase names in boot order: modules, dhcp, manifest, root_fetch, overlay, mount.
struct BootTimeline {
    std::vector<std::pair<std::string, std::int64_t>> phases;  ///< name -> ms
    std::string root = "http";  ///< how the root image was read: "http" or "nfs"
    void add(std::string name, std::int64_t ms) { phases.emplace_back(std::move(name), ms); }
};

/// /run/pib/boot.json: {"node", "release", "root", "phases": {...}, "total_ms"}; canonical (sorted keys,
/// 2-space indent, newline).
std::string boot_json(const std::string& node, const std::string& release, const BootTimeline& t);

/// The report body: {"release": ID, "kind": "boot", "healthy": true, "root": "http"|"nfs",
/// "phases": {...}}.
std::string report_json(const std::string& release, const BootTimeline& t);

}  // namespace pib::client
