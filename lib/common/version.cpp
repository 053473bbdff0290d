#include "common/version.hpp"

// A build that did not go through cmake/PibVersion.cmake still compiles, and
// says so instead of inventing a version.
#ifndef PIB_VERSION
#define PIB_VERSION "unknown"
#endif
#ifndef PIB_GIT_COMMIT
#define PIB_GIT_COMMIT "unknown"
#endif

namespace pib {

std::string_view version() { return PIB_VERSION; }

std::string_view git_commit() { return PIB_GIT_COMMIT; }

std::string version_line(std::string_view program) {
    std::string line(program);
    line += ' ';
    line += version();
    line += " (git ";
    line += git_commit();
    line += ')';
    return line;
}

}  // namespace pib
