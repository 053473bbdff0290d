// The parts of a man page that come from a CLI11 App: the synopsis of each
// command and its options as .TP entries.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "tools/gendocs/roff.hpp"

namespace pib::gendocs {

/// `\fBpibuild verify\fR \fB\-p\fR \fIFILE\fR [\fIoptions\fR] \fIDIR\fR`:
/// required options, then [options] when there are optional ones, then the
/// positionals ([NAME] when optional), then COMMAND when it has subcommands.
std::string synopsis_roff(const CLI::App& cmd);

/// One `.TP` per option of `cmd` (help and version only with `with_help`):
/// its names and value, then its help, default, choices and exclusions.
void write_options(ManPage& page, const CLI::App& cmd, bool with_help);

/// One `.SS` per command below `app`, depth first: synopsis, description,
/// positionals, options, footer.
void write_commands(ManPage& page, const CLI::App& app);

/// The App's description without the leading "NAME: " (for the NAME line).
std::string summary(const CLI::App& app);

}  // namespace pib::gendocs
