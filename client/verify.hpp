// What pib-init trusts: a manifest whose exact bytes verify with the baked-in
// key, for this machine's architecture, and artifacts whose size and sha256
// match it. Nothing unverified is ever mounted (DESIGN.md "Keys").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib::client {

/// Debian's name for a kernel machine string (uname -m): x86_64 -> amd64,
/// aarch64 -> arm64, armv7l -> armhf, i686 -> i386; others unchanged.
std::string debian_arch(std::string_view machine);

/// Checks the signature over the exact bytes first (nothing in an unsigned
/// manifest is read), then parses strictly (Manifest::parse) and checks that
/// `arch` matches. Errc::verification with a one-line reason.
Result<Manifest> verify_manifest(std::string_view manifest_bytes, std::string_view signature,
                                 const PublicKey& key, std::string_view arch);

/// Release ids are content-derived (release_id: name-version-<sha256 prefix
/// of the manifest bytes>), so the id on the command line names exactly one
/// manifest: a server cannot hand out another validly signed release (an
/// older one, say) under it. Errc::verification when `asked` is not the id
/// of these bytes.
Status check_release_id(const Manifest& m, std::string_view manifest_bytes, std::string_view asked);

/// The artifact named `path`; Errc::not_found when the manifest lacks it.
Result<Artifact> find_artifact(const std::vector<Artifact>& artifacts, std::string_view path);

/// Compares what was received with what was signed. Errc::verification with
/// "<path> sha256 <got> != manifest <want>" (and the sizes when they differ).
Status check_artifact(const Artifact& want, std::string_view got_sha256, std::uint64_t got_size);

/// The console line for a verification failure:
/// "VERIFICATION FAILED: <reason>; refusing to boot".
std::string refusal_line(const Error& e);

}  // namespace pib::client
