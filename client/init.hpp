// The front ends of pib-init: the init itself (PID 1 in the initramfs) and
// the test modes that run one step each on a normal system.
#pragma once

#include <string>
#include <vector>

namespace pib::client {

/// Steps 1-7 (docs/boot.md). Never returns when it succeeds (execs the
/// root's init); on a refusal it tells the console and sleeps forever.
int run_init();

/// `pib-init --<mode> ...`; returns the exit code. Modes: --check-cmdline,
/// --test-dhcp, --verify-release, --fetch, --test-mount (docs/boot.md).
int run_test_mode(const std::vector<std::string>& args);

}  // namespace pib::client
