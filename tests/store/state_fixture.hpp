// Shared by the store tests: a fresh state database in a scratch directory.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "store/fleet_state.hpp"
#include "support/test_support.hpp"

namespace pib::store::test {

inline std::unique_ptr<FleetState> open_state(const std::filesystem::path& db) {
    auto st = open_sqlite_state(db);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return st.ok() ? std::move(*st) : nullptr;
}

class StateTest : public ::testing::Test {
protected:
    void SetUp() override {
        state_ = open_state(db());
        ASSERT_TRUE(state_);
    }
    std::filesystem::path db() const { return tmp_ / "state.db"; }
    /// A plan for `channel` to `to` with the given waves.
    static RolloutPlan plan(const std::string& channel, const std::string& to,
                            std::vector<std::vector<std::string>> waves, int max_failures = 0,
                            std::int64_t timeout = 600) {
        RolloutPlan p;
        p.channel = channel;
        p.to_release = to;
        p.waves_spec = "test";
        p.waves = std::move(waves);
        p.max_failures = max_failures;
        p.health_timeout_s = timeout;
        return p;
    }
    void report(const std::string& node, const std::string& release, bool healthy, std::int64_t at,
                const std::string& kind = "boot") {
        BootReport r;
        r.node = node;
        r.release = release;
        r.kind = kind;
        r.healthy = healthy;
        r.at = at;
        r.address = "127.0.0.1";
        r.detail_json = "{}";
        auto st = state_->add_report(r);
        ASSERT_TRUE(st.ok()) << st.error().message;
    }
    pib::test::TempDir tmp_;
    std::unique_ptr<FleetState> state_;
};

}  // namespace pib::store::test
