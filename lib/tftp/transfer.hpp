// One read transfer as a pure state machine (STYLE.md rule 4): the server feeds it
// events (a packet from the client's TID, a timer that fired) together with the
// current time, and carries out the actions it returns (send these datagrams, arm
// the timer at T, the transfer is over). No sockets, no clock reads, no files:
// file bytes come through a BlockSource that many transfers may share. Option
// negotiation (RFC 2347 with 2348 blksize, 2349 tsize/timeout, 7440 windowsize)
// decides whether the transfer opens with an OACK or with DATA 1.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "tftp/packet.hpp"

namespace pib::tftp {

/// Server-side bounds for every transfer; typically one per listening interface.
struct Limits {
    /// Largest blksize granted: the interface MTU minus IP, UDP and TFTP headers
    /// (dnsmasq clamps the same way; 1468 on Ethernet). See blksize_for_mtu().
    std::uint16_t max_blksize = 1468;
    /// Largest windowsize granted (RFC 7440); a client asking for more gets this.
    std::uint16_t max_windowsize = 64;
    /// Retransmission interval when the client negotiates no timeout option.
    std::chrono::milliseconds default_timeout{1000};
    /// Back-off cap: the interval doubles per retransmission up to this, or up to the
    /// negotiated timeout when that is larger.
    std::chrono::milliseconds max_backoff{8000};
    /// Retransmissions in a row without progress before the transfer ends as timed out.
    unsigned max_retransmits = 5;
};

/// blksize that fits one unfragmented datagram on a link: MTU - 20 (IPv4) - 8 (UDP)
/// - 4 (TFTP header), clamped to RFC 2348's 8..65464.
std::uint16_t blksize_for_mtu(unsigned mtu);

/// The outcome of negotiation: transfer parameters and the OACK options.
struct Negotiated {
    std::uint16_t blksize = kDefaultBlksize;
    std::uint16_t windowsize = 1;
    std::chrono::milliseconds timeout{1000};
    /// Accepted options in request order and spelling; empty means no OACK is sent
    /// and the transfer starts with DATA 1 (RFC 2347: options not acknowledged are off).
    Options oack;
    bool operator==(const Negotiated&) const = default;
};

/// Negotiates the options of a read request for a file of `file_size` bytes.
/// Unknown options and malformed or out-of-range values are ignored, never an error:
/// RFC 2347 lets a server leave out any option it does not accept.
Negotiated negotiate(const Options& requested, std::uint64_t file_size, const Limits& limits);

using Clock = std::chrono::steady_clock;
/// Times are passed in by the caller; the core never reads a clock.
using TimePoint = Clock::time_point;

/// Random-access reader of one file's bytes (pread-like). One open file can serve
/// every transfer of it at once, as dnsmasq shares files in a boot storm.
class BlockSource {
public:
    virtual ~BlockSource() = default;
    /// Fills `out` with the bytes at `offset` and returns how many it wrote; fewer
    /// than out.size() only at the end of the file.
    virtual Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> out) const = 0;
};

/// The file a request resolved to: its size (answered as tsize) and its bytes.
struct FileInfo {
    std::uint64_t size = 0;
    std::shared_ptr<const BlockSource> source;
    /// Who asked and what it boots, for the server's log lines ("" = unknown).
    std::string node;
    std::string release;
};

/// How a transfer ended.
enum class Outcome {
    completed,       ///< the client acknowledged the last block
    client_aborted,  ///< ERROR before any DATA: Pi early terminate, UEFI after tsize; normal
    client_error,    ///< ERROR from the client once DATA was flowing
    timed_out,       ///< max_retransmits in a row without progress
    failed,          ///< refused here (mode, source) or the source failed; ERROR was sent
};

/// Short lower-case name of an outcome, for logs (`result=client_aborted`).
const char* outcome_name(Outcome outcome);

/// The final report of a transfer, for the `tftp transfer_done` log line and metrics.
struct Finished {
    Outcome outcome = Outcome::completed;
    std::uint64_t bytes_acked = 0;  ///< file bytes the client acknowledged
    std::uint64_t bytes_sent = 0;   ///< DATA payload bytes sent, retransmissions included
    std::uint64_t retransmits = 0;  ///< packets (OACK or DATA) sent again after a timeout
    std::chrono::milliseconds duration{0};
    ErrorCode code = ErrorCode::not_defined;  ///< the client's or our ERROR code, if any
    std::string message;                      ///< the client's or our ERROR message, if any
    bool operator==(const Finished&) const = default;
};

