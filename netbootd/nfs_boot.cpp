#include "netbootd/nfs_boot.hpp"

#include "netbootd/nfs_exports.hpp"

namespace netbootd {

std::string nfs_root_args(const pib::netbootd::NetbootdConfig& config,
                          const pib::inventory::Node& node, const std::string& release_id,
                          pib::netbootd::Ipv4 server_address, const pib::Logger& log) {
    if (node.root != pib::inventory::RootTransport::nfs) return "";
    if (!config.nfs.enabled) {
        log.event(pib::Level::warn, "boot", "nfs_root_unavailable")
            .kv("node", node.name)
            .kv("why", "nfs.enabled is off in the netbootd config; booting over http");
        return "";
    }
    // Release ids nfs_exports refuses to export never appear in the export
    // file; say so rather than send the node to a path that does not exist.
    if (auto why = nfs_release_id_problem(release_id); !why.empty()) {
        log.event(pib::Level::warn, "boot", "nfs_root_unavailable")
            .kv("node", node.name)
            .kv("release", release_id)
            .kv("why", "release id " + why + "; booting over http");
        return "";
    }
    return "pib.root=nfs pib.nfs=" + pib::netbootd::ipv4_string(server_address) + ":" +
           nfs_mount_path(config.nfs.server, config.nfs.export_dir, release_id);
}

}  // namespace netbootd
