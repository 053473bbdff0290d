// A small single-threaded epoll loop: readable-fd callbacks and one-shot timers
// ordered by steady_clock time. No globals; the clock is injectable so timer
// tests advance time by hand instead of sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

#include "common/result.hpp"

namespace netbootd {

class EventLoop {
public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Callback = std::function<void()>;
    using NowFn = std::function<TimePoint()>;
    /// Identifies an armed timer; 0 is never a valid id.
    using TimerId = std::uint64_t;

    /// Creates the epoll instance and the wake-up eventfd; `now` defaults to steady_clock.
    static pib::Result<std::unique_ptr<EventLoop>> create(NowFn now = {});
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    /// Calls `on_readable` whenever `fd` is readable (level-triggered) until remove_fd().
    pib::Status add_fd(int fd, Callback on_readable);
    /// Stops watching `fd`; safe from inside any callback, including fd's own.
    void remove_fd(int fd);

    /// Arms a one-shot timer firing at `at` (or at the next turn when already past).
    TimerId add_timer(TimePoint at, Callback cb);
    /// Disarms a timer; unknown or already-fired ids are ignored.
    void cancel_timer(TimerId id);
    std::size_t pending_timers() const { return timers_.size(); }

    /// The loop's notion of now (the injected clock).
    TimePoint now() const { return now_(); }

    /// Runs until stop(); returns an error only when epoll itself fails.
    pib::Status run();
    /// One turn: waits at most `max_wait` (or until the next timer) for fds, then fires
    /// every due timer. Tests with an injected clock call this with max_wait 0.
    pib::Status run_once(std::chrono::milliseconds max_wait);
    /// Fires every timer due at now(); returns how many fired.
    std::size_t fire_due_timers();
    /// Makes run() return after the current turn; safe from any thread or a signal handler.
    void stop();

private:
    EventLoop(int epfd, int wakefd, NowFn now);

    int epfd_;
    int wakefd_;
    NowFn now_;
    bool stopping_ = false;
    TimerId next_id_ = 1;
    // Ordered by (deadline, id): ids break ties so equal deadlines fire in arming order.
    std::map<std::pair<TimePoint, TimerId>, Callback> timers_;
    std::unordered_map<TimerId, TimePoint> timer_index_;
    std::unordered_map<int, std::shared_ptr<Callback>> fds_;
};

}  // namespace netbootd