/// What the server must do after one call into a Transfer. One Actions object is meant
/// to be reused across all transfers of an event loop: each call replaces its contents,
/// and its buffer stops allocating once it has grown to one window.
class Actions {
public:
    /// Datagrams to send to the transfer's peer, in order (a whole window with RFC 7440).
    std::size_t datagram_count() const { return spans_.size(); }
    std::span<const std::uint8_t> datagram(std::size_t i) const {
        return std::span(buffer_).subspan(spans_[i].offset, spans_[i].size);
    }
    /// When set: (re)arm this transfer's single timer for this time, replacing any earlier one.
    std::optional<TimePoint> timer;
    /// When set: the transfer is over; cancel its timer and destroy it.
    std::optional<Finished> finished;

    /// Empties everything; every Transfer call starts with this.
    void clear();
    /// Appends a datagram of `size` bytes and returns it for filling.
    std::span<std::uint8_t> add_datagram(std::size_t size);
    /// Appends an encoded packet as a datagram.
    void add_packet(const Packet& packet);

private:
    struct Span {
        std::size_t offset;
        std::size_t size;
    };
    std::vector<std::uint8_t> buffer_;
    std::vector<Span> spans_;
};

/// Fired by the server when the time from Actions::timer is reached.
struct TimerFired {};

/// Number of DATA blocks for a file: always size / blksize + 1, since the last block is
/// short, and empty when size is a multiple of blksize (RFC 1350 §6).
std::uint64_t block_count(std::uint64_t size, std::uint16_t blksize);
/// True when the file needs more than 65535 blocks, so block numbers wrap around.
/// Some Raspberry Pi bootloader versions cannot follow (issue 3): worth a warning.
bool needs_rollover(std::uint64_t size, std::uint16_t blksize);

/// A read transfer (RRQ) from start to finish. Small (~200 bytes) and movable;
/// holds no buffers, so thousands can live on one event loop.
class Transfer {
public:
    /// Accepts or refuses `request` for `file`: `out` gets the OACK or DATA 1 and the first
    /// timer, or an ERROR and `finished` (mode other than octet, no source).
    static Transfer start(const ReadRequest& request, FileInfo file, const Limits& limits,
                          TimePoint now, Actions& out);

    /// A packet that arrived from the client's TID (decoded by the server). ACKs advance
    /// the transfer; an ERROR ends it; duplicates, old ACKs and anything else are ignored.
    void step(const Packet& packet, TimePoint now, Actions& out);
    /// The armed timer fired: retransmit with back-off, or finish as timed out. A firing
    /// before the deadline (coarse timer wheels) only re-arms it.
    void step(TimerFired, TimePoint now, Actions& out);

    bool done() const { return state_ == State::done; }
    /// The armed deadline (for lazy timer heaps that re-check on pop).
    std::optional<TimePoint> deadline() const;
    const Negotiated& negotiated() const { return params_; }
    std::uint64_t file_size() const { return file_.size; }

private:
    enum class State { awaiting_oack_ack, sending, done };

    Transfer(FileInfo file, Negotiated params, const Limits& limits, TimePoint now);

    void on_ack(std::uint16_t block, TimePoint now, Actions& out);
    bool send_blocks(std::uint64_t first, std::uint64_t last, TimePoint now, Actions& out);
    void arm(TimePoint now, Actions& out);
    /// Last block of the window that starts after the last acknowledged block.
    std::uint64_t window_end() const;
    void finish(Outcome outcome, TimePoint now, Actions& out,
                ErrorCode code = ErrorCode::not_defined, std::string message = {});
    void refuse(ErrorCode code, std::string message, TimePoint now, Actions& out);

    FileInfo file_;
    Negotiated params_;
    std::chrono::milliseconds max_backoff_;
    unsigned max_retransmits_;
    State state_ = State::sending;
    TimePoint started_;
    TimePoint deadline_;
    std::uint64_t last_block_ = 1;  // absolute number of the final (short) block
    std::uint64_t acked_ = 0;       // highest absolute block acknowledged
    std::uint64_t sent_ = 0;        // highest absolute block sent
    unsigned attempts_ = 0;         // timeouts in a row without progress
    Finished report_;
};

}  // namespace pib::tftp
