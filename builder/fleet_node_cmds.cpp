// pibuild node list and node show: every node of the inventory and the
// state, and one node's every field with where its value came from (the
// inventory's file:line:col, its defaults, a state pin, a channel, a rollout,
// a built-in default), as `wwctl node list -a` shows a Warewulf node.
#include <cstdio>
#include <ctime>

#include "builder/fleet_node_view.hpp"
#include "builder/fleet_table.hpp"

namespace pib::cli::fleet {

namespace {

std::string text_of(const json& v) {
    if (v.is_null()) return "-";
    return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string join(const json& list, const char* sep = ", ") {
    std::string s;
    for (const auto& v : list) s += (s.empty() ? "" : sep) + text_of(v);
    return s.empty() ? "-" : s;
}

// "nodes.yaml:12:5", or "defaults at nodes.yaml:3:3".
std::string place(const inventory::Inventory& inv, const inventory::Node& n, const char* key) {
    auto o = n.origins.find(key);
    if (o == n.origins.end()) return "";
    std::string at = inv.file.string() + ":" + std::to_string(o->second.pos.line) + ":" +
                     std::to_string(o->second.pos.col);
    return o->second.from_defaults ? "inventory defaults at " + at : "inventory " + at;
}

std::string when(std::int64_t at) { return utc_time(at) + " UTC"; }

// Where each shown value came from, by JSON field (and two inventory-only keys).
json origins(const FleetNodes& f, const NodeRow& row, const FleetArgs& a) {
    const json& j = row.j;
    json o = json::object();
    const inventory::Node* n = row.node;
    if (!n) {
        o["name"] =
            "fleet state only (not in the inventory" +
            (a.fallback_release ? "; netbootd serves unknown clients tftp.root-fallback " +
                                      *a.fallback_release + " from " + a.config_used
                                : std::string("; netbootd refuses it as an unknown client")) +
            ")";
    } else {
        const auto& inv = *f.inventory;
        auto from = [&](const char* key, const std::string& otherwise) {
            std::string p = place(inv, *n, key);
            return p.empty() ? otherwise : p;
        };
        o["name"] =
            from("name", "inventory " + inv.file.string() + ":" + std::to_string(n->pos.line));
        o["hostname"] = from("hostname", "built-in default: the node's name");
        o["serial"] = from("serial", "not given");
        o["macs"] = from("mac", "not given");
        o["labels"] = from("labels", "not given");
        if (n->release) {
            o["channel"] = "none: the inventory pins the node";
            o["pinned"] = from("release", "inventory");
        } else {
            o["channel"] = from("channel", "built-in default (stable)");
            o["pinned"] = "not pinned in the inventory";
        }
        o["root"] = from("root", "built-in default (http)");
        o["kernel_args"] = from("kernel-args", "not given");
    }
    if (const json& pin = j["pin"]; pin.is_object())
        o["pin"] = "fleet state: pibuild node pin by " + text_of(pin["by"]) + " at " +
                   when(pin["at"].get<std::int64_t>());
    else
        o["pin"] = "not pinned in the fleet state";
    const std::string reason = text_of(j["reason"]);
    if (j["desired_release"].is_null()) {
        o["desired_release"] = j["channel"].is_string()
                                   ? "none: channel " + text_of(j["channel"]) +
                                         " points at no release (pibuild channel set)"
                                   : std::string("none");
    } else if (reason == "pinned") {
        o["desired_release"] = o["pin"];
    } else if (reason == "inventory pin") {
        o["desired_release"] = o["pinned"];
    } else if (reason.starts_with("rollout ")) {
        o["desired_release"] =
            reason + " (pibuild rollout status " + text_of(j["rollout"]["id"]) + ")";
    } else {
        auto c = f.view.channels.find(text_of(j["channel"]));
        o["desired_release"] =
            c == f.view.channels.end()
                ? reason
                : reason + ", set by " + c->second.updated_by + " at " + when(c->second.updated_at);
    }
    o["reason"] = "how desired_release was chosen: state pin, inventory pin, rollout, channel";
    o["release"] = j["release"].is_null()
                       ? "none: the desired release is not published or does not verify"
                       : "the desired release, published and verifying with " + a.pubkey;
    o["address"] = "learned by netbootd in the node's boot exchange (GET /api/v1/nodes/" +
                   text_of(j["name"]) + ")";
    o["rollout"] =
        j["rollout"].is_null() ? "in no active rollout" : "fleet state: the active rollout";
    o["last_report"] =
        j["last_report"].is_null() ? "never reported" : "fleet state: the newest report";
    o["window"] = j["window"].is_null() ? "no maintenance window (its channel has none)"
                                        : "channel " + text_of(j["channel"]);
    return o;
}

const NodeRow* find_row(const FleetNodes& f, const std::string& name) {
    for (const auto& r : f.rows)
        if (r.j["name"] == name) return &r;
    return nullptr;
}

}  // namespace

int cmd_node_list(const FleetArgs& a) {
    auto nodes = collect_nodes(a);
    if (!nodes) return report(nodes.error());
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    json out = json::array();
    Table t({"node", "serial/mac", "channel/pin", "desired", "booted", "last report"});
    for (const auto& row : nodes->rows) {
        const json& j = row.j;
        out.push_back(j);
        std::string id = j["serial"].is_string() ? text_of(j["serial"]) : join(j["macs"], ",");
        std::string follows =
            j["pin"].is_object() ? "pin " + short_release(j["pin"]["release"].get<std::string>())
            : j["pinned"].is_string()  ? "pin " + short_release(j["pinned"].get<std::string>())
            : j["channel"].is_string() ? text_of(j["channel"])
                                       : "-";
        const json& last = j["last_report"];
        std::string booted = "-", seen = "never";
        if (last.is_object()) {
            booted = short_release(last["release"].get<std::string>());
            seen = relative_time(last["at"].get<std::int64_t>(), now) + " " +
                   text_of(last["kind"]) + " " + (last["healthy"].get<bool>() ? "ok" : "FAILED");
        }
        t.add({j["name"].get<std::string>(), id, follows,
               j["desired_release"].is_string()
                   ? short_release(j["desired_release"].get<std::string>())
                   : "-",
               booted, seen});
    }
    if (a.json)
        print_json(out);
    else
        t.print(stdout,
                "no nodes: give an inventory (--inventory nodes.yaml, the config's inventory, or "
                "<store>/nodes.yaml)");
    return kOk;
}

int cmd_node_show(const FleetArgs& a) {
    auto nodes = collect_nodes(a);
    if (!nodes) return report(nodes.error());
    const NodeRow* row = find_row(*nodes, a.node);
    if (!row)
        return report(fail(Errc::not_found,
                           "no node " + a.node + " in the inventory" +
                               (nodes->inventory ? " " + nodes->inventory->file.string() : "") +
                               " or the fleet state (pibuild node list shows them)"));
    json o = origins(*nodes, *row, a);
    if (a.json) {
        json j = row->j;
        j["origins"] = o;
        print_json(j);
        return kOk;
    }
    Table t({"field", "value", "from"});
    const json& j = row->j;
    for (const char* k : {"name", "hostname", "serial", "macs", "labels", "channel", "pinned",
                          "pin", "desired_release", "reason", "release", "address", "window"}) {
        std::string v = k == std::string("macs") ? join(j[k]) : text_of(j[k]);
        if (k == std::string("pin") && j[k].is_object()) v = text_of(j[k]["release"]);
        if (k == std::string("labels")) {
            v.clear();
            for (const auto& [lk, lv] : j[k].items())
                v += (v.empty() ? "" : ",") + lk + "=" + text_of(lv);
            if (v.empty()) v = "-";
        }
        t.add({k, v, text_of(o[k])});
    }
    if (row->node) {
        t.add({"root", row->node->root == inventory::RootTransport::nfs ? "nfs" : "http",
               text_of(o["root"])});
        t.add({"kernel_args", row->node->kernel_args.empty() ? "-" : row->node->kernel_args,
               text_of(o["kernel_args"])});
    }
    const json& r = j["rollout"];
    t.add({"rollout",
           r.is_object()
               ? text_of(r["id"]) + " wave " + text_of(r["wave"]) + " " + text_of(r["progress"]) +
                     " (rollout " + text_of(r["state"]) + ", to " + text_of(r["to"]) + ")"
               : "-",
           text_of(o["rollout"])});
    const json& last = j["last_report"];
    t.add({"last_report",
           last.is_object()
               ? text_of(last["kind"]) + " " + (last["healthy"].get<bool>() ? "ok" : "FAILED") +
                     " on " + text_of(last["release"]) + " at " +
                     when(last["at"].get<std::int64_t>()) + " from " + text_of(last["address"])
               : "-",
           text_of(o["last_report"])});
    t.print(stdout);
    return kOk;
}

}  // namespace pib::cli::fleet
