// pibuild release list: every release in the store, whether it verifies (and
// why not) as netbootd's catalog decides, and what refers to it — channels,
// rollback targets, pins, active rollouts, inventory pins (what gc keeps).
#include <cstdio>

#include "builder/cli/progress.hpp"
#include "builder/fleet_context.hpp"
#include "builder/fleet_table.hpp"
#include "release/release_store.hpp"
#include "release/store_release.hpp"
#include "store/fleet_query.hpp"

namespace pib::cli::fleet {

namespace fs = std::filesystem;

namespace {

std::string uses_text(const store::ReleaseUse& u) {
    std::string s;
    auto add = [&](const std::string& what, const std::vector<std::string>& names) {
        for (const auto& n : names) s += (s.empty() ? "" : ", ") + what + n;
    };
    add("channel ", u.channels);
    add("previous of ", u.previous_of);
    add("pin ", u.pins);
    add("inventory pin ", u.inventory_pins);
    for (auto id : u.rollouts)
        s += (s.empty() ? "" : ", ") + std::string("rollout ") + std::to_string(id);
    return s.empty() ? "-" : s;
}

}  // namespace

int cmd_release_list(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto ids = list_releases(a.store);
    if (!ids) return report(ids.error());
    auto uses = store::release_uses(**state);
    if (!uses) return report(uses.error());
    auto inv = load_inventory(a, /*required=*/false);
    if (!inv) return report(inv.error());
    if (*inv)
        for (const auto& n : (*inv)->nodes)
            if (n.release) (*uses)[*n.release].inventory_pins.push_back(n.name);
    auto key = load_pubkey(a);
    json out = json::array();
    Table t({"release", "name", "version", "arch", "verified", "size", "used by"});
    for (const auto& id : *ids) {
        store::ReleaseFacts r{.id = id};
        r.used_by = (*uses)[id];
        if (!key) {
            r.problems = {"not checked: " + key.error().message};
        } else {
            auto c = check_store_release(fs::path(a.store) / "releases" / id, id, *key);
            r.problems = std::move(c.problems);
            r.warnings = std::move(c.warnings);
            if (c.manifest) {
                const Manifest& m = *c.manifest;
                std::uint64_t bytes = 0;
                for (const auto& art : m.artifacts) bytes += art.size;
                r.verified = true;
                r.name = m.name;
                r.version = m.version;
                r.arch = m.arch;
                r.board = m.board;
                r.bytes = bytes;
                r.artifacts = m.artifacts.size();
            }
        }
        out.push_back(store::release_json(r));
        std::string verified =
            r.verified ? (r.warnings.empty() ? "yes" : "yes, " + r.warnings.front())
                       : "NO: " + (r.problems.empty() ? std::string("?") : r.problems.front());
        t.add({short_release(id), r.name.value_or("-"), r.version.value_or("-"),
               r.arch.value_or("-"), verified,
               r.bytes ? human_bytes(static_cast<double>(*r.bytes)) : "-", uses_text(r.used_by)});
    }
    if (a.json)
        print_json(out);
    else
        t.print(stdout, "no releases in the store (pibuild publish DIR)");
    return kOk;
}

}  // namespace pib::cli::fleet
