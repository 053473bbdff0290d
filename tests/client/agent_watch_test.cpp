// pib-agent watch's pure parts: the node document and the reboot decision,
// with maintenance windows that wrap midnight.
#include <gtest/gtest.h>

#include "client/agent/watch.hpp"

namespace pib::client::agent {
namespace {

constexpr int at(int h, int m) { return h * 60 + m; }

NodeDoc doc(std::optional<std::string> served, std::optional<std::string> window) {
    return NodeDoc{served, served, window};
}

TEST(AgentWatch, ParsesTheNodeDocument) {
    auto d = parse_node_doc(R"({"name": "pc-01", "release": "B", "desired_release": "B",
                               "window": "22:00-04:00", "rollout": null})");
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->served, "B");
    EXPECT_EQ(d->desired, "B");
    EXPECT_EQ(d->window, "22:00-04:00");
    auto none = parse_node_doc(R"({"release": null, "desired_release": "X", "window": null})");
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->served);
    EXPECT_FALSE(none->window);
    // An empty window is no window.
    EXPECT_FALSE(parse_node_doc(R"({"release": "A", "window": ""})")->window);
}

TEST(AgentWatch, RefusesMalformedDocuments) {
    auto bad = parse_node_doc("<html>");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().code, Errc::corrupted);
    EXPECT_FALSE(parse_node_doc("[1, 2]").ok());
    auto typed = parse_node_doc(R"({"release": 7})");
    ASSERT_FALSE(typed.ok());
    EXPECT_NE(typed.error().message.find("\"release\" is not a string"), std::string::npos);
}

TEST(AgentWatch, UpToDateNeverReboots) {
    auto d = decide("A", doc("A", "00:00-23:59"), at(12, 0));
    EXPECT_FALSE(d.reboot);
    EXPECT_EQ(d.reason, "up to date on A");
}

TEST(AgentWatch, NoWindowMeansNextReboot) {
    auto d = decide("A", doc("B", std::nullopt), at(3, 0));
    EXPECT_FALSE(d.reboot);
    EXPECT_NE(d.reason.find("no maintenance window"), std::string::npos) << d.reason;
}

TEST(AgentWatch, InsideAPlainWindowReboots) {
    auto d = decide("A", doc("B", "02:00-04:30"), at(2, 0));
    EXPECT_TRUE(d.reboot);
    EXPECT_EQ(d.reason, "rebooting from A into B (02:00 is inside the window 02:00-04:30)");
    EXPECT_TRUE(decide("A", doc("B", "02:00-04:30"), at(4, 29)).reboot);
    // The end is exclusive.
    EXPECT_FALSE(decide("A", doc("B", "02:00-04:30"), at(4, 30)).reboot);
    EXPECT_FALSE(decide("A", doc("B", "02:00-04:30"), at(1, 59)).reboot);
    auto out = decide("A", doc("B", "02:00-04:30"), at(13, 5));
    EXPECT_EQ(out.reason, "release B is waiting; 13:05 is outside the window 02:00-04:30");
}

TEST(AgentWatch, AWindowWrapsMidnight) {
    const auto w = doc("B", "22:00-04:00");
    EXPECT_TRUE(decide("A", w, at(22, 0)).reboot);
    EXPECT_TRUE(decide("A", w, at(23, 59)).reboot);
    EXPECT_TRUE(decide("A", w, at(0, 0)).reboot);
    EXPECT_TRUE(decide("A", w, at(3, 59)).reboot);
    EXPECT_FALSE(decide("A", w, at(4, 0)).reboot);
    EXPECT_FALSE(decide("A", w, at(12, 0)).reboot);
    EXPECT_FALSE(decide("A", w, at(21, 59)).reboot);
}

TEST(AgentWatch, MalformedWindowMeansNever) {
    for (const char* w : {"25:00-03:00", "2:00-3:00", "02:00", "03:00-03:00", "nightly"}) {
        auto d = decide("A", doc("B", std::string(w)), at(2, 30));
        EXPECT_FALSE(d.reboot) << w;
        EXPECT_NE(d.reason.find("is malformed"), std::string::npos) << d.reason;
    }
}

TEST(AgentWatch, NothingServedMeansStay) {
    NodeDoc d{std::nullopt, std::string("C"), std::string("00:00-23:59")};
    auto w = decide("A", d, at(1, 0));
    EXPECT_FALSE(w.reboot);
    EXPECT_EQ(w.reason, "netbootd serves this node no release (desired C is not servable); staying on A");
}

TEST(AgentWatch, TimesPrintAsHhMm) {
    EXPECT_EQ(hhmm(0), "00:00");
    EXPECT_EQ(hhmm(at(9, 5)), "09:05");
    EXPECT_EQ(hhmm(at(23, 59)), "23:59");
}

}  // namespace
}  // namespace pib::client::agent
