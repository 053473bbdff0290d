#include "netbootd/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netbootd {

using pib::Errc;
using pib::fail;

pib::Result<std::unique_ptr<EventLoop>> EventLoop::create(NowFn now) {
    if (!now) now = [] { return Clock::now(); };
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return fail(Errc::io, std::string("epoll_create1: ") + std::strerror(errno));
    int wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wakefd < 0) {
        int e = errno;
        close(epfd);
        return fail(Errc::io, std::string("eventfd: ") + std::strerror(e));
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wakefd;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) != 0) {
        int e = errno;
        close(wakefd);
        close(epfd);
        return fail(Errc::io, std::string("epoll_ctl wakefd: ") + std::strerror(e));
    }
    return std::unique_ptr<EventLoop>(new EventLoop(epfd, wakefd, std::move(now)));
}

EventLoop::EventLoop(int epfd, int wakefd, NowFn now)
    : epfd_(epfd), wakefd_(wakefd), now_(std::move(now)) {}

EventLoop::~EventLoop() {
    close(wakefd_);
    close(epfd_);
}

pib::Status EventLoop::add_fd(int fd, Callback on_readable) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0)
        return fail(Errc::io, "epoll_ctl add fd " + std::to_string(fd) + ": " + std::strerror(errno));
    fds_[fd] = std::make_shared<Callback>(std::move(on_readable));
    return {};
}

void EventLoop::remove_fd(int fd) {
    if (fds_.erase(fd) == 0) return;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::add_timer(TimePoint at, Callback cb) {
    TimerId id = next_id_++;
    timers_.emplace(std::make_pair(at, id), std::move(cb));
    timer_index_.emplace(id, at);
    return id;
}

void EventLoop::cancel_timer(TimerId id) {
    auto it = timer_index_.find(id);
    if (it == timer_index_.end()) return;
    timers_.erase({it->second, id});
    timer_index_.erase(it);
}

std::size_t EventLoop::fire_due_timers() {
    std::size_t fired = 0;
    const TimePoint now = now_();
    // Timers armed by a callback for a time already past fire on the next turn,
    // so a callback that re-arms "now" cannot starve the fds.
    const TimerId limit = next_id_;
    for (auto it = timers_.begin(); it != timers_.end() && it->first.first <= now;) {
        if (it->first.second >= limit) {
            ++it;
            continue;
        }
        Callback cb = std::move(it->second);
        timer_index_.erase(it->first.second);
        timers_.erase(it);
        cb();
        ++fired;
        it = timers_.begin();
    }
    return fired;
}

pib::Status EventLoop::run_once(std::chrono::milliseconds max_wait) {
    int timeout = static_cast<int>(max_wait.count());
    if (!timers_.empty()) {
        auto until = std::chrono::ceil<std::chrono::milliseconds>(timers_.begin()->first.first - now_());
        if (until.count() < 0) until = std::chrono::milliseconds(0);
        if (timeout < 0 || until.count() < timeout) timeout = static_cast<int>(until.count());
    }
    epoll_event events[64];
    int n = epoll_wait(epfd_, events, 64, timeout);
    if (n < 0) {
        if (errno == EINTR) return {};
        return fail(Errc::io, std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wakefd_) {
            std::uint64_t v;
            if (read(wakefd_, &v, sizeof v) == sizeof v) stopping_ = true;
            continue;
        }
        auto it = fds_.find(fd);
        if (it == fds_.end()) continue;  // removed earlier in this batch
        std::shared_ptr<Callback> cb = it->second;  // survives remove_fd() inside itself
        (*cb)();
    }
    fire_due_timers();
    return {};
}

pib::Status EventLoop::run() {
    // stop() from another thread or a signal handler only writes the eventfd;
    // run_once() sees it readable and sets stopping_ on the loop's own thread.
    while (!stopping_) {
        pib::Status s = run_once(std::chrono::milliseconds(-1));
        if (!s) return s;
    }
    stopping_ = false;
    return {};
}

void EventLoop::stop() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = write(wakefd_, &one, sizeof one);
}

}  // namespace netbootd
