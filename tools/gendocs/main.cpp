// pib-gendocs SOURCE_DIR OUTPUT_DIR: writes the man pages (OUTPUT_DIR/man/)
// and the bash completion (OUTPUT_DIR/completion/pibuild.bash) from the
// programs' own CLI11 Apps and key tables. The checked-in copies are
// docs/man/ and docs/completion/; tests/docs/man_pages_test.cpp runs this
// into a temporary directory and fails when they differ.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>

#include "builder/cli/app.hpp"
#include "common/version.hpp"
#include "netbootd/cli.hpp"
#include "tools/gendocs/bash_completion.hpp"
#include "tools/gendocs/pages.hpp"

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: pib-gendocs SOURCE_DIR OUTPUT_DIR (e.g. . docs)\n");
        return 2;
    }
    const std::filesystem::path source = argv[1], output = argv[2];
    try {
        // The Apps exactly as the programs build them.
        pib::cli::PibuildCli pibuild(pib::version_line("pibuild"));
        netbootd::CliArgs netbootd_args;
        auto netbootd = netbootd::make_cli(netbootd_args, pib::version_line("netbootd"));

        auto files = pib::gendocs::man_pages({&pibuild.app, netbootd.get(), source});
        files.push_back({"completion/pibuild.bash",
                         pib::gendocs::bash_completion(
                             pibuild.app,
                             pib::gendocs::read_source(source / "tools/gendocs/pibuild.bash.in"))});
        for (const auto& f : files) {
            const auto path = output / f.path;
            std::filesystem::create_directories(path.parent_path());
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out << f.text;
            if (!out.flush()) {
                std::fprintf(stderr, "pib-gendocs: cannot write %s\n", path.c_str());
                return 1;
            }
            std::printf("%s\n", path.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pib-gendocs: %s\n", e.what());
        return 1;
    }
    return 0;
}
