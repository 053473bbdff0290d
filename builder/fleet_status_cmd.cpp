// pibuild status: one row per node — channel, desired release, last booted
// release, health, last seen, wave — from the inventory and the fleet state.
// --json prints the node objects of `pibuild node list --json` and the API.
#include <cstdio>
#include <ctime>

#include "builder/fleet_node_view.hpp"
#include "builder/fleet_table.hpp"

namespace pib::cli::fleet {

namespace {

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : "-"; }

}  // namespace

int cmd_status(const FleetArgs& a) {
    auto nodes = collect_nodes(a);
    if (!nodes) return report(nodes.error());
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    json out = json::array();
    Table t({"node", "channel", "desired", "booted", "health", "last seen", "wave"});
    for (const auto& row : nodes->rows) {
        const json& j = row.j;
        out.push_back(j);
        std::string desired = j["desired_release"].is_string() ? short_release(j["desired_release"].get<std::string>()) : "-";
        if (j["reason"] == "pinned") desired += " (pin)";
        const json& last = j["last_report"];
        std::string health = "-", booted = "-", seen = "never";
        if (last.is_object()) {
            health = (last["healthy"].get<bool>() ? "ok" : "FAILED") + std::string(" (") +
                     last["kind"].get<std::string>() + ")";
            booted = short_release(last["release"].get<std::string>());
            seen = relative_time(last["at"].get<std::int64_t>(), now);
        }
        std::string wave = "-";
        if (const json& r = j["rollout"]; r.is_object())
            wave = std::to_string(r["id"].get<std::int64_t>()) + "/" + std::to_string(r["wave"].get<int>()) + " " +
                   text_of(r["progress"]);
        t.add({j["name"].get<std::string>(), text_of(j["channel"]), desired, booted, health, seen, wave});
    }
    if (a.json) print_json(out);
    else t.print(stdout, "no nodes: give an inventory (--inventory nodes.yaml, the config's inventory, or <store>/nodes.yaml)");
    return kOk;
}

}  // namespace pib::cli::fleet
