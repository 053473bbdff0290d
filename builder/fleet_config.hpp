// Where the fleet commands find the store, state, inventory and public key:
// the command line, else netbootd's own config (/etc/netbootd/netbootd.yaml,
// or --config / $PIB_CONFIG, read by netbootd's parser), else the defaults
// below the store. docs/store.md, "Which store".
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "builder/fleet_cli.hpp"
#include "common/result.hpp"
#include "netbootd/config.hpp"

namespace pib::cli::fleet {

/// The config an installed netbootd reads; used when present and nothing else is named.
inline constexpr const char* kDefaultConfig = "/etc/netbootd/netbootd.yaml";

/// The config to use: --config, else $PIB_CONFIG, else kDefaultConfig when
/// it exists and no store was chosen (`store_given`: --store or $PIB_STORE
/// name another store than the configured one). A config that was named or
/// exists but does not parse is an error (Errc::invalid; its problems are
/// printed as file:line:col on stderr); nullopt when there is none.
Result<std::optional<netbootd::NetbootdConfig>> load_fleet_config(const std::string& config_flag,
                                                                  bool store_given);

/// Fills store, state_db, inventory (and inventory_named), pubkey and
/// config_used from the flags, the config and the defaults.
Status resolve_paths(FleetArgs& a);

}  // namespace pib::cli::fleet
