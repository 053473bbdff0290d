// `pibuild nodes render`: every node of the inventory -> its signed overlay
// in <store>/overlays/<node>/ (overlay.squashfs, overlay.json,
// overlay.json.sig). Stages, in order, per node:
//   load_or_create_secrets -> overlay_entries -> stage_tree -> write_squashfs
//   -> sign -> compare with what is there -> swap into place
// Each overlay is assembled in a hidden temporary directory beside the final
// one and exchanged with it atomically (renameat2 RENAME_EXCHANGE): readers see
// the old overlay or the new one, never a mix. docs/overlays.md.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/diag.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "inventory/inventory.hpp"
#include "overlays/overlay_manifest.hpp"

namespace pib::overlays {

struct RenderOptions {
    std::filesystem::path store;    ///< overlays go to <store>/overlays/<node>/
    std::filesystem::path secrets;  ///< per-node SSH host keys and machine-id
    /// Render only this node (and leave other overlays alone).
    std::optional<std::string> only_node;
};

enum class RenderOutcome { created, updated, unchanged, removed };
/// "created", "updated", "unchanged", "removed".
const char* outcome_name(RenderOutcome o);

/// What happened to one node's overlay.
struct NodeRender {
    std::string node;
    RenderOutcome outcome = RenderOutcome::unchanged;
    std::filesystem::path dir;
    OverlayManifest manifest;  ///< empty for `removed`
    bool secrets_created = false;
};

/// Checks every node (check_node) and, when all are fine, renders each one.
/// Problems with the inventory go to `diags` (Errc::invalid, nothing written);
/// anything else is an error naming the node. Runs under an exclusive lock on
/// <store>/overlays/.render.lock, and first removes what a killed render left
/// behind (hidden temporary directories). Without `only_node`, overlay
/// directories of nodes no longer in the inventory are removed (their secrets
/// are kept: rendering the node again gives it the same identity).
Result<std::vector<NodeRender>> render_overlays(const inventory::Inventory& inv,
                                                const SigningKey& key, const RenderOptions& opts,
                                                const Logger& log, Diagnostics& diags);

}  // namespace pib::overlays
