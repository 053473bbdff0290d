// RFC 7440 windows and 16-bit block-number rollover, driven without sockets.
#include <gtest/gtest.h>

#include <numeric>

#include "tftp/transfer.hpp"
#include "tftp_fixture.hpp"

namespace pib::tftp {
namespace {

using namespace test;

std::vector<unsigned> range(unsigned first, unsigned last) {
    std::vector<unsigned> v(last - first + 1);
    std::iota(v.begin(), v.end(), first);
    return v;
}

// A 41-block file (40 full blocks of 512 and a short one) with windowsize 16.
Transfer start_windowed(Actions& out, std::uint16_t window = 16) {
    Options opts{{"windowsize", std::to_string(window)}};
    Transfer t = Transfer::start(rrq(opts), pattern_file(40 * 512 + 100), Limits{}, kT0, out);
    EXPECT_EQ(sent(out), std::vector<Packet>{OptionAck{opts}});
    t.step(Ack{0}, kT0, out);
    return t;
}

TEST(Window, SendsWholeWindowThenWaits) {
    Actions out;
    Transfer t = start_windowed(out);
    EXPECT_EQ(data_blocks(out), range(1, 16));
    EXPECT_EQ(out.timer, kT0 + 1s);
    auto packets = sent(out);
    for (unsigned i = 0; i < 16; ++i) {
        EXPECT_TRUE(holds_pattern(std::get<Data>(packets[i]), i * 512ull)) << i;
    }
    // The window's last ACK opens the next full window.
    t.step(Ack{16}, kT0 + 1ms, out);
    EXPECT_EQ(data_blocks(out), range(17, 32));
    EXPECT_EQ(out.timer, kT0 + 1ms + 1s);
}

TEST(Window, AckInsideTheWindowSlidesIt) {
    Actions out;
    Transfer t = start_windowed(out);
    t.step(Ack{16}, kT0, out);
    // The client lost block 21 and acknowledges the last block it holds in order.
    t.step(Ack{20}, kT0 + 2ms, out);
    EXPECT_EQ(data_blocks(out), range(33, 36));  // only blocks beyond those in flight
    EXPECT_EQ(out.timer, kT0 + 2ms + 1s);
    // Our timer resends from the last acknowledged block: 21..36.
    t.step(TimerFired{}, kT0 + 2ms + 1s, out);
    EXPECT_EQ(data_blocks(out), range(21, 36));
    EXPECT_EQ(out.timer, kT0 + 2ms + 3s);  // backed off
    // Its own timeout makes the client repeat ACK 20: a duplicate, ignored.
    t.step(Ack{20}, kT0 + 2s, out);
    EXPECT_EQ(out.datagram_count(), 0u);
    t.step(Ack{36}, kT0 + 3s, out);
    EXPECT_EQ(data_blocks(out), range(37, 41));  // the window stops at the last block
    auto tail = sent(out);
    EXPECT_EQ(std::get<Data>(tail.back()).payload.size(), 100u);
    t.step(Ack{40}, kT0 + 3s, out);
    EXPECT_EQ(out.datagram_count(), 0u);
    EXPECT_FALSE(out.finished);
    t.step(Ack{41}, kT0 + 3s, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
    EXPECT_EQ(out.finished->bytes_acked, 40u * 512 + 100);
    EXPECT_EQ(out.finished->retransmits, 16u);
}

TEST(Window, TimeoutResendsTheWholeWindowFromTheLastAck) {
    Actions out;
    Transfer t = start_windowed(out);
    t.step(TimerFired{}, kT0 + 1s, out);
    EXPECT_EQ(data_blocks(out), range(1, 16));
    t.step(Ack{16}, kT0 + 2s, out);
    t.step(Ack{32}, kT0 + 2s, out);
    t.step(TimerFired{}, kT0 + 3s, out);
    EXPECT_EQ(data_blocks(out), range(33, 41));
}

TEST(Window, PerBlockAcksSlideOneBlockAtATime) {
    // A client that acknowledges every block still gets each block once, not a
    // window per ACK.
    Actions out;
    Transfer t = start_windowed(out, 4);
    EXPECT_EQ(data_blocks(out), range(1, 4));
    std::vector<unsigned> all = range(1, 4);
    for (std::uint16_t b = 1; b <= 41; ++b) {
        t.step(Ack{b}, kT0, out);
        if (b == 41) break;
        for (unsigned n : data_blocks(out)) all.push_back(n);
    }
    EXPECT_EQ(all, range(1, 41));
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->bytes_sent, 40u * 512 + 100);
}

// Runs a transfer to its end as a well-behaved client would: ACK the last block of
// each window. Checks every payload against the pattern, following the wire
// numbers through rollover, and returns the wire numbers seen.
std::vector<std::uint16_t> drive(Transfer& t, Actions& out, std::uint64_t size) {
    std::vector<std::uint16_t> wire;
    std::uint64_t expect = 1;  // absolute number of the next block
    const std::uint16_t blksize = t.negotiated().blksize;
    while (!out.finished) {
        std::uint16_t last = 0;
        for (const Packet& p : sent(out)) {
            const Data& d = std::get<Data>(p);
            EXPECT_EQ(d.block, static_cast<std::uint16_t>(expect & 0xffff));
            std::uint64_t offset = (expect - 1) * blksize;
            EXPECT_EQ(d.payload.size(), std::min<std::uint64_t>(blksize, size - offset));
            if (!holds_pattern(d, offset)) ADD_FAILURE() << "block " << expect << " content";
            wire.push_back(d.block);
            last = d.block;
            ++expect;
        }
        if (out.datagram_count() == 0) {
            ADD_FAILURE() << "stalled after block " << expect - 1;
            break;
        }
        t.step(Ack{last}, kT0, out);
    }
    return wire;
}

TEST(Rollover, LockStepWrapsFrom65535To0) {
    // 70000 full blocks: 70001 with the final empty one, past the 16-bit counter.
    const std::uint64_t size = 70000ull * 512;
    ASSERT_TRUE(needs_rollover(size, 512));
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(size), Limits{}, kT0, out);
    auto wire = drive(t, out, size);
    ASSERT_EQ(wire.size(), 70001u);
    EXPECT_EQ(wire[65534], 65535);  // absolute block 65535
    EXPECT_EQ(wire[65535], 0);      // 65536 wraps to 0 (dnsmasq, tftp-hpa)
    EXPECT_EQ(wire[65536], 1);
    EXPECT_EQ(wire.back(), 70001 - 65536);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
    EXPECT_EQ(out.finished->bytes_acked, size);
}

TEST(Rollover, WindowsAcrossTheWrap) {
    const std::uint64_t size = 70000ull * 512 + 77;
    Actions out;
    Options opts{{"windowsize", "16"}};
    Transfer t = Transfer::start(rrq(opts), pattern_file(size), Limits{}, kT0, out);
    t.step(Ack{0}, kT0, out);
    auto wire = drive(t, out, size);
    ASSERT_EQ(wire.size(), 70001u);
    EXPECT_EQ(wire[65535], 0);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->bytes_acked, size);
}

TEST(Rollover, AckZeroAfterTheWrapIsProgressNotTheOackAck) {
    // Lock-step to absolute block 65535, then the ACK with wire number 0 must
    // acknowledge absolute block 65536 and bring block 65537 (wire 1).
    const std::uint64_t size = 65600ull * 512;
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(size), Limits{}, kT0, out);
    for (std::uint32_t b = 1; b <= 65535; ++b) t.step(Ack{static_cast<std::uint16_t>(b)}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{0});
    t.step(Ack{65535}, kT0, out);  // duplicate of the block before the wrap
    EXPECT_EQ(out.datagram_count(), 0u);
    t.step(Ack{0}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});
    t.step(TimerFired{}, kT0 + 1s, out);  // a resend after the wrap keeps the wire number
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});
}

}  // namespace
}  // namespace pib::tftp
