// Shared pieces of the TFTP tests: block sources generated on the fly, a
// fake clock, and decoding of what a Transfer asked the server to send.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <ostream>
#include <vector>

#include "tftp/packet.hpp"
#include "tftp/transfer.hpp"

namespace pib::tftp {

/// gtest prints packets in failure messages through describe().
inline void PrintTo(const Packet& p, std::ostream* os) { *os << describe(p); }

}  // namespace pib::tftp

namespace pib::tftp::test {

using namespace std::chrono_literals;

/// The byte a PatternSource holds at `offset`: varies within and across blocks and
/// across the 65536-block rollover, so a misplaced block cannot go unnoticed.
inline std::uint8_t pattern_byte(std::uint64_t offset) {
    return static_cast<std::uint8_t>((offset * 131) ^ (offset >> 9) ^ (offset >> 25));
}

/// A file of `size` pattern bytes computed on demand (no memory per byte), counting reads.
class PatternSource : public BlockSource {
public:
    explicit PatternSource(std::uint64_t size) : size_(size) {}
    Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> out) const override {
        ++reads;
        if (offset > size_) return std::size_t{0};
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
        for (std::size_t i = 0; i < n; ++i) out[i] = pattern_byte(offset + i);
        return n;
    }
    mutable std::uint64_t reads = 0;

private:
    std::uint64_t size_;
};

/// A source whose reads fail, or come up short, from `fail_at` on.
class FailingSource : public PatternSource {
public:
    FailingSource(std::uint64_t size, std::uint64_t fail_at, bool short_read)
        : PatternSource(size), fail_at_(fail_at), short_read_(short_read) {}
    Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> out) const override {
        if (offset < fail_at_) return PatternSource::read(offset, out);
        if (short_read_) return std::size_t{0};
        return fail(Errc::io, "pread: Input/output error");
    }

private:
    std::uint64_t fail_at_;
    bool short_read_;
};

/// A file of `size` pattern bytes.
inline FileInfo pattern_file(std::uint64_t size) {
    return FileInfo{size, std::make_shared<PatternSource>(size)};
}

/// An arbitrary fixed start time; tests advance it by hand.
inline const TimePoint kT0 = TimePoint{} + 1000s;

/// An octet RRQ for "f" with the given options.
inline ReadRequest rrq(Options options = {}) {
    return ReadRequest{"f", "octet", std::move(options)};
}

/// Every datagram of `out`, decoded.
inline std::vector<Packet> sent(const Actions& out) {
    std::vector<Packet> packets;
    for (std::size_t i = 0; i < out.datagram_count(); ++i) {
        auto p = decode(out.datagram(i));
        EXPECT_TRUE(p.ok()) << p.error().message;
        if (p) packets.push_back(std::move(*p));
    }
    return packets;
}

/// The DATA block numbers `out` sends, in order; fails the test on any other packet.
inline std::vector<unsigned> data_blocks(const Actions& out) {
    std::vector<unsigned> blocks;
    for (const Packet& p : sent(out)) {
        const Data* d = std::get_if<Data>(&p);
        EXPECT_NE(d, nullptr) << describe(p);
        if (d) blocks.push_back(d->block);
    }
    return blocks;
}

/// The one DATA packet `out` sends; an empty one (and a test failure) otherwise.
inline Data only_data(const Actions& out) {
    auto packets = sent(out);
    if (packets.size() != 1 || !std::holds_alternative<Data>(packets[0])) {
        ADD_FAILURE() << "expected one DATA, got " << packets.size() << " packets";
        return Data{};
    }
    return std::get<Data>(packets[0]);
}

/// True when `d` carries exactly the pattern bytes that belong at `offset`.
inline bool holds_pattern(const Data& d, std::uint64_t offset) {
    for (std::size_t i = 0; i < d.payload.size(); ++i) {
        if (d.payload[i] != pattern_byte(offset + i)) return false;
    }
    return true;
}

}  // namespace pib::tftp::test
