// The read transfer state machine in lock-step (RFC 1350) with option negotiation
// (RFC 2347-2349): every event is fed by hand with an explicit time; no sockets,
// no sleeps. Windows and rollover are in transfer_window_test.cpp.
#include "tftp/transfer.hpp"

#include <gtest/gtest.h>

#include "common/hex.hpp"
#include "tftp_fixture.hpp"

namespace pib::tftp {
namespace {

using namespace test;

TEST(Transfer, LockStepSmallFile) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(1000), Limits{}, kT0, out);
    Data d1 = only_data(out);
    EXPECT_EQ(d1.block, 1);
    EXPECT_EQ(d1.payload.size(), 512u);
    EXPECT_TRUE(holds_pattern(d1, 0));
    EXPECT_EQ(out.timer, kT0 + 1s);
    EXPECT_FALSE(out.finished);

    t.step(Ack{1}, kT0 + 10ms, out);
    Data d2 = only_data(out);
    EXPECT_EQ(d2.block, 2);
    EXPECT_EQ(d2.payload.size(), 488u);
    EXPECT_TRUE(holds_pattern(d2, 512));
    EXPECT_EQ(out.timer, kT0 + 10ms + 1s);

    t.step(Ack{2}, kT0 + 25ms, out);
    EXPECT_EQ(out.datagram_count(), 0u);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(*out.finished, (Finished{Outcome::completed, 1000, 1000, 0, 25ms}));
    EXPECT_TRUE(t.done());
    EXPECT_FALSE(t.deadline());
}

TEST(Transfer, ExactMultipleOfBlksizeEndsWithEmptyBlock) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(1024), Limits{}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});
    t.step(Ack{1}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{2});
    t.step(Ack{2}, kT0, out);
    EXPECT_EQ(only_data(out), (Data{3, {}}));
    EXPECT_FALSE(out.finished);
    t.step(Ack{3}, kT0, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
    EXPECT_EQ(out.finished->bytes_acked, 1024u);
}

TEST(Transfer, EmptyFileIsOneEmptyBlock) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(0), Limits{}, kT0, out);
    ASSERT_EQ(sent(out), (std::vector<Packet>{Data{1, {}}}));
    t.step(Ack{1}, kT0, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
}

TEST(Transfer, TsizeAndBlksizeGetOackAndDataWaitsForAck0) {
    Actions out;
    Options opts{{"tsize", "0"}, {"blksize", "65464"}};
    Transfer t = Transfer::start(rrq(opts), pattern_file(3000), Limits{}, kT0, out);
    ASSERT_EQ(sent(out),
              (std::vector<Packet>{OptionAck{{{"tsize", "3000"}, {"blksize", "1468"}}}}));
    EXPECT_EQ(out.timer, kT0 + 1s);
    EXPECT_EQ(t.negotiated().blksize, 1468);

    t.step(Ack{1}, kT0, out);  // not the OACK's ACK: ignored
    EXPECT_EQ(out.datagram_count(), 0u);
    EXPECT_FALSE(out.timer);

    t.step(Ack{0}, kT0 + 5ms, out);
    Data d1 = only_data(out);
    EXPECT_EQ(d1.block, 1);
    EXPECT_EQ(d1.payload.size(), 1468u);  // clamped to the interface
    t.step(Ack{1}, kT0, out);
    t.step(Ack{2}, kT0, out);
    EXPECT_EQ(only_data(out).payload.size(), 3000u - 2 * 1468);
    t.step(Ack{3}, kT0, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
}

TEST(Transfer, AnswersTheAtftpCaptureByteForByte) {
    // atftp 0.8.0's RRQ (tests/tftp/data/rrq_atftp_0.8.0.hex) for a 3000-byte file.
    auto wire = from_hex(
        "00017374617274342e656c66006f63746574007473697a65003000626c6b73697a650031343638"
        "0077696e646f7773697a6500313600");
    ASSERT_TRUE(wire);
    auto req = decode(*wire);
    ASSERT_TRUE(req.ok());
    Actions out;
    Transfer::start(std::get<ReadRequest>(*req), pattern_file(3000), Limits{}, kT0, out);
    ASSERT_EQ(out.datagram_count(), 1u);
    // Request order, unlike dnsmasq 2.90 (blksize, tsize; it ignores windowsize).
    EXPECT_EQ(to_hex(out.datagram(0)),
              "0006"  // OACK
              "7473697a6500"
              "3330303000"  // tsize 3000
              "626c6b73697a6500"
              "3134363800"  // blksize 1468
              "77696e646f7773697a6500"
              "313600");  // windowsize 16
}

TEST(Transfer, NoOackWhenNoOptionIsAccepted) {
    Actions out;
    Options opts{{"multicast", ","}, {"blksize", "4"}, {"foo", "bar"}};
    Transfer t = Transfer::start(rrq(opts), pattern_file(600), Limits{}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});
    EXPECT_TRUE(t.negotiated().oack.empty());
    EXPECT_EQ(t.negotiated().blksize, 512);
}

