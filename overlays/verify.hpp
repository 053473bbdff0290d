// Checking a node overlay directory as a client would: the signature over the
// exact bytes of overlay.json, the node it names, each artifact's size and
// sha256, and no file the manifest does not list. The client initramfs does
// the same before it mounts anything.
#pragma once

#include <filesystem>
#include <string_view>

#include "crypto/ed25519.hpp"
#include "overlays/overlay_manifest.hpp"
#include "release/manifest.hpp"

namespace pib::overlays {

/// Returns the manifest when everything holds; otherwise Errc::verification
/// with every problem in `report`. The signature is checked first; when it
/// fails (or overlay.json does not parse) nothing else is reported, since
/// nothing in the manifest is trusted.
Result<OverlayManifest> verify_overlay(const std::filesystem::path& dir, const PublicKey& key,
                                       std::string_view expected_node, VerifyReport& report);

/// As above, the problems joined into the error message.
Result<OverlayManifest> verify_overlay(const std::filesystem::path& dir, const PublicKey& key,
                                       std::string_view expected_node);

}  // namespace pib::overlays
