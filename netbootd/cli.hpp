// netbootd's command line, built in one place for main() and for the man page
// and docs generator (tools/gendocs), so that netbootd(8) lists exactly the
// options the parser accepts.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

namespace netbootd {

/// What the command line sets.
struct CliArgs {
    std::string config;        ///< --config FILE: serve
    std::string check_config;  ///< --check-config FILE: validate and exit
    bool keep_privileges = false;
};

/// The CLI11 App bound to `args`; `version_text` is what --version prints.
std::unique_ptr<CLI::App> make_cli(CliArgs& args, const std::string& version_text);

}  // namespace netbootd
