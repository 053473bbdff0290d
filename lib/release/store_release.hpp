// Checking one release of a store as the server sees it: it verifies with the
// key, its directory is named by its content-derived id, and what would
// trouble a client is flagged. netbootd's catalog and `pibuild release list`
// both use this, so that they agree on which releases are good and why.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib {

/// The Pi bootloader's TFTP uses blocks of 1024..1468 bytes and some versions
/// cannot roll the 16-bit block counter over: files above this are flagged.
inline constexpr std::uint64_t kPiTftpSafeSize = 65535ull * 1024;

struct StoreReleaseCheck {
    std::optional<Manifest> manifest;   ///< set when it verified and the name matched
    std::vector<std::string> problems;  ///< why not, one line each
    std::vector<std::string> warnings;  ///< e.g. Pi boot files too large for old bootloaders
};

/// Verifies `<dir>` (signature, every artifact, no extra file) and that its
/// name `id` is the id its manifest gives.
StoreReleaseCheck check_store_release(const std::filesystem::path& dir, const std::string& id,
                                      const PublicKey& key);

}  // namespace pib
