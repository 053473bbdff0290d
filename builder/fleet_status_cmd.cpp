// pibuild status: one row per node — channel, desired release, last booted
// release, health, last seen, wave — from the inventory and the fleet state.
#include <cstdio>
#include <ctime>
#include <set>

#include "builder/fleet_context.hpp"
#include "builder/fleet_table.hpp"

namespace pib::cli::fleet {

int cmd_status(const FleetArgs& a) {
    auto inv = load_inventory(a, /*required=*/!a.inventory.empty());
    if (!inv) return report(inv.error());
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto view = (*state)->view();
    if (!view) return report(view.error());
    auto reports = (*state)->last_reports();
    if (!reports) return report(reports.error());
    auto rollouts = (*state)->rollouts(0);
    if (!rollouts) return report(rollouts.error());
    // node -> progress in its active rollout
    std::map<std::string, std::string> progress;
    for (const auto& r : *rollouts)
        if (store::is_active(r.state))
            for (const auto& n : r.nodes) progress[n.node] = store::node_progress_name(n.progress);

    // Inventory nodes first (in file order), then nodes only the state knows.
    struct Row {
        std::string node, channel;
        std::optional<std::string> inventory_pin;
    };
    std::vector<Row> rows;
    std::set<std::string> listed;
    if (*inv)
        for (const auto& n : (*inv)->nodes) {
            rows.push_back({n.name, n.channel, n.release});
            listed.insert(n.name);
        }
    std::set<std::string> extra;
    for (const auto& p : view->pins) extra.insert(p.first);
    for (const auto& r : *reports) extra.insert(r.first);
    for (const auto& w : view->rollout_wave) extra.insert(w.first);
    for (const auto& n : extra)
        if (!listed.count(n)) rows.push_back({n, "", std::nullopt});

    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    json out = json::array();
    Table t({"node", "channel", "desired", "booted", "health", "last seen", "wave"});
    for (const auto& row : rows) {
        auto desired = store::desired_release(*view, row.node, row.channel, row.inventory_pin);
        auto rep = reports->find(row.node);
        const store::BootReport* last = rep == reports->end() ? nullptr : &rep->second;
        json j = {{"node", row.node},
                  {"channel", row.channel.empty() ? json(nullptr) : json(row.channel)},
                  {"desired", desired ? json(desired->release) : json(nullptr)},
                  {"desired_reason", desired ? json(desired->reason) : json(nullptr)},
                  {"booted", last ? json(last->release) : json(nullptr)},
                  {"healthy", last ? json(last->healthy) : json(nullptr)},
                  {"report_kind", last ? json(last->kind) : json(nullptr)},
                  {"last_seen", last ? json(last->at) : json(nullptr)},
                  {"rollout", nullptr}};
        std::string wave = "-";
        if (auto w = view->rollout_wave.find(row.node); w != view->rollout_wave.end()) {
            j["rollout"] = {{"id", w->second.first}, {"wave", w->second.second + 1},
                            {"progress", progress[row.node]}};
            wave = std::to_string(w->second.first) + "/" + std::to_string(w->second.second + 1) + " " +
                   progress[row.node];
        }
        out.push_back(j);
        std::string desired_text = desired ? short_release(desired->release) : "-";
        if (desired && desired->reason == "pinned") desired_text += " (pin)";
        std::string health = last ? (last->healthy ? "ok" : "FAILED") + std::string(" (") + last->kind + ")" : "-";
        t.add({row.node, row.channel.empty() ? "-" : row.channel, desired_text,
               last ? short_release(last->release) : "-", health, last ? relative_time(last->at, now) : "never",
               wave});
    }
    if (a.json) print_json(out);
    else t.print(stdout, "no nodes: give an inventory (--inventory nodes.yaml or <store>/nodes.yaml)");
    return kOk;
}

}  // namespace pib::cli::fleet
