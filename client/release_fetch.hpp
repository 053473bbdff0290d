// Steps 3 and 4 of pib-init: fetch and verify the release (manifest.json,
// its signature, root.squashfs) and the node overlay (overlay.json, its
// signature, overlay.squashfs) into a directory on tmpfs. Only I/O through
// the injected Connector; nothing is mounted here. A file that fails its
// check is deleted before the error is returned.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "client/boot_report.hpp"
#include "client/fetch.hpp"
#include "client/overlay_doc.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib::client {

struct FetchPlan {
    std::string server;         ///< "http://10.0.0.1:8080", no trailing '/'
    std::string release;        ///< release id
    std::string node;           ///< "" = no overlay
    std::string arch;           ///< Debian arch of this machine
    std::filesystem::path dir;  ///< where root.squashfs and overlay.squashfs go
};

struct FetchedRelease {
    Manifest manifest;
    std::filesystem::path root;  ///< verified root.squashfs
    std::optional<OverlayDoc> overlay;
    std::filesystem::path overlay_image;  ///< verified overlay.squashfs when overlay is set
};

/// Fetches and verifies everything. Errc::verification (reason in the
/// message, see refusal_line) when a signature, the arch, the node or a
/// digest does not match; other errors when the server cannot be used.
/// Adds the phases manifest, root_fetch and overlay to `timeline`.
Result<FetchedRelease> fetch_release(Connector& net, const FetchPlan& plan, const PublicKey& key,
                                     const RetryPolicy& retry, const FetchEnv& env,
                                     BootTimeline& timeline,
                                     const std::function<std::int64_t()>& now_ms);

/// Only the node overlay (the last step of fetch_release), into `out`'s
/// overlay fields; nothing when plan.node is "". The NFS root uses it: its
/// release comes from the export, its overlay over HTTP.
Status fetch_overlay(Connector& net, const FetchPlan& plan, const PublicKey& key,
                     const RetryPolicy& retry, const FetchEnv& env, BootTimeline& timeline,
                     const std::function<std::int64_t()>& now_ms, FetchedRelease& out);

}  // namespace pib::client
