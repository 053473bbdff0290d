// overlay.json: what a node's overlay is. Its exact bytes are signed
// (overlay.json.sig, raw Ed25519, the release key), so serialisation is
// canonical like manifest.json: sorted keys, two-space indent, trailing newline.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "release/manifest.hpp"

namespace pib::overlays {

inline constexpr int kOverlayFormatVersion = 1;
inline constexpr const char* kOverlayImage = "overlay.squashfs";
inline constexpr const char* kOverlayManifest = "overlay.json";
inline constexpr const char* kOverlaySignature = "overlay.json.sig";

struct OverlayManifest {
    int format_version = kOverlayFormatVersion;
    std::string node;
    std::string hostname;
    std::vector<Artifact> artifacts;  ///< sorted by path; v1: overlay.squashfs
    /// Key type ("ed25519", "rsa") -> "SHA256:..." as `ssh-keygen -l` prints it.
    std::map<std::string, std::string> ssh_host_keys;

    /// The canonical bytes that are signed.
    std::string to_json() const;
    /// Strict: every key present with its type, no unknown or duplicate keys,
    /// artifacts plain file names in path order with 64-hex digests.
    /// Every problem is listed (Errc::corrupted).
    static Result<OverlayManifest> parse(std::string_view bytes);

    bool operator==(const OverlayManifest&) const = default;
};

}  // namespace pib::overlays
