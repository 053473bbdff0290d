// Option negotiation: which requested options an OACK carries, and with which values.
#include <gtest/gtest.h>

#include "tftp/transfer.hpp"

namespace pib::tftp {
namespace {

using namespace std::chrono_literals;

TEST(Negotiate, NoOptionsMeansNoOack) {
    Negotiated n = negotiate({}, 1000, Limits{});
    EXPECT_TRUE(n.oack.empty());
    EXPECT_EQ(n.blksize, 512);
    EXPECT_EQ(n.windowsize, 1);
    EXPECT_EQ(n.timeout, 1000ms);
}

TEST(Negotiate, AtftpRequestGetsEveryOptionInRequestOrder) {
    Options req{{"tsize", "0"}, {"blksize", "1468"}, {"windowsize", "16"}};
    Negotiated n = negotiate(req, 3000, Limits{});
    EXPECT_EQ(n.oack, (Options{{"tsize", "3000"}, {"blksize", "1468"}, {"windowsize", "16"}}));
    EXPECT_EQ(n.blksize, 1468);
    EXPECT_EQ(n.windowsize, 16);
}

TEST(Negotiate, BlksizeIsClampedToTheInterfaceAndTheRfcRange) {
    Limits limits;  // 1468: Ethernet MTU 1500 - 32
    EXPECT_EQ(negotiate({{"blksize", "65464"}}, 1, limits).blksize, 1468);
    EXPECT_EQ(negotiate({{"blksize", "65535"}}, 1, limits).oack, (Options{{"blksize", "1468"}}));
    EXPECT_EQ(negotiate({{"blksize", "1024"}}, 1, limits).blksize, 1024);
    EXPECT_EQ(negotiate({{"blksize", "8"}}, 1, limits).blksize, 8);
    // Below 8 cannot be clamped up (a server may only lower it): ignored, 512 applies.
    Negotiated tiny = negotiate({{"blksize", "7"}}, 1, limits);
    EXPECT_EQ(tiny.blksize, 512);
    EXPECT_TRUE(tiny.oack.empty());
    limits.max_blksize = 65535;  // a misconfigured limit still respects RFC 2348
    EXPECT_EQ(negotiate({{"blksize", "65535"}}, 1, limits).blksize, 65464);
    limits.max_blksize = 0;
    EXPECT_EQ(negotiate({{"blksize", "1024"}}, 1, limits).blksize, 8);
}

TEST(Negotiate, BlksizeForMtu) {
    EXPECT_EQ(blksize_for_mtu(1500), 1468);
    EXPECT_EQ(blksize_for_mtu(9000), 8968);
    EXPECT_EQ(blksize_for_mtu(65536), 65464);
    EXPECT_EQ(blksize_for_mtu(20), 8);
}

TEST(Negotiate, TsizeAnswersTheRealSize) {
    Negotiated n = negotiate({{"TSize", "0"}}, 27'000'123, Limits{});
    EXPECT_EQ(n.oack, (Options{{"TSize", "27000123"}}));  // the client's spelling is echoed
    EXPECT_EQ(negotiate({{"tsize", "0"}}, 0, Limits{}).oack, (Options{{"tsize", "0"}}));
}

TEST(Negotiate, TimeoutAcceptedFrom1To255Seconds) {
    Negotiated n = negotiate({{"timeout", "6"}}, 1, Limits{});
    EXPECT_EQ(n.timeout, 6s);
    EXPECT_EQ(n.oack, (Options{{"timeout", "6"}}));
    EXPECT_EQ(negotiate({{"timeout", "255"}}, 1, Limits{}).timeout, 255s);
    for (const char* bad : {"0", "256", "-1", "1.5"}) {
        Negotiated r = negotiate({{"timeout", bad}}, 1, Limits{});
        EXPECT_TRUE(r.oack.empty()) << bad;
        EXPECT_EQ(r.timeout, 1000ms) << bad;
    }
}

TEST(Negotiate, WindowsizeIsCappedByTheServer) {
    Limits limits;
    limits.max_windowsize = 32;
    EXPECT_EQ(negotiate({{"windowsize", "16"}}, 1, limits).windowsize, 16);
    Negotiated big = negotiate({{"windowsize", "65535"}}, 1, limits);
    EXPECT_EQ(big.windowsize, 32);
    EXPECT_EQ(big.oack, (Options{{"windowsize", "32"}}));
    EXPECT_TRUE(negotiate({{"windowsize", "0"}}, 1, limits).oack.empty());
    EXPECT_TRUE(negotiate({{"windowsize", "65536"}}, 1, limits).oack.empty());
}

TEST(Negotiate, UnknownAndMalformedOptionsAreIgnored) {
    Options req{{"multicast", ""},
                {"utimeout", "500000"},
                {"blksize", "big"},
                {"rollover", "0"},
                {"tsize", "x"}};
    Negotiated n = negotiate(req, 10, Limits{});
    EXPECT_TRUE(n.oack.empty());
    EXPECT_EQ(n.blksize, 512);
    // One good option among bad ones is still acknowledged, alone.
    req.set("windowsize", "4");
    EXPECT_EQ(negotiate(req, 10, Limits{}).oack, (Options{{"windowsize", "4"}}));
}

}  // namespace
}  // namespace pib::tftp
