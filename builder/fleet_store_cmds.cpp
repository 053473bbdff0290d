// pibuild publish, channel set/list, node pin/unpin, history, gc.
#include <cstdio>
#include <ctime>
#include <set>

#include "builder/fleet_context.hpp"
#include "builder/fleet_table.hpp"
#include "release/release_store.hpp"

namespace pib::cli::fleet {

namespace fs = std::filesystem;

namespace {

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Prints `text` unless --json; then prints `j` instead.
int done(const FleetArgs& a, const json& j, const std::string& text) {
    if (a.json) print_json(j);
    else std::printf("%s\n", text.c_str());
    return kOk;
}

// Errc::not_found for a node the inventory does not list (when there is one).
Status check_node(const FleetArgs& a, const std::string& node) {
    auto inv = load_inventory(a, /*required=*/false);
    if (!inv) return inv.error();
    if (*inv && !(*inv)->by_name(node))
        return fail(Errc::not_found, "node " + node + " is not in the inventory " + (*inv)->file.string());
    return {};
}

// A channel no node could ever follow is a typo (`stabel`): refused when
// there is an inventory and neither a node names the channel nor is it the
// channel nodes get when they name none (inventory `defaults`).
Status check_followed(const FleetArgs& a, const std::string& channel) {
    auto inv = load_inventory(a, /*required=*/false);
    if (!inv) return inv.error();
    if (!*inv || (*inv)->default_channel == channel) return {};
    std::set<std::string> followed;
    for (const auto& n : (*inv)->nodes) {
        if (n.release) continue;  // pinned in the inventory: follows no channel
        if (n.channel == channel) return {};
        followed.insert(n.channel);
    }
    std::string names;
    for (const auto& c : followed) names += (names.empty() ? "" : ", ") + c;
    return fail(Errc::invalid, "no node of the inventory " + (*inv)->file.string() + " follows channel " + channel +
                                   ", and it is not the inventory's default channel" +
                                   ((*inv)->default_channel.empty() ? "" : " (" + (*inv)->default_channel + ")") +
                                   ": its nodes follow " + (names.empty() ? "no channel" : names) +
                                   " (give a node `channel: " + channel + "` in the inventory first)");
}

}  // namespace

int cmd_publish(const FleetArgs& a) {
    auto key = load_pubkey(a);
    if (!key) return report(key.error());
    VerifyReport problems;
    auto r = publish_release(a.dir, a.store, *key, problems);
    if (!r) {
        for (const auto& p : problems.problems) std::fprintf(stderr, "%s: %s\n", a.dir.c_str(), p.c_str());
        if (r.error().code == Errc::verification)
            std::fprintf(stderr, "pibuild: %s does NOT verify; nothing was published\n", a.dir.c_str());
        return report(r.error());
    }
    if (!r->already_present) {
        auto state = open_state(a);
        if (!state) return report(state.error());
        json d = {{"release", r->id}, {"name", r->manifest.name}, {"version", r->manifest.version},
                  {"source", fs::absolute(a.dir).string()}};
        auto st = (*state)->record("publish", d.dump(), who());
        if (!st) return report(st.error());
    }
    json j = result_json(
        {{"release", r->id}, {"path", fs::absolute(r->dir).string()}, {"already_present", r->already_present}});
    return done(a, j,
                r->already_present ? "already published: " + r->id + " (identical content)"
                                   : "published " + r->id + " -> " + r->dir.string());
}

int cmd_channel_set(const FleetArgs& a) {
    if (a.release.empty() && !a.window)
        return report(fail(Errc::invalid, "channel set: give a RELEASE, a --window, or both"));
    if (auto st = check_followed(a, a.channel); !st) return report(st.error());
    auto state = open_state(a);
    if (!state) return report(state.error());
    std::string release;
    if (!a.release.empty()) {
        auto id = resolve_release(a, a.release);
        if (!id) return report(id.error());
        if (auto st = check_published(a, *id); !st) return report(st.error());
        release = *id;
    }
    auto st = release.empty() ? (*state)->set_channel_window(a.channel, *a.window, who())
                              : (*state)->configure_channel(a.channel, release, a.window, who());
    if (!st) return report(st.error());
    auto list = (*state)->channel_list();
    if (!list) return report(list.error());
    auto active = (*state)->active_rollout(a.channel);
    if (!active) return report(active.error());
    json j = nullptr;
    for (const auto& c : *list)
        if (c.name == a.channel)
            j = store::channel_json(c, *active ? std::optional<std::int64_t>((*active)->id) : std::nullopt);
    if (release.empty())
        return done(a, j, "channel " + a.channel + " window " + (a.window->empty() ? "cleared" : *a.window));
    return done(a, j, "channel " + a.channel + " -> " + release);
}

int cmd_channel_list(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto list = (*state)->channel_list();
    if (!list) return report(list.error());
    json out = json::array();
    Table t({"channel", "release", "previous", "window", "rollout", "updated", "by"});
    for (const auto& c : *list) {
        auto active = (*state)->active_rollout(c.name);
        if (!active) return report(active.error());
        std::string ro = "-";
        if (*active)
            ro = std::to_string((*active)->id) + " " + store::rollout_state_name((*active)->state) + " -> " +
                 short_release((*active)->to_release);
        out.push_back(store::channel_json(c, *active ? std::optional<std::int64_t>((*active)->id) : std::nullopt));
        t.add({c.name, c.release, short_release(c.previous), c.window.empty() ? "-" : c.window, ro,
               relative_time(c.updated_at, now()), c.updated_by});
    }
    if (a.json) print_json(out);
    else t.print(stdout, "no channels yet (pibuild channel set CHANNEL RELEASE)");
    return kOk;
}

int cmd_node_pin(const FleetArgs& a) {
    if (auto st = check_node(a, a.node); !st) return report(st.error());
    auto id = resolve_release(a, a.release);
    if (!id) return report(id.error());
    if (auto st = check_published(a, *id); !st) return report(st.error());
    auto state = open_state(a);
    if (!state) return report(state.error());
    if (auto st = (*state)->pin(a.node, *id, who()); !st) return report(st.error());
    return done(a, result_json({{"node", a.node}, {"release", *id}, {"changed", true}}),
                "node " + a.node + " pinned to " + *id);
}

int cmd_node_unpin(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    // Unpinning a node that is not pinned leaves it as asked: done, nothing changed.
    auto st = (*state)->unpin(a.node, who());
    if (!st && st.error().code != Errc::not_found) return report(st.error());
    return done(a, result_json({{"node", a.node}, {"release", nullptr}, {"changed", st.ok()}}),
                st ? "node " + a.node + " follows its channel again"
                   : "node " + a.node + " is not pinned: nothing to do (it follows its channel)");
}

int cmd_history(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto h = (*state)->history(a.limit);
    if (!h) return report(h.error());
    json out = json::array();
    Table t({"id", "when", "who", "action", "detail"});
    for (const auto& e : *h) {
        json detail = json::parse(e.detail_json, nullptr, /*allow_exceptions=*/false);
        if (detail.is_discarded()) detail = e.detail_json;  // written by an older version as text
        out.push_back(result_json({{"id", e.id}, {"at", e.at}, {"who", e.who}, {"action", e.action}, {"detail", detail}}));
        std::string text;
        if (detail.is_object()) {
            for (const auto& item : detail.items())
                text += (text.empty() ? "" : " ") + item.key() + "=" +
                        (item.value().is_string() ? item.value().get<std::string>() : item.value().dump());
        } else {
            text = e.detail_json;
        }
        t.add({std::to_string(e.id), utc_time(e.at), e.who, e.action, text});
    }
    if (a.json) print_json(out);
    else t.print(stdout, "no history yet");
    return kOk;
}

int cmd_gc(const FleetArgs& a) {
    auto state = open_state(a);
    if (!state) return report(state.error());
    auto keep = (*state)->referenced_releases(a.keep_history);
    if (!keep) return report(keep.error());
    auto inv = load_inventory(a, /*required=*/false);
    if (!inv) return report(inv.error());
    if (*inv)
        for (const auto& n : (*inv)->nodes)
            if (n.release) keep->insert(*n.release);
    auto all = list_releases(a.store);
    if (!all) return report(all.error());
    std::vector<std::string> leftovers;
    if (!a.dry_run) {
        auto cleaned = clean_release_leftovers(a.store);
        if (!cleaned) return report(cleaned.error());
        leftovers = *cleaned;
    }
    json removed = json::array(), kept = json::array();
    for (const auto& id : *all) {
        if (keep->count(id)) {
            kept.push_back(id);
            continue;
        }
        if (!a.dry_run)
            if (auto st = remove_release(a.store, id); !st) return report(st.error());
        removed.push_back(id);
    }
    if (!a.dry_run && !removed.empty()) {
        auto st = (*state)->record("gc", json{{"removed", removed}, {"keep_history", a.keep_history}}.dump(), who());
        if (!st) return report(st.error());
    }
    if (a.json) {
        print_json(
            result_json({{"removed", removed}, {"kept", kept}, {"leftovers_removed", leftovers}, {"dry_run", a.dry_run}}));
        return kOk;
    }
    for (const auto& id : removed) std::printf("%s %s\n", a.dry_run ? "would remove" : "removed", id.get<std::string>().c_str());
    for (const auto& l : leftovers) std::printf("removed leftover %s\n", l.c_str());
    std::printf("%zu release(s) kept, %zu %s\n", kept.size(), removed.size(), a.dry_run ? "to remove" : "removed");
    return kOk;
}

}  // namespace pib::cli::fleet
