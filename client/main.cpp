// pib-init: /init of every release's initramfs (docs/boot.md). As PID 1 it
// boots; otherwise a --mode argument runs one step for tests.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "client/init.hpp"
#include "common/version.hpp"

int main(int argc, char** argv) {
    // The kernel hands init the command-line words it does not know as
    // arguments; as PID 1 they mean nothing to us.
    if (::getpid() == 1) return pib::client::run_init();
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) args.push_back("--help");
    if (args[0] == "--version") return std::puts(pib::version_line("pib-init").c_str()) < 0;
    return pib::client::run_test_mode(args);
}
