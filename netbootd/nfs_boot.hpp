// The kernel command line words that make a node boot its root over NFS
// (inventory `root: nfs`): `pib.root=nfs pib.nfs=<server>:<export path>`, the
// export path being the one nfs_exports.cpp writes for this release, so what
// pib-init mounts is what the NFS server exports (docs/nfs.md).
#pragma once

#include <string>

#include "common/log.hpp"
#include "inventory/inventory.hpp"
#include "netbootd/config.hpp"

namespace netbootd {

/// The words for `node` booting `release_id` from `server_address`, or "" when
/// the node boots over HTTP. A node that asks for NFS while the config has NFS
/// publishing off boots over HTTP instead: "" and a warning event in `log`.
std::string nfs_root_args(const pib::netbootd::NetbootdConfig& config,
                          const pib::inventory::Node& node, const std::string& release_id,
                          pib::netbootd::Ipv4 server_address, const pib::Logger& log);

}  // namespace netbootd