TEST(Transfer, DuplicateOldAndFutureAcksAreIgnored) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(2000), Limits{}, kT0, out);
    t.step(Ack{1}, kT0 + 1ms, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{2});
    // Sorcerer's Apprentice: a duplicate ACK 1 must not send DATA 2 again.
    for (std::uint16_t stale : {1, 0, 3, 9, 65535}) {
        t.step(Ack{stale}, kT0 + 2ms, out);
        EXPECT_EQ(out.datagram_count(), 0u) << stale;
        EXPECT_FALSE(out.timer) << stale;
        EXPECT_FALSE(out.finished) << stale;
    }
    EXPECT_EQ(t.deadline(), kT0 + 1ms + 1s);  // the timer still runs from the last progress
    t.step(Ack{2}, kT0 + 3ms, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{3});
}

TEST(Transfer, LostAckRetransmitsWithExponentialBackoff) {
    Limits limits;
    limits.default_timeout = 1s;
    limits.max_backoff = 4s;
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(700), limits, kT0, out);
    ASSERT_EQ(out.timer, kT0 + 1s);
    // 1 s, then 2 s, then 4 s, then capped at 4 s.
    const TimePoint fires[] = {kT0 + 1s, kT0 + 3s, kT0 + 7s, kT0 + 11s};
    const TimePoint next[] = {kT0 + 3s, kT0 + 7s, kT0 + 11s, kT0 + 15s};
    for (int i = 0; i < 4; ++i) {
        t.step(TimerFired{}, fires[i], out);
        EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1}) << i;
        EXPECT_EQ(out.timer, next[i]) << i;
    }
    // Progress resets the back-off to the base interval.
    t.step(Ack{1}, kT0 + 12s, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{2});
    EXPECT_EQ(out.timer, kT0 + 13s);
    t.step(TimerFired{}, kT0 + 13s, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{2});
    EXPECT_EQ(out.timer, kT0 + 15s);
    t.step(Ack{2}, kT0 + 14s, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->retransmits, 5u);
    EXPECT_EQ(out.finished->bytes_sent, 700u + 4 * 512 + 188);
    EXPECT_EQ(out.finished->bytes_acked, 700u);
    EXPECT_EQ(out.finished->duration, 14s);
}

TEST(Transfer, NegotiatedTimeoutIsTheRetransmitBase) {
    Actions out;
    Transfer t = Transfer::start(rrq({{"timeout", "3"}}), pattern_file(10), Limits{}, kT0, out);
    EXPECT_EQ(out.timer, kT0 + 3s);
    t.step(TimerFired{}, kT0 + 3s, out);  // the OACK goes again
    EXPECT_EQ(sent(out), (std::vector<Packet>{OptionAck{{{"timeout", "3"}}}}));
    EXPECT_EQ(out.timer, kT0 + 9s);
}

