// Filesystem helpers shared by every binary: whole-file reads, atomic writes,
// temporary directories next to a destination, durable renames.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib {

namespace fs = std::filesystem;

/// Streams a file through `sink` in chunks of up to `chunk` bytes.
Status read_chunks(const fs::path& path, std::size_t chunk,
                   const std::function<void(std::span<const std::uint8_t>)>& sink);

/// Reads a whole file into memory.
Result<std::string> read_file(const fs::path& path);

/// Writes `data` to `path` through a temporary file in the same directory,
/// fsyncs it and renames it into place: readers see the old or the new file.
Status write_file_atomic(const fs::path& path, std::string_view data, unsigned mode = 0644);

/// fsync()s a directory so that a rename inside it is durable.
Status fsync_dir(const fs::path& dir);

/// Creates a fresh directory `<parent>/.<stem>.tmp-XXXXXX` (mkdtemp).
Result<fs::path> make_temp_dir(const fs::path& parent, std::string_view stem);

/// Removes a tree without following symlinks; missing is not an error.
Status remove_tree(const fs::path& path);

/// Renames `from` to `to` (same filesystem) and fsyncs the parent of `to`.
/// Fails with Errc::exists when `to` exists, leaving both untouched.
Status rename_noreplace(const fs::path& from, const fs::path& to);

/// Text of errno as "what: strerror(errno)".
std::string errno_message(std::string_view what);

/// Joins `rel` (interpreted relative to `root`, leading '/' ignored) onto `root`,
/// refusing any result that would leave `root` lexically (`..`).
Result<fs::path> join_inside(const fs::path& root, std::string_view rel);

}  // namespace pib
