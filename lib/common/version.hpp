// What `--version` prints, the same for every program of the project:
// `NAME VERSION (git COMMIT)`. The version and commit come from
// cmake/PibVersion.cmake, as definitions on version.cpp alone.
#pragma once

#include <string>
#include <string_view>

namespace pib {

/// The project version, e.g. "0.1.0".
std::string_view version();
/// The git commit the program was built from (abbreviated), or "unknown".
std::string_view git_commit();
/// `NAME VERSION (git COMMIT)`, without a newline.
std::string version_line(std::string_view program);

}  // namespace pib
