// Writing an overlay's entries as a directory tree on disk (numeric owners,
// exact modes) for the squashfs writer to pack. Needs root for the owners.
#pragma once

#include <filesystem>
#include <vector>

#include "common/result.hpp"
#include "overlays/overlay_files.hpp"

namespace pib::overlays {

/// Creates `root` (0755 root:root) and every entry below it. `entries` must
/// be sorted by path (overlay_entries' order: parents before children).
Status stage_tree(const std::filesystem::path& root, const std::vector<OverlayEntry>& entries);

}  // namespace pib::overlays
