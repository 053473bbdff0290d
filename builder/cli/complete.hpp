// `pibuild __complete releases`: the words docs/completion/pibuild.bash
// offers where a release id goes. Hidden from --help and pibuild(1).
#pragma once

#include "builder/cli/app.hpp"

namespace pib::cli {

/// Prints the release ids of the store the fleet commands would use (same
/// --store and --config), one a line, sorted; nothing (and exit 0) when there
/// is no such store: a completion never complains.
int run_complete(const CompleteArgs& a);

}  // namespace pib::cli
