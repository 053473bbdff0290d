// What the fleet commands share (private to builder/fleet_*.cpp): exit codes,
// error reporting, opening the state, the key and the inventory, checking that
// a release is published, and the JSON forms of state values.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "builder/fleet_cli.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "inventory/inventory.hpp"
#include "release/manifest.hpp"
#include "store/fleet_json.hpp"
#include "store/fleet_state.hpp"

namespace pib::cli::fleet {

using nlohmann::json;
using store::rollout_json;

// Exit codes: 0 ok, 1 the operation failed, 2 bad input (arguments, unknown names).
constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

/// Prints "pibuild: error: ..." and returns the exit code for its kind:
/// invalid and not_found are bad input, the rest failures.
int report(const Error& e);

/// The user recorded in history: $SUDO_USER, $USER or the uid's name.
std::string who();

/// The state database (a.state_db) opened (created and migrated when needed).
Result<std::unique_ptr<store::FleetState>> open_state(const FleetArgs& a);

/// The public key a.pubkey (--pubkey, the config's public-key, <store>/fleet.pub).
Result<PublicKey> load_pubkey(const FleetArgs& a);

/// The id of the published release `text` names: the id itself, or a
/// prefix of exactly one (the short form tables print). Ambiguous: Errc::invalid
/// listing the candidates; none: Errc::not_found.
Result<std::string> resolve_release(const FleetArgs& a, const std::string& text);

/// Checks that `id` is published in the store, verifies with the key
/// (signature and every hash) and is named by its id, as netbootd checks
/// it. Errc::not_found naming `pibuild publish` when absent. Returns its
/// verified manifest.
Result<Manifest> check_published(const FleetArgs& a, const std::string& id);

/// The inventory a.inventory. nullopt when it was not named (by flag or
/// config) and does not exist, unless `required`. Parse errors are printed
/// with their file:line:col and returned as Errc::invalid.
Result<std::optional<inventory::Inventory>> load_inventory(const FleetArgs& a, bool required);

/// Prints JSON on stdout.
void print_json(const json& j);

/// A command's result object with "schema" (store/fleet_json.hpp).
json result_json(json fields);

/// "wave 2/4: 3 healthy, 1 updating, 0 failed, 0 timed out".
std::string progress_line(const store::Rollout& r);

// The commands (fleet_store_cmds.cpp, fleet_rollout_cmds.cpp, fleet_status_cmd.cpp).
int cmd_publish(const FleetArgs& a);
int cmd_channel_set(const FleetArgs& a);
int cmd_channel_list(const FleetArgs& a);
int cmd_node_pin(const FleetArgs& a);
int cmd_node_unpin(const FleetArgs& a);
int cmd_history(const FleetArgs& a);
int cmd_gc(const FleetArgs& a);
int cmd_rollout_start(const FleetArgs& a);
int cmd_rollout_status(const FleetArgs& a);
/// pause, resume or abort.
int cmd_rollout_control(const FleetArgs& a, const std::string& action);
int cmd_rollback(const FleetArgs& a);
int cmd_status(const FleetArgs& a);
// fleet_release_cmds.cpp, fleet_node_cmds.cpp
int cmd_release_list(const FleetArgs& a);
int cmd_node_list(const FleetArgs& a);
int cmd_node_show(const FleetArgs& a);

}  // namespace pib::cli::fleet
