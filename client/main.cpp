// pib-init: /init of every release's initramfs (docs/boot.md). As PID 1 it
// boots; otherwise a --mode argument runs one step for tests.
#include <unistd.h>

#include <string>
#include <vector>

#include "client/init.hpp"

int main(int argc, char** argv) {
    // The kernel hands init the command-line words it does not know as
    // arguments; as PID 1 they mean nothing to us.
    if (::getpid() == 1) return pib::client::run_init();
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) args.push_back("--help");
    return pib::client::run_test_mode(args);
}