TEST(Transfer, TimerFiringEarlyOnlyRearms) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(10), Limits{}, kT0, out);
    t.step(TimerFired{}, kT0 + 999ms, out);
    EXPECT_EQ(out.datagram_count(), 0u);
    EXPECT_EQ(out.timer, kT0 + 1s);
    EXPECT_FALSE(out.finished);
}

TEST(Transfer, StalledClientTimesOut) {
    Limits limits;
    limits.max_retransmits = 3;
    limits.max_backoff = 2s;
    Actions out;
    Transfer t = Transfer::start(rrq({{"tsize", "0"}}), pattern_file(10), limits, kT0, out);
    TimePoint now = kT0;
    for (int i = 0; i < 3; ++i) {
        now = *out.timer;
        t.step(TimerFired{}, now, out);
        ASSERT_EQ(out.datagram_count(), 1u);
        EXPECT_FALSE(out.finished);
    }
    EXPECT_EQ(now, kT0 + 5s);  // 1 + 2 + 2 (capped)
    t.step(TimerFired{}, *out.timer, out);
    EXPECT_EQ(out.datagram_count(), 0u);  // the peer is silent; nothing more is sent
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::timed_out);
    EXPECT_EQ(out.finished->retransmits, 3u);
    EXPECT_EQ(out.finished->duration, 7s);
    EXPECT_TRUE(t.done());
}

TEST(Transfer, PiEarlyTerminateAfterOackIsAClientAbort) {
    // The Pi 4 bootloader asks for tsize and blksize, reads the OACK and sends
    // ERROR 0, then asks again for the same file (DESIGN.md "Raspberry Pi specifics").
    Actions out;
    Options opts{{"tsize", "0"}, {"blksize", "1024"}};
    Transfer probe = Transfer::start(rrq(opts), pattern_file(5000), Limits{}, kT0, out);
    probe.step(ErrorPacket{ErrorCode::not_defined, ""}, kT0 + 2ms, out);
    EXPECT_EQ(out.datagram_count(), 0u);  // ERROR is never answered
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(*out.finished, (Finished{Outcome::client_aborted, 0, 0, 0, 2ms}));
    EXPECT_TRUE(probe.done());
    probe.step(Ack{0}, kT0 + 3ms, out);  // a straggler changes nothing
    EXPECT_EQ(out.datagram_count(), 0u);
    EXPECT_FALSE(out.finished);

    Transfer real = Transfer::start(rrq(opts), pattern_file(5000), Limits{}, kT0 + 5ms, out);
    real.step(Ack{0}, kT0 + 6ms, out);
    for (std::uint16_t b = 1; b <= 5; ++b) real.step(Ack{b}, kT0 + 7ms, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::completed);
}

TEST(Transfer, UefiAbortAfterTsizeIsAClientAbort) {
    // EDK2 MTFTP4 GetInfo stops after the OACK with ERROR 8 "User aborted the transfer".
    Actions out;
    Transfer t = Transfer::start(rrq({{"tsize", "0"}}), pattern_file(5000), Limits{}, kT0, out);
    t.step(ErrorPacket{ErrorCode::option_refused, "User aborted the transfer"}, kT0, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::client_aborted);
    EXPECT_EQ(out.finished->code, ErrorCode::option_refused);
    EXPECT_EQ(out.finished->message, "User aborted the transfer");
}

TEST(Transfer, ClientErrorMidTransfer) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(5000), Limits{}, kT0, out);
    t.step(Ack{1}, kT0, out);
    t.step(ErrorPacket{ErrorCode::disk_full, "no space"}, kT0 + 1s, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::client_error);
    EXPECT_EQ(out.finished->code, ErrorCode::disk_full);
    EXPECT_EQ(out.finished->bytes_acked, 512u);
    EXPECT_EQ(out.finished->bytes_sent, 1024u);
}

