// Waves specs, their split over a node list, and durations.
#include <gtest/gtest.h>

#include "store/rollout_plan.hpp"

namespace pib::store {
namespace {

std::vector<std::string> names(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("n" + std::to_string(1000 + i));
    return out;
}

std::vector<std::size_t> sizes(const std::vector<std::vector<std::string>>& waves) {
    std::vector<std::size_t> out;
    for (const auto& w : waves) out.push_back(w.size());
    return out;
}

TEST(RolloutPlan, ParseWaves) {
    auto w = parse_waves("1, 10%,50%,100%");
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(*w, (std::vector<WaveTarget>{{1, false}, {10, true}, {50, true}, {100, true}}));
    EXPECT_TRUE(parse_waves("5").ok());
    for (const char* bad : {"", "0", "1,,2", "10%,5%", "3,2", "101%", "0%", "x", "1.5", "-1", "5%%"}) {
        auto r = parse_waves(bad);
        EXPECT_FALSE(r.ok()) << bad;
        if (!r.ok()) {
            EXPECT_EQ(r.error().code, Errc::invalid);
        }
    }
    auto r = parse_waves("1,10%,5%");
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("item 3 \"5%\""), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("must increase"), std::string::npos) << r.error().message;
}

TEST(RolloutPlan, SplitCumulativeRoundedUp) {
    auto t = *parse_waves("1,10%,50%,100%");
    auto w = split_waves(t, names(1000));
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(sizes(*w), (std::vector<std::size_t>{1, 99, 400, 500}));
    EXPECT_EQ((*w)[0][0], "n1000");
    EXPECT_EQ((*w)[1][0], "n1001");
    EXPECT_EQ((*w)[3].back(), "n1999");
    // 11 nodes: 1, ceil(1.1)=2, ceil(5.5)=6, 11.
    EXPECT_EQ(sizes(*split_waves(t, names(11))), (std::vector<std::size_t>{1, 1, 4, 5}));
    // 5 nodes: 10% is 1 node, no more than the first wave: skipped.
    EXPECT_EQ(sizes(*split_waves(t, names(5))), (std::vector<std::size_t>{1, 2, 2}));
    EXPECT_EQ(sizes(*split_waves(t, names(1))), (std::vector<std::size_t>{1}));
    // Absolute counts larger than the fleet cover it.
    EXPECT_EQ(sizes(*split_waves(*parse_waves("2,50"), names(3))), (std::vector<std::size_t>{2, 1}));
}

TEST(RolloutPlan, SplitRefusesGapsAndDecreases) {
    auto short_ = split_waves(*parse_waves("1,50%"), names(10));
    ASSERT_FALSE(short_.ok());
    EXPECT_NE(short_.error().message.find("covers 5 of 10 nodes"), std::string::npos) << short_.error().message;
    EXPECT_NE(short_.error().message.find("100%"), std::string::npos);
    auto down = split_waves(*parse_waves("8,10%,100%"), names(20));
    ASSERT_FALSE(down.ok());
    EXPECT_NE(down.error().message.find("below"), std::string::npos) << down.error().message;
    EXPECT_FALSE(split_waves(*parse_waves("100%"), {}).ok());
}

TEST(RolloutPlan, Durations) {
    EXPECT_EQ(*parse_duration("90"), 90);
    EXPECT_EQ(*parse_duration("90s"), 90);
    EXPECT_EQ(*parse_duration("10m"), 600);
    EXPECT_EQ(*parse_duration("2h"), 7200);
    EXPECT_EQ(*parse_duration("1h30m"), 5400);
    for (const char* bad : {"", "0", "m", "10x", "1h30", "-5", "0s"}) EXPECT_FALSE(parse_duration(bad).ok()) << bad;
    EXPECT_EQ(format_duration(5400), "1h30m");
    EXPECT_EQ(format_duration(600), "10m");
    EXPECT_EQ(format_duration(61), "1m1s");
    EXPECT_EQ(format_duration(45), "45s");
}

}  // namespace
}  // namespace pib::store
