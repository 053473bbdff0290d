// Pieces shared between the inputs_*.cpp files; not part of the library's interface.
#pragma once

#include <filesystem>

#include "builder/inputs.hpp"
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

/// Reads the first 512 bytes of `image` and classifies them
/// (Errc::not_found when missing, Errc::io when unreadable).
Result<ImageProbe> probe_image_file(const std::filesystem::path& image);

/// Whether import_image can take an image probed as `probe`: raw, or (unless
/// `nested`, i.e. already decompressed once) compressed. Otherwise
/// Errc::unsupported naming `shown` and what to do instead.
Status check_importable(const std::string& shown, const ImageProbe& probe, bool nested);

/// Decompresses `image` (xz, zstd or gzip) into the new file `out` with that
/// format's own tool; the tool's integrity check failing is an error.
Status decompress_image(const std::filesystem::path& image, ImageFormat format,
                        const std::filesystem::path& out, const Logger& log);

}  // namespace pib::inputs_detail
