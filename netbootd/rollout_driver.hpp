// netbootd moves rollouts forward: FleetState::advance_rollouts(now) right
// after boot/health reports (50 ms after the first of a burst, so a wave of
// nodes reporting costs a few transactions, not one each) and on a timer
// every second (health
// timeouts pass with no report at all). Every rollout change, whoever made it
// (this daemon, another netbootd on the same state, the CLI), is logged once:
//   rollout started|wave_started|paused|resumed|halted|aborted|completed id=… channel=… …
// Waves are counted from 1 in these lines, as in the reason "rollout 3 wave 2".
// Runs on the event loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "common/log.hpp"
#include "netbootd/event_loop.hpp"
#include "store/fleet_state.hpp"

namespace netbootd {

class RolloutDriver {
public:
    using UnixNow = std::function<std::int64_t()>;

    /// `loop`, `state` and `log` must outlive the driver. `unix_now` defaults to the system clock.
    RolloutDriver(EventLoop& loop, pib::store::FleetState& state, const pib::Logger& log,
                  std::chrono::milliseconds interval = std::chrono::seconds(1), UnixNow unix_now = {});
    ~RolloutDriver();
    RolloutDriver(const RolloutDriver&) = delete;
    RolloutDriver& operator=(const RolloutDriver&) = delete;

    /// Notes the rollouts as they are now (not logged) and arms the periodic timer.
    void start();
    /// A report arrived: advance shortly (once for a burst of reports).
    void poke();
    /// Advances now and logs what changed; what the timer and poke() run.
    void advance();

    std::uint64_t advances() const { return advances_; }

private:
    struct Seen {
        pib::store::RolloutState state = pib::store::RolloutState::running;
        int current_wave = -1;
    };
    void tick();
    /// Looks at the newest rollouts when the state changed since the last look.
    void look(bool log_changes);
    void failed(const char* what, const pib::Error& e);
    /// Logs the difference between what was last seen of `r` and `r`.
    void note(const pib::store::Rollout& r, bool log_changes);

    EventLoop& loop_;
    pib::store::FleetState& state_;
    const pib::Logger& log_;
    std::chrono::milliseconds interval_;
    UnixNow unix_now_;
    EventLoop::TimerId tick_timer_ = 0;
    EventLoop::TimerId poke_timer_ = 0;
    std::map<std::int64_t, Seen> seen_;
    std::uint64_t advances_ = 0;
    std::uint64_t failures_ = 0;         ///< in a row; logged at the first and every 60th
    std::uint64_t counter_seen_ = 0;     ///< change_counter() at the last look at recent rollouts
};

}  // namespace netbootd
