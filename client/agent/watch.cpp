// The reboot decision of the watch service (watch.hpp). The window format and
// its midnight wrap are the fleet state's own (store/fleet_state.hpp).
#include "client/agent/watch.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "store/fleet_state.hpp"

namespace pib::client::agent {

namespace {

Result<std::optional<std::string>> optional_string(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string())
        return fail(Errc::corrupted, std::string("node document: \"") + key + "\" is not a string");
    return std::optional<std::string>{it->get<std::string>()};
}

}  // namespace

Result<NodeDoc> parse_node_doc(std::string_view body) {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Errc::corrupted, "node document: not a JSON object");
    NodeDoc d;
    auto served = optional_string(j, "release");
    if (!served) return served.error();
    auto desired = optional_string(j, "desired_release");
    if (!desired) return desired.error();
    auto window = optional_string(j, "window");
    if (!window) return window.error();
    d.served = *served;
    d.desired = *desired;
    d.window = *window;
    if (d.window && d.window->empty()) d.window.reset();
    return d;
}

std::string hhmm(int minute) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d:%02d", (minute / 60) % 24, minute % 60);
    return buf;
}

WatchDecision decide(std::string_view booted, const NodeDoc& doc, int minute_of_day) {
    const std::string b(booted);
    if (!doc.served) {
        std::string why = "netbootd serves this node no release";
        if (doc.desired) why += " (desired " + *doc.desired + " is not servable)";
        return {false, why + "; staying on " + b};
    }
    const std::string& next = *doc.served;
    if (next == b) return {false, "up to date on " + b};
    if (!doc.window)
        return {false, "release " + next + " is waiting; the channel has no maintenance window, " +
                           "so it is picked up at the next reboot"};
    auto w = store::parse_window(*doc.window);
    if (!w)
        return {false, "release " + next + " is waiting; the maintenance window \"" + *doc.window +
                           "\" is malformed, so it is picked up at the next reboot"};
    const std::string at = hhmm(minute_of_day);
    if (!w->contains(minute_of_day))
        return {false, "release " + next + " is waiting; " + at + " is outside the window " +
                           *doc.window};
    return {true, "rebooting from " + b + " into " + next + " (" + at + " is inside the window " +
                      *doc.window + ")"};
}

}  // namespace pib::client::agent
