// netbootd's Daemon (config -> store -> servers, DHCP off, privileges kept)
// running on a thread of its own for a test's lifetime, its log kept in memory.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netbootd/daemon.hpp"

namespace netbootd::test {

/// Polls `pred` every 50 ms until it holds or `limit` passes.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

class RunningDaemon {
  public:
    /// Starts the daemon of `config`; with `expect_ok` a refused start also fails the test.
    explicit RunningDaemon(const std::filesystem::path& config, bool expect_ok = true)
        : log_(
              [this](pib::Level, const std::string& line) {
                  std::lock_guard lock(mu_);
                  lines_.push_back(line);
              },
              pib::Level::debug) {
        pib::Diagnostics diags;
        netbootd::DaemonOptions o;
        o.drop_privileges = false;
        o.dhcp = false;
        auto d = netbootd::Daemon::create(config, log_, diags, o);
        if (!d) {
            error_ = d.error().message + "\n" + diags.str();
            EXPECT_FALSE(expect_ok) << error_;
            return;
        }
        daemon_ = std::move(*d);
        thread_ = std::thread([this] { (void)daemon_->run(); });
    }
    ~RunningDaemon() {
        if (daemon_) daemon_->stop();
        if (thread_.joinable()) thread_.join();
    }
    RunningDaemon(const RunningDaemon&) = delete;
    RunningDaemon& operator=(const RunningDaemon&) = delete;

    netbootd::Daemon* operator->() { return daemon_.get(); }
    bool ok() const { return daemon_ != nullptr; }
    /// Why the start was refused, with every diagnostic.
    const std::string& error() const { return error_; }
    /// Some line logged so far contains `needle`.
    bool logged(const std::string& needle) {
        std::lock_guard lock(mu_);
        for (const auto& l : lines_)
            if (l.find(needle) != std::string::npos) return true;
        return false;
    }
    /// Every line logged so far.
    std::string log() {
        std::lock_guard lock(mu_);
        std::string all;
        for (const auto& l : lines_) all += l + "\n";
        return all;
    }

  private:
    std::mutex mu_;
    std::vector<std::string> lines_;
    pib::Logger log_;
    std::string error_;
    std::unique_ptr<netbootd::Daemon> daemon_;
    std::thread thread_;
};

}  // namespace netbootd::test
