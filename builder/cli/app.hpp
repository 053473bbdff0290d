// pibuild's command line, built in one place: main() parses with it, and the
// man page and bash completion generator (tools/gendocs) walks it, so that
// pibuild(1) and the completion list exactly the verbs and options the parser
// accepts.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "builder/fleet_cli.hpp"

namespace pib::cli {

/// The key pair `pibuild keygen` writes by default and `build` signs with:
/// one name everywhere (fleet.key / fleet.pub).
inline constexpr const char* kDefaultKeyName = "fleet";

/// `pibuild build` (and the short form `pibuild RECIPE`).
struct BuildArgs {
    std::string recipe;
    std::string out = "releases";
    std::string key = std::string(kDefaultKeyName) + ".key";
    std::string work = "/var/tmp/pibuild";
    std::string cache = "/var/cache/pibuild";
    std::optional<std::int64_t> epoch;
    unsigned jobs = 0;
    bool keep_work = false, json = false, verbose = false, check_only = false;
};

/// `pibuild nodes render|verify`.
struct NodesArgs {
    std::string inventory, store, key, pubkey;
    std::string secrets;
    std::optional<std::string> node;
    bool json = false, verbose = false;
};

/// `pibuild __complete WHAT` (hidden): words for the bash completion.
struct CompleteArgs {
    std::string what;    ///< "releases"
    std::string store;   ///< --store, as the fleet commands take it
    std::string config;  ///< --config, as the fleet commands take it
};

/// The App and everything its options write into; one per process.
struct PibuildCli {
    CLI::App app;
    BuildArgs build_args;
    std::string key_name = kDefaultKeyName;
    std::string verify_dir, pubkey;
    bool verify_json = false;
    std::string inspect_dir;
    bool inspect_json = false;
    NodesArgs nodes_args;
    CompleteArgs complete_args;
    bool version_json = false;

    CLI::App* build = nullptr;
    CLI::App* keygen = nullptr;
    CLI::App* verify = nullptr;
    CLI::App* inspect = nullptr;
    CLI::App* nodes_render = nullptr;
    CLI::App* nodes_verify = nullptr;
    CLI::App* version = nullptr;
    CLI::App* complete = nullptr;
    std::unique_ptr<FleetCommands> fleet;

    explicit PibuildCli(const std::string& version_text);
    PibuildCli(const PibuildCli&) = delete;
    PibuildCli& operator=(const PibuildCli&) = delete;

    /// argv as CLI11 takes it (reversed), with `pibuild RECIPE` made
    /// `pibuild build RECIPE`: a first word that is not a verb is a recipe.
    std::vector<std::string> normalise_args(int argc, char** argv) const;
};

}  // namespace pib::cli
