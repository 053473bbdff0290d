// overlay.json as pib-init reads it: the signed description of a node's
// overlay ({"format_version":1,"node":...,"hostname":...,"artifacts":[...],
// "ssh_host_keys":{...}}, canonical JSON like manifest.json).
//
// Strict where it matters and tolerant where it must be: format_version must
// be 1, known keys must have their types, duplicate keys are refused, and the
// overlay.squashfs artifact must be present with a 64-hex digest; unknown keys
// are ignored. Overlays are rendered independently of releases, so an old
// initramfs meets newer overlay.json files; a new key that changes meaning
// must bump format_version, which this parser refuses.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib::client {

inline constexpr int kOverlayFormatVersion = 1;

struct OverlayDoc {
    int format_version = kOverlayFormatVersion;
    std::string node;
    std::string hostname;
    std::vector<Artifact> artifacts;
    std::map<std::string, std::string> ssh_host_keys;  ///< type -> fingerprint
    bool operator==(const OverlayDoc&) const = default;
};

/// Parses overlay.json; Errc::corrupted listing every problem.
Result<OverlayDoc> parse_overlay(std::string_view bytes);

/// Signature over the exact bytes first, then parse, then `node` must equal
/// the node asked for. Errc::verification with a one-line reason.
Result<OverlayDoc> verify_overlay(std::string_view bytes, std::string_view signature,
                                  const PublicKey& key, std::string_view node);

}  // namespace pib::client
