// The build: a readable list of verb-named stages over one context
// (STYLE.md rule 9). Each stage is a function in its own file:
//
//   fetch_base       base tree into <work>/root (mmdebstrap, image, directory, tarball)
//   apply_steps      the recipe's steps, in order, chrooted into the root
//   sanitize_root    drop node-specific and time-dependent state (docs/recipe.md)
//   configure_boot   kernel, initramfs, dtbs, firmware, config.txt, cmdline.txt -> boot/
//   make_squashfs    <work>/root -> root.squashfs (libsquashfs, every core)
//   write_manifest   hash every artifact, write manifest.json, sign it
//   publish          rename the temporary release directory to <out>/<id>
//
// The release is assembled in a temporary directory next to its destination
// and appears with one rename, so a failed or killed build leaves no release.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "builder/recipe.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"
#include "squashfs/writer.hpp"

namespace pib {

struct BuildOptions {
    std::filesystem::path output_dir;    ///< releases appear as <output_dir>/<id>
    std::filesystem::path work_root;     ///< staging trees go in <work_root>/<unique>/
    std::filesystem::path cache_dir;     ///< downloads
    std::optional<std::int64_t> source_date_epoch;  ///< overrides the recipe (env SOURCE_DATE_EPOCH)
    unsigned workers = 0;                ///< compression threads; 0 = every core
    bool keep_work = false;              ///< keep the staging tree for inspection
};

/// Receives progress; every call comes from the building thread.
class BuildObserver {
public:
    virtual ~BuildObserver() = default;
    virtual void stage_started(const std::string& /*stage*/, int /*index*/, int /*count*/) {}
    virtual void stage_finished(const std::string& /*stage*/, std::chrono::milliseconds) {}
    virtual void squashfs_progress(const SquashfsProgress&) {}
    /// A line of output from a tool the build runs (mmdebstrap, apt, a run step).
    virtual void tool_output(const std::string& /*line*/) {}
};

struct StageTiming {
    std::string stage;
    std::chrono::milliseconds elapsed{0};
};

struct BuildResult {
    std::string release_id;
    std::filesystem::path release_dir;
    Manifest manifest;
    SquashfsStats squashfs;
    std::vector<StageTiming> stages;
    std::vector<std::string> warnings;
    bool already_present = false;   ///< an identical release was already there
};

/// Runs every stage. On failure nothing appears in output_dir.
Result<BuildResult> build_release(const Recipe& recipe, const SigningKey& key,
                                  const BuildOptions& opts, const Logger& log,
                                  BuildObserver* observer = nullptr);

/// Removes temporary release and work directories left by builds that were
/// killed (their owning process no longer exists). Returns how many were removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& dir, const Logger& log);

}  // namespace pib
