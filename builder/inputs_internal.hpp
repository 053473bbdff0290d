// Pieces shared between the inputs_*.cpp files; not part of the library's interface.
#pragma once

#include <filesystem>

#include "common/log.hpp"
#include "common/result.hpp"

namespace pib::inputs_detail {

/// How a tar archive's metadata is applied.
enum class Metadata {
    keep,       ///< numeric owners, modes, xattrs and ACLs as archived (a root tree)
    normalise,  ///< root:root, files 0644, directories 0755 (a FAT partition has no owners)
};

/// Lists the archive, refuses unsafe member names, then extracts it into `root`
/// (created if missing).
Status extract_archive(const std::filesystem::path& tarball, const std::filesystem::path& root,
                       Metadata metadata, const Logger& log);

}  // namespace pib::inputs_detail
