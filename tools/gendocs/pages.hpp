// The project's man pages: pibuild(1), netbootd(8), netbootd.yaml(5),
// pibuild-recipe(5), pibuild-nodes(5). The command sections come from the
// CLI11 Apps the programs parse with, the key sections from the key tables
// the parsers read with; the prose around them is written here.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <vector>

namespace pib::gendocs {

/// A generated file: its name below the output directory and its text.
struct OutputFile {
    std::string path;  ///< "man/pibuild.1"
    std::string text;
};

/// The Apps and files the pages are made of.
struct PageSources {
    const CLI::App* pibuild = nullptr;
    const CLI::App* netbootd = nullptr;
    std::filesystem::path source_dir;  ///< the examples are read from here
};

/// A file of the source tree (an example, a template); throws std::runtime_error when unreadable.
std::string read_source(const std::filesystem::path& file);

/// Every man page; fails (throws std::runtime_error) when an example file is missing.
std::vector<OutputFile> man_pages(const PageSources& s);

}  // namespace pib::gendocs
