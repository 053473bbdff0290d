#include "netbootd/rollout_driver.hpp"

namespace netbootd {

using pib::Level;
using pib::store::RolloutState;

namespace {

/// How many of the newest rollouts each look covers (active ones are among them:
/// a channel has at most one, and newer ones are refused while it runs).
constexpr std::size_t kRecent = 8;

/// Reports come in bursts (a wave of nodes booting together): one advance per
/// burst, not one transaction per report.
constexpr auto kPokeDelay = std::chrono::milliseconds(50);

std::int64_t system_unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::uint64_t wave_size(const pib::store::Rollout& r, int wave) {
    std::uint64_t n = 0;
    for (const auto& node : r.nodes) n += node.wave == wave;
    return n;
}

const char* state_event(RolloutState from, RolloutState to) {
    switch (to) {
        case RolloutState::running:
            return from == RolloutState::paused ? "resumed" : "running";
        case RolloutState::paused:
            return "paused";
        case RolloutState::completed:
            return "completed";
        case RolloutState::halted:
            return "halted";
        case RolloutState::aborted:
            return "aborted";
    }
    return "changed";
}

}  // namespace

RolloutDriver::RolloutDriver(EventLoop& loop, pib::store::FleetState& state, const pib::Logger& log,
                             std::chrono::milliseconds interval, UnixNow unix_now)
    : loop_(loop), state_(state), log_(log), interval_(interval),
      unix_now_(unix_now ? std::move(unix_now) : UnixNow(system_unix_now)) {}

RolloutDriver::~RolloutDriver() {
    loop_.cancel_timer(tick_timer_);
    loop_.cancel_timer(poke_timer_);
}

void RolloutDriver::start() {
    look(false);
    tick_timer_ = loop_.add_timer(loop_.now() + interval_, [this] { tick(); });
}

void RolloutDriver::poke() {
    if (poke_timer_) return;
    poke_timer_ = loop_.add_timer(loop_.now() + kPokeDelay, [this] {
        poke_timer_ = 0;
        advance();
    });
}

void RolloutDriver::failed(const char* what, const pib::Error& e) {
    if (failures_++ % 60 == 0)
        log_.event(Level::warn, "rollout", "advance_failed")
            .kv("what", what)
            .kv("error", e.message)
            .kv("in_a_row", failures_);
}

void RolloutDriver::advance() {
    ++advances_;
    auto changed = state_.advance_rollouts(unix_now_());
    if (!changed) return failed("advance", changed.error());
    failures_ = 0;
    for (auto id : *changed) {
        auto r = state_.rollout(id);
        if (!r) return failed("read", r.error());
        if (*r) note(**r, true);
    }
}

void RolloutDriver::tick() {
    tick_timer_ = 0;
    advance();
    look(true);  // changes made by the CLI or another netbootd
    tick_timer_ = loop_.add_timer(loop_.now() + interval_, [this] { tick(); });
}

void RolloutDriver::look(bool log_changes) {
    auto counter = state_.change_counter();
    if (!counter) return failed("counter", counter.error());
    if (log_changes && *counter == counter_seen_) return;
    auto recent = state_.rollouts(kRecent);
    if (!recent) return failed("read", recent.error());
    counter_seen_ = *counter;
    for (const auto& r : *recent) note(r, log_changes);
}

void RolloutDriver::note(const pib::store::Rollout& r, bool log_changes) {
    auto it = seen_.find(r.id);
    const bool fresh = it == seen_.end();
    const Seen old = fresh ? Seen{} : it->second;
    seen_[r.id] = Seen{r.state, r.current_wave};
    if (!log_changes || (!fresh && old.state == r.state && old.current_wave == r.current_wave)) return;
    auto common = [&](pib::LogEvent& ev) -> pib::LogEvent& {
        return ev.kv("id", r.id).kv("channel", r.channel).kv("from", r.from_release).kv("to", r.to_release);
    };
    if (fresh) {
        auto ev = log_.event(Level::info, "rollout", "started");
        common(ev)
            .kv("waves", r.waves_spec)
            .kv("wave_count", r.wave_count)
            .kv("nodes", static_cast<std::uint64_t>(r.nodes.size()))
            .kv("by", r.created_by);
    }
    // Every wave started since the last look (a rollout first seen after its
    // first waves, or several waves passed between two looks).
    for (int w = old.current_wave + 1; w <= r.current_wave && r.state != RolloutState::aborted; ++w) {
        auto ev = log_.event(Level::info, "rollout", "wave_started");
        common(ev).kv("wave", w + 1).kv("of", r.wave_count).kv("nodes", wave_size(r, w));
    }
    if ((fresh && r.state != RolloutState::running) || (!fresh && old.state != r.state)) {
        const bool bad = r.state == RolloutState::halted || r.state == RolloutState::aborted;
        auto ev = log_.event(bad ? Level::warn : Level::info, "rollout", state_event(old.state, r.state));
        common(ev).kv("wave", r.current_wave + 1);
        if (!r.reason.empty()) ev.kv("reason", r.reason);
    }
}

}  // namespace netbootd
