// The pure parts of the fleet model: names of states, maintenance windows and
// the decision which release a node boots. No database here.
#include <array>
#include <charconv>

#include "store/fleet_state.hpp"

namespace pib::store {

namespace {

constexpr std::array<const char*, 5> kRolloutStates = {"running", "paused", "completed", "halted", "aborted"};
constexpr std::array<const char*, 5> kNodeProgress = {"pending", "updating", "healthy", "failed", "timed_out"};
constexpr std::array<const char*, 2> kHealthGates = {"boot", "health"};

template <class E, std::size_t N>
std::optional<E> parse_name(const std::array<const char*, N>& names, std::string_view s) {
    for (std::size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<E>(i);
    return std::nullopt;
}

// "HH:MM" -> minutes after midnight.
std::optional<int> parse_hhmm(std::string_view t) {
    if (t.size() != 5 || t[2] != ':') return std::nullopt;
    int h = 0, m = 0;
    if (std::from_chars(t.data(), t.data() + 2, h).ptr != t.data() + 2) return std::nullopt;
    if (std::from_chars(t.data() + 3, t.data() + 5, m).ptr != t.data() + 5) return std::nullopt;
    if (h > 23 || m > 59 || h < 0 || m < 0) return std::nullopt;
    return h * 60 + m;
}

}  // namespace

const char* rollout_state_name(RolloutState s) { return kRolloutStates.at(static_cast<std::size_t>(s)); }

std::optional<RolloutState> parse_rollout_state(std::string_view s) {
    return parse_name<RolloutState>(kRolloutStates, s);
}

const char* node_progress_name(NodeProgress p) { return kNodeProgress.at(static_cast<std::size_t>(p)); }

std::optional<NodeProgress> parse_node_progress(std::string_view s) {
    return parse_name<NodeProgress>(kNodeProgress, s);
}

const char* health_gate_name(HealthGate g) { return kHealthGates.at(static_cast<std::size_t>(g)); }

std::optional<HealthGate> parse_health_gate(std::string_view s) { return parse_name<HealthGate>(kHealthGates, s); }

bool Window::contains(int minute) const {
    if (start_min <= end_min) return minute >= start_min && minute < end_min;
    return minute >= start_min || minute < end_min;  // wraps midnight
}

std::optional<Window> parse_window(std::string_view text) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto a = parse_hhmm(text.substr(0, dash));
    auto b = parse_hhmm(text.substr(dash + 1));
    if (!a || !b || *a == *b) return std::nullopt;
    return Window{*a, *b};
}

std::optional<Desired> desired_release(const FleetView& view, std::string_view node, std::string_view channel,
                                       const std::optional<std::string>& inventory_release) {
    const std::string n(node);
    if (auto p = view.pins.find(n); p != view.pins.end()) return Desired{p->second.release, "pinned"};
    if (inventory_release) return Desired{*inventory_release, "inventory pin"};
    if (auto r = view.rollout_release.find(n); r != view.rollout_release.end()) {
        const auto& [id, wave] = view.rollout_wave.at(n);
        return Desired{r->second, "rollout " + std::to_string(id) + " wave " + std::to_string(wave + 1)};
    }
    if (auto c = view.channels.find(std::string(channel)); c != view.channels.end())
        return Desired{c->second.release, "channel " + c->second.name};
    return std::nullopt;
}

}  // namespace pib::store
