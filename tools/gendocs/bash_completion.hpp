// docs/completion/pibuild.bash: bash completion for pibuild's verbs, options,
// option values (files, directories, choices) and release ids, from the same
// CLI11 App the program parses with. Release ids come from the program
// itself at completion time (`pibuild __complete releases`).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace pib::gendocs {

/// The completion script for `app` (pibuild's root App): `script_template`
/// (tools/gendocs/pibuild.bash.in) with its @SPEC@ line replaced by the
/// commands' specs. Throws std::runtime_error on a name the script could not
/// quote safely.
std::string bash_completion(const CLI::App& app, const std::string& script_template);

}  // namespace pib::gendocs
