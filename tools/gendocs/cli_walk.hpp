// What the man pages and the bash completion read from a CLI11 App: its
// visible commands, their options and positionals, each option's value kind.
// Both generators walk the same App the program parses with.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace pib::gendocs {

/// The subcommands --help shows (named, not in the hidden empty group).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app);
/// `app` and every visible command below it, depth first in definition order.
std::vector<const CLI::App*> all_commands(const CLI::App& app);
/// "pibuild channel set": the names from the root down.
std::string command_path(const CLI::App& app);

/// The options --help shows for `app`, positionals excluded; -h/--help and
/// --version left out unless `with_help`.
std::vector<const CLI::Option*> named_options(const CLI::App& app, bool with_help);
/// Positionals in order.
std::vector<const CLI::Option*> positionals(const CLI::App& app);

/// What an option's value is, for the page and for completion.
struct ValueKind {
    enum Kind { none, text, number, file, dir, choice } kind = none;
    std::vector<std::string> choices;  ///< kind == choice
    std::string name;                  ///< FILE, DIR, N, or the option's own name (KEY, WAVES)
};
ValueKind value_kind(const CLI::Option& opt);

/// "-o, --output" style names: every short then every long name, dashed.
std::vector<std::string> option_names(const CLI::Option& opt);

}  // namespace pib::gendocs
