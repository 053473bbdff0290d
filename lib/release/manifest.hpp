// manifest.json: what a release is. Its exact bytes are signed
// (manifest.json.sig), so serialisation is canonical: sorted keys, two-space
// indent, trailing newline, no floats, no timestamps other than source_date_epoch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"
#include "crypto/ed25519.hpp"

namespace pib {

inline constexpr int kManifestFormatVersion = 1;

/// One file of the release, relative to the release directory ("root.squashfs", "boot/vmlinuz").
struct Artifact {
    std::string path;
    std::string sha256;
    std::uint64_t size = 0;
    bool operator==(const Artifact&) const = default;
};

/// One build input: what it is and how to recognise it again.
struct BuildInput {
    std::string kind;     ///< "recipe", "debian", "image", "tarball", "directory", "file", "firmware", "package-list"
    std::string ref;      ///< path, URL, suite+mirror, ...
    std::string sha256;   ///< digest of the input's bytes where there are any, else ""
    bool operator==(const BuildInput&) const = default;
};

/// The dm-verity hash tree of the root image (format version 1 as veritysetup
/// writes it with --no-superblock): what a client needs to build the
/// kernel's "verity" table. Every field is signed with the manifest.
struct VerityInfo {
    std::string data_path = "root.squashfs";  ///< the artifact the tree covers
    std::string hash_path = "root.verity";    ///< the artifact holding the tree
    std::string algorithm = "sha256";
    std::int64_t version = 1;                 ///< dm-verity hash format (1: hash(salt || block))
    std::int64_t data_block_size = 4096;
    std::int64_t hash_block_size = 4096;
    std::uint64_t data_blocks = 0;            ///< data_path's size / data_block_size
    std::uint64_t hash_offset = 0;            ///< bytes into hash_path where the tree starts
    std::string salt;                         ///< hex
    std::string root_hash;                    ///< hex
    bool operator==(const VerityInfo&) const = default;
};

struct Manifest {
    int format_version = kManifestFormatVersion;
    std::string name;
    std::string version;
    std::string arch;
    std::string board;
    std::string description;
    std::string tool_version;
    std::string recipe_sha256;
    std::int64_t source_date_epoch = 0;
    std::vector<BuildInput> inputs;       ///< in recipe order
    std::vector<Artifact> artifacts;      ///< sorted by path (serialisation sorts)
    /// Boot facts: {"kernel": "boot/vmlinuz", "initramfs": ..., "dtbs": [...], "cmdline": "..."}.
    nlohmann::json boot = nlohmann::json::object();
    /// Squashfs facts: {"compression": "zstd", "level": 15, "block_size": 131072, "inodes": N, ...}.
    nlohmann::json root = nlohmann::json::object();
    /// The root image's dm-verity tree; absent in releases built before it existed.
    std::optional<VerityInfo> verity;

    /// The canonical bytes that are signed.
    std::string to_json() const;
    /// Parses and checks manifest bytes: known format_version, required fields,
    /// artifact paths relative and inside the release, digests 64 hex digits.
    /// Strict: unknown keys, duplicate keys, wrong types, floats and artifacts
    /// out of path order are refused. Every problem is listed (Errc::corrupted),
    /// each naming its field ("artifacts[1].path: ...").
    static Result<Manifest> parse(std::string_view bytes);
    /// The checks parse() makes beyond JSON types, on a manifest in memory:
    /// what write_signed_manifest() refuses to sign. name and version must be
    /// non-empty and use only [A-Za-z0-9._+~-] (not starting with '.'),
    /// because release_id() makes them a directory name.
    Status validate() const;

    bool operator==(const Manifest&) const = default;
};

/// The content-derived release id: `<name>-<version>-<first 12 hex of sha256(manifest bytes)>`.
std::string release_id(const Manifest& m, std::string_view manifest_bytes);

/// What `verify_release` found wrong, one readable line per problem.
struct VerifyReport {
    std::vector<std::string> problems;
    bool ok() const { return problems.empty(); }
};

/// Hashes every file under `dir` (recursively, sorted) except manifest.json and
/// manifest.json.sig, returning artifacts relative to `dir`. A symlink or
/// special file anywhere below `dir` is an error (Errc::unsupported): a release
/// holds regular files and directories only.
Result<std::vector<Artifact>> hash_artifacts(const std::filesystem::path& dir);

/// Writes manifest.json and manifest.json.sig into `dir` (atomically each).
Status write_signed_manifest(const std::filesystem::path& dir, const Manifest& m,
                             const SigningKey& key);

/// Checks a release directory: the signature over the exact manifest bytes,
/// each artifact's size and sha256, and that no file is present that the
/// manifest does not list. Returns the manifest when everything holds;
/// otherwise Errc::verification with every problem listed in `report`.
/// The signature is checked first; when it fails (or manifest.json does not
/// parse) nothing else is reported, since nothing in the manifest is trusted.
Result<Manifest> verify_release(const std::filesystem::path& dir, const PublicKey& key,
                                VerifyReport& report);

}  // namespace pib
