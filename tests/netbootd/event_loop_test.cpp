// Timer and fd behaviour of the epoll loop, with an injected clock: no sleeps.
#include "netbootd/event_loop.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <csignal>
#include <unistd.h>

#include <thread>
#include <vector>

using namespace std::chrono_literals;
using netbootd::EventLoop;

namespace {

struct FakeClock {
    EventLoop::TimePoint t{};
    EventLoop::NowFn fn() {
        return [this] { return t; };
    }
};

}  // namespace

TEST(EventLoop, TimersFireInDeadlineOrderOnlyWhenDue) {
    FakeClock clock;
    auto loop = EventLoop::create(clock.fn());
    ASSERT_TRUE(loop);
    std::vector<int> fired;
    (*loop)->add_timer(clock.t + 30ms, [&] { fired.push_back(3); });
    (*loop)->add_timer(clock.t + 10ms, [&] { fired.push_back(1); });
    (*loop)->add_timer(clock.t + 20ms, [&] { fired.push_back(2); });
    EXPECT_EQ((*loop)->fire_due_timers(), 0u);
    clock.t += 20ms;
    EXPECT_EQ((*loop)->fire_due_timers(), 2u);
    EXPECT_EQ(fired, (std::vector<int>{1, 2}));
    clock.t += 1h;
    EXPECT_EQ((*loop)->fire_due_timers(), 1u);
    EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
    EXPECT_EQ((*loop)->pending_timers(), 0u);
}

TEST(EventLoop, EqualDeadlinesFireInArmingOrder) {
    FakeClock clock;
    auto loop = EventLoop::create(clock.fn());
    ASSERT_TRUE(loop);
    std::vector<int> fired;
    for (int i = 0; i < 5; ++i) (*loop)->add_timer(clock.t + 5ms, [&, i] { fired.push_back(i); });
    clock.t += 5ms;
    (*loop)->fire_due_timers();
    EXPECT_EQ(fired, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, CancelledTimerNeverFires) {
    FakeClock clock;
    auto loop = EventLoop::create(clock.fn());
    ASSERT_TRUE(loop);
    int fired = 0;
    auto a = (*loop)->add_timer(clock.t + 1ms, [&] { fired += 1; });
    (*loop)->add_timer(clock.t + 1ms, [&] { fired += 10; });
    (*loop)->cancel_timer(a);
    (*loop)->cancel_timer(a);      // twice is harmless
    (*loop)->cancel_timer(12345);  // unknown is harmless
    clock.t += 1s;
    (*loop)->fire_due_timers();
    EXPECT_EQ(fired, 10);
}

TEST(EventLoop, TimerCallbackMayCancelAndRearm) {
    FakeClock clock;
    auto loop = EventLoop::create(clock.fn());
    ASSERT_TRUE(loop);
    int second = 0, rearmed = 0;
    EventLoop::TimerId victim = 0;
    (*loop)->add_timer(clock.t + 1ms, [&] {
        (*loop)->cancel_timer(victim);
        // Re-armed for a time already past: fires on the next turn, not in this one.
        (*loop)->add_timer(clock.t, [&] { ++rearmed; });
    });
    victim = (*loop)->add_timer(clock.t + 2ms, [&] { ++second; });
    clock.t += 10ms;
    EXPECT_EQ((*loop)->fire_due_timers(), 1u);
    EXPECT_EQ(rearmed, 0);
    EXPECT_EQ((*loop)->fire_due_timers(), 1u);
    EXPECT_EQ(rearmed, 1);
    EXPECT_EQ(second, 0);
}

TEST(EventLoop, RunOnceFiresDueTimersWithoutBlocking) {
    FakeClock clock;
    auto loop = EventLoop::create(clock.fn());
    ASSERT_TRUE(loop);
    int fired = 0;
    (*loop)->add_timer(clock.t + 1s, [&] { ++fired; });
    clock.t += 2s;
    ASSERT_TRUE((*loop)->run_once(0ms));
    EXPECT_EQ(fired, 1);
}

TEST(EventLoop, ReadableFdCallbackAndRemovalFromInside) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ASSERT_GE(efd, 0);
    int calls = 0;
    ASSERT_TRUE((*loop)->add_fd(efd, [&] {
        std::uint64_t v;
        ASSERT_EQ(read(efd, &v, sizeof v), static_cast<ssize_t>(sizeof v));
        ++calls;
        (*loop)->remove_fd(efd);  // destroys this very callback's registration
    }));
    std::uint64_t one = 1;
    ASSERT_EQ(write(efd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    ASSERT_TRUE((*loop)->run_once(1000ms));
    EXPECT_EQ(calls, 1);
    ASSERT_EQ(write(efd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
    ASSERT_TRUE((*loop)->run_once(0ms));
    EXPECT_EQ(calls, 1);
    close(efd);
}

TEST(EventLoop, StopFromAnotherThreadEndsRun) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    std::thread stopper([&] {
        std::this_thread::sleep_for(20ms);
        (*loop)->stop();
    });
    EXPECT_TRUE((*loop)->run());
    stopper.join();
}

TEST(EventLoop, StopFromTimerEndsRunAfterRealTime) {
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    auto start = std::chrono::steady_clock::now();
    (*loop)->add_timer(start + 30ms, [&] { (*loop)->stop(); });
    EXPECT_TRUE((*loop)->run());
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(EventLoop, SignalfdStopsTheLoopWhenTheCallerWiresIt) {
    // The caller's choice (netbootd's main): SIGTERM blocked, read through a signalfd.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    ASSERT_EQ(pthread_sigmask(SIG_BLOCK, &set, nullptr), 0);
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    ASSERT_GE(sfd, 0);
    auto loop = EventLoop::create();
    ASSERT_TRUE(loop);
    int signo = 0;
    ASSERT_TRUE((*loop)->add_fd(sfd, [&] {
        signalfd_siginfo info{};
        if (read(sfd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) signo = static_cast<int>(info.ssi_signo);
        (*loop)->stop();
    }));
    (*loop)->add_timer(std::chrono::steady_clock::now() + 10ms, [] { raise(SIGUSR1); });
    EXPECT_TRUE((*loop)->run());
    EXPECT_EQ(signo, SIGUSR1);
    (*loop)->remove_fd(sfd);
    close(sfd);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}
