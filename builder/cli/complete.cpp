#include "builder/cli/complete.hpp"

#include <cstdio>

#include "builder/fleet_config.hpp"
#include "release/release_store.hpp"

namespace pib::cli {

int run_complete(const CompleteArgs& a) {
    // The store the fleet commands would use with the same --store and --config.
    FleetArgs fleet;
    fleet.store = a.store;
    fleet.config = a.config;
    if (!fleet::resolve_paths(fleet)) return 0;
    auto ids = list_releases(fleet.store);
    if (!ids) return 0;
    for (const auto& id : *ids) std::printf("%s\n", id.c_str());
    return 0;
}

}  // namespace pib::cli
