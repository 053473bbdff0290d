// The releases directory of a store (<store>/releases/<id>): publishing a
// verified release atomically, listing, and removing for gc. A release
// appears complete or not at all: it is copied into
// releases/.incoming-<id>-<pid>, fsynced, verified again and renamed into
// place; gc renames to releases/.gc-<id>-<pid> before removing. Leftovers of
// a crash (whose pid no longer runs) are removed by the next publish or gc.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib {

struct PublishResult {
    std::string id;
    std::filesystem::path dir;     ///< <store>/releases/<id>
    bool already_present = false;  ///< the same release (byte for byte) was there already
    Manifest manifest;
};

/// Verifies the release in `src` (signature, every hash, no extra file) and
/// copies it into `<store>/releases/<id>`. Refused with Errc::verification
/// (problems in `report`) when it does not verify, and with Errc::exists when
/// a different release is already published under the same id.
Result<PublishResult> publish_release(const std::filesystem::path& src, const std::filesystem::path& store,
                                      const PublicKey& key, VerifyReport& report);

/// The ids of the releases in `<store>/releases`, sorted (dot-names skipped).
Result<std::vector<std::string>> list_releases(const std::filesystem::path& store);

/// Removes `<store>/releases/<id>`: renamed aside first, so that nobody sees
/// half a release, then deleted.
Status remove_release(const std::filesystem::path& store, const std::string& id);

/// Removes .incoming-* and .gc-* leftovers in `<store>/releases` whose
/// process is gone; returns their names.
Result<std::vector<std::string>> clean_release_leftovers(const std::filesystem::path& store);

}  // namespace pib