TEST(Transfer, StrayPacketsAreIgnored) {
    Actions out;
    Transfer t = Transfer::start(rrq(), pattern_file(5000), Limits{}, kT0, out);
    const Packet strays[] = {Data{1, {1}}, rrq(), OptionAck{{{"tsize", "1"}}},
                             WriteRequest{"x", "octet", {}}};
    for (const Packet& p : strays) {
        t.step(p, kT0, out);
        EXPECT_EQ(out.datagram_count(), 0u) << describe(p);
        EXPECT_FALSE(out.finished) << describe(p);
    }
}

TEST(Transfer, ModesOtherThanOctetAreRefused) {
    for (const char* mode : {"netascii", "mail", "binary"}) {
        Actions out;
        Transfer t =
            Transfer::start(ReadRequest{"f", mode, {}}, pattern_file(10), Limits{}, kT0, out);
        auto p = sent(out);
        ASSERT_EQ(p.size(), 1u) << mode;
        EXPECT_EQ(std::get<ErrorPacket>(p[0]).code, ErrorCode::illegal_operation) << mode;
        ASSERT_TRUE(out.finished) << mode;
        EXPECT_EQ(out.finished->outcome, Outcome::failed);
        EXPECT_TRUE(t.done());
    }
    Actions out;
    Transfer::start(ReadRequest{"f", "OCTET", {}}, pattern_file(10), Limits{}, kT0, out);
    EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});  // modes are case-insensitive
}

TEST(Transfer, ReadFailureSendsErrorAndFails) {
    for (bool short_read : {false, true}) {
        Actions out;
        FileInfo file{5000, std::make_shared<FailingSource>(5000, 512, short_read)};
        Transfer t = Transfer::start(rrq(), file, Limits{}, kT0, out);
        EXPECT_EQ(data_blocks(out), std::vector<unsigned>{1});
        t.step(Ack{1}, kT0, out);
        ASSERT_EQ(sent(out),
                  (std::vector<Packet>{ErrorPacket{ErrorCode::not_defined, "read error"}}));
        ASSERT_TRUE(out.finished);
        EXPECT_EQ(out.finished->outcome, Outcome::failed);
        EXPECT_EQ(out.finished->message,
                  short_read ? "file changed while being sent" : "pread: Input/output error");
    }
    Actions out;
    Transfer::start(rrq(), FileInfo{10, nullptr}, Limits{}, kT0, out);
    ASSERT_TRUE(out.finished);
    EXPECT_EQ(out.finished->outcome, Outcome::failed);
}

TEST(Transfer, OneSourceServesManyTransfers) {
    auto source = std::make_shared<PatternSource>(1500);
    Actions out;
    std::vector<Transfer> transfers;
    for (int i = 0; i < 100; ++i) {
        transfers.push_back(Transfer::start(rrq(), FileInfo{1500, source}, Limits{}, kT0, out));
    }
    for (Transfer& t : transfers) {
        for (std::uint16_t b = 1; b <= 3; ++b) t.step(Ack{b}, kT0, out);
        ASSERT_TRUE(out.finished);
        EXPECT_EQ(out.finished->outcome, Outcome::completed);
    }
    EXPECT_EQ(source->reads, 300u);
    EXPECT_EQ(source.use_count(), 101);  // shared, never copied
}

TEST(Transfer, BlockCountAndRollover) {
    EXPECT_EQ(block_count(0, 512), 1u);
    EXPECT_EQ(block_count(511, 512), 1u);
    EXPECT_EQ(block_count(512, 512), 2u);
    EXPECT_FALSE(needs_rollover(65534ull * 1024, 1024));
    EXPECT_TRUE(needs_rollover(65535ull * 1024, 1024));  // 65536 blocks with the empty one
    EXPECT_EQ(std::string(outcome_name(Outcome::client_aborted)), "client_aborted");
}

}  // namespace
}  // namespace pib::tftp
