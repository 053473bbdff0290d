// The releases netbootd may serve: <store>/releases/<id>/, each verified
// against the configured public key (signature, every artifact's size and
// sha256, no unlisted file) before it is offered to anyone. Releases are
// immutable, so a release is verified once per process and kept; a rescan
// (SIGHUP, a change in the releases directory) only verifies new ids.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "netbootd/file_resolver.hpp"
#include "release/manifest.hpp"
#include "release/store_release.hpp"

namespace netbootd {

/// Pi boot files above this are flagged (release/store_release.hpp).
inline constexpr std::uint64_t kPiTftpSafeSize = pib::kPiTftpSafeSize;

/// One verified release.
struct Release {
    std::string id;
    std::filesystem::path dir;
    pib::Manifest manifest;
    std::map<std::string, pib::Artifact> artifacts;  ///< by path ("boot/vmlinuz")
    /// Files of boot/ (shared descriptors for TFTP storms); null without boot/.
    std::shared_ptr<DirectoryResolver> boot;
    /// The release directory itself (O_PATH), for HTTP.
    std::shared_ptr<DirectoryResolver> files;
    std::vector<std::string> warnings;  ///< e.g. Pi boot files too large for old bootloaders

    bool is_pi() const { return manifest.board == "rpi4" || manifest.board == "rpi5"; }
    const pib::Artifact* artifact(const std::string& path) const;
};

/// Releases that failed verification, with why, for the API and logs.
struct RejectedRelease {
    std::string id;
    std::vector<std::string> problems;
};

/// An immutable view of the releases directory at one moment.
class Catalog {
public:
    const Release* find(const std::string& id) const;
    const std::map<std::string, std::shared_ptr<const Release>>& releases() const { return releases_; }
    const std::vector<RejectedRelease>& rejected() const { return rejected_; }

private:
    friend class CatalogLoader;
    std::map<std::string, std::shared_ptr<const Release>> releases_;
    std::vector<RejectedRelease> rejected_;
};

/// Builds Catalogs, remembering what it verified so rescans are cheap.
class CatalogLoader {
public:
    CatalogLoader(std::filesystem::path releases_dir, pib::PublicKey key, const pib::Logger& log)
        : dir_(std::move(releases_dir)), key_(std::move(key)), log_(log) {}

    /// Scans the directory. A missing directory is an empty catalog; entries
    /// that are not directories or look like in-progress copies (".tmp", names
    /// starting with '.') are skipped. Errc::io only when the directory cannot be read.
    pib::Result<std::shared_ptr<const Catalog>> scan();

private:
    struct Known {
        std::uint64_t dev = 0, ino = 0;  ///< of manifest.json: a replaced release is re-verified
        std::int64_t mtime_ns = 0;
        std::shared_ptr<const Release> release;  ///< null when rejected
        std::vector<std::string> problems;
    };
    Known verify_one(const std::string& id, const struct stat& st);

    std::filesystem::path dir_;
    pib::PublicKey key_;
    const pib::Logger& log_;
    std::map<std::string, Known> known_;
};

}  // namespace netbootd
