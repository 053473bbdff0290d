#include "tftp/transfer.hpp"

#include <algorithm>
#include <variant>

namespace pib::tftp {

namespace {

// Block numbers wrap from 65535 to 0, as dnsmasq and tftp-hpa do (and the only
// choice a client that counts modulo 2^16 follows); see docs/decisions.md.
std::uint16_t wire_block(std::uint64_t absolute) {
    return static_cast<std::uint16_t>(absolute & 0xffff);
}

constexpr std::uint64_t kMaxTimeoutSeconds = 255;  // RFC 2349: 1..255 seconds
constexpr std::uint64_t kMaxWindowsize = 65535;    // RFC 7440: 1..65535 blocks

}  // namespace

std::uint16_t blksize_for_mtu(unsigned mtu) {
    constexpr unsigned kHeaders = 20 + 8 + 4;
    unsigned size = mtu > kHeaders ? mtu - kHeaders : 0;
    return static_cast<std::uint16_t>(std::clamp<unsigned>(size, kMinBlksize, kMaxBlksize));
}

Negotiated negotiate(const Options& requested, std::uint64_t file_size, const Limits& limits) {
    Negotiated n;
    n.timeout = std::max(limits.default_timeout, std::chrono::milliseconds(1));
    const std::uint16_t blksize_cap = std::clamp(limits.max_blksize, kMinBlksize, kMaxBlksize);
    const std::uint16_t window_cap = std::max<std::uint16_t>(limits.max_windowsize, 1);

    for (const Option& o : requested.entries()) {
        auto value = parse_decimal(o.value);
        if (!value) continue;  // a value that is not a number: leave the option out
        if (iequals(o.name, "blksize")) {
            // RFC 2348: the server may answer with a smaller size, never a larger one, so
            // a request below 8 cannot be clamped up; it is ignored (512 applies).
            if (*value < kMinBlksize) continue;
            n.blksize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, blksize_cap));
            n.oack.set(o.name, std::to_string(n.blksize));
        } else if (iequals(o.name, "tsize")) {
            // RFC 2349: in a read request the client sends 0 and the server answers
            // with the file size. The Pi bootloader and UEFI's GetInfo may stop right
            // after reading it (see step()).
            n.oack.set(o.name, std::to_string(file_size));
        } else if (iequals(o.name, "timeout")) {
            // RFC 2349: 1..255 seconds; the OACK must carry the same value.
            if (*value < 1 || *value > kMaxTimeoutSeconds) continue;
            n.timeout = std::chrono::seconds(*value);
            n.oack.set(o.name, o.value);
        } else if (iequals(o.name, "windowsize")) {
            // RFC 7440 §3: the server may answer with a smaller window.
            if (*value < 1 || *value > kMaxWindowsize) continue;
            n.windowsize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*value, window_cap));
            n.oack.set(o.name, std::to_string(n.windowsize));
        }
        // Anything else (multicast, utimeout, rollover, ...) is not acknowledged.
    }
    return n;
}

const char* outcome_name(Outcome outcome) {
    switch (outcome) {
        case Outcome::completed:
            return "completed";
        case Outcome::client_aborted:
            return "client_aborted";
        case Outcome::client_error:
            return "client_error";
        case Outcome::timed_out:
            return "timed_out";
        case Outcome::failed:
            return "failed";
    }
    return "unknown";
}

void Actions::clear() {
    buffer_.clear();
    spans_.clear();
    timer.reset();
    finished.reset();
}

std::span<std::uint8_t> Actions::add_datagram(std::size_t size) {
    std::size_t offset = buffer_.size();
    buffer_.resize(offset + size);
    spans_.push_back(Span{offset, size});
    return std::span(buffer_).subspan(offset, size);
}

void Actions::add_packet(const Packet& packet) {
    std::size_t offset = buffer_.size();
    encode_into(packet, buffer_);
    spans_.push_back(Span{offset, buffer_.size() - offset});
}

std::uint64_t block_count(std::uint64_t size, std::uint16_t blksize) {
    return size / std::max<std::uint16_t>(blksize, 1) + 1;
}

bool needs_rollover(std::uint64_t size, std::uint16_t blksize) {
    return block_count(size, blksize) > 0xffff;
}

Transfer::Transfer(FileInfo file, Negotiated params, const Limits& limits, TimePoint now)
    : file_(std::move(file)),
      params_(std::move(params)),
      max_backoff_(limits.max_backoff),
      max_retransmits_(limits.max_retransmits),
      started_(now),
      deadline_(now),
      last_block_(block_count(file_.size, params_.blksize)) {}

Transfer Transfer::start(const ReadRequest& request, FileInfo file, const Limits& limits,
                         TimePoint now, Actions& out) {
    out.clear();
    // Netascii would rewrite line ends, which changes offsets and sizes; nothing a
    // network boot fetches is text for a foreign host, so only octet is served.
    // tftp-hpa answers an unknown mode with the same code (4).
    if (!iequals(request.mode, "octet")) {
        Transfer t(std::move(file), Negotiated{}, limits, now);
        t.refuse(ErrorCode::illegal_operation,
                 "mode " + sanitize(request.mode) + " not supported, use octet", now, out);
        return t;
    }
    if (!file.source) {
        Transfer t(std::move(file), Negotiated{}, limits, now);
        t.refuse(ErrorCode::not_defined, "file not readable", now, out);
        return t;
    }
    Negotiated params = negotiate(request.options, file.size, limits);
    Transfer t(std::move(file), std::move(params), limits, now);
    if (!t.params_.oack.empty()) {
        // RFC 2347: OACK only when an option was accepted; DATA 1 waits for ACK 0.
        t.state_ = State::awaiting_oack_ack;
        out.add_packet(OptionAck{t.params_.oack});
    } else {
        t.state_ = State::sending;
        if (!t.send_blocks(1, t.window_end(), now, out)) {
            return t;
        }
    }
    t.arm(now, out);
    return t;
}

std::optional<TimePoint> Transfer::deadline() const {
    if (done()) return std::nullopt;
    return deadline_;
}

void Transfer::step(const Packet& packet, TimePoint now, Actions& out) {
    out.clear();
    if (done()) return;
    if (const auto* ack = std::get_if<Ack>(&packet)) {
        on_ack(ack->block, now, out);
    } else if (const auto* err = std::get_if<ErrorPacket>(&packet)) {
        // Before any DATA the client only wanted the OACK: the Pi 4 bootloader reads
        // tsize and sends ERROR 0 ("early terminate", then retries); UEFI's MTFTP
        // GetInfo sends ERROR 8 "User aborted the transfer". Both are normal.
        Outcome outcome =
            state_ == State::awaiting_oack_ack ? Outcome::client_aborted : Outcome::client_error;
        finish(outcome, now, out, err->code, err->message);
    }
    // Anything else on the transfer's port (DATA, a repeated RRQ, OACK) is ignored:
    // answering it with ERROR would end a transfer a confused peer could still finish.
}

void Transfer::on_ack(std::uint16_t block, TimePoint now, Actions& out) {
    if (state_ == State::awaiting_oack_ack) {
        if (block != 0) return;
        state_ = State::sending;
        attempts_ = 0;
        if (!send_blocks(1, window_end(), now, out)) return;
        arm(now, out);
        return;
    }
    // Map the 16-bit number onto the blocks in flight, (acked_, sent_]; the window is
    // below 65536 blocks, so the mapping is unique across rollover.
    std::uint64_t ahead = static_cast<std::uint16_t>(block - wire_block(acked_));
    if (ahead == 0 || ahead > sent_ - acked_) {
        // A duplicate or old ACK. Answering it would double every later block
        // (Sorcerer's Apprentice, RFC 1123 §4.2.3.1): the timer alone retransmits.
        return;
    }
    acked_ += ahead;
    attempts_ = 0;
    report_.bytes_acked = std::min(acked_ * params_.blksize, file_.size);
    if (acked_ == last_block_) {
        finish(Outcome::completed, now, out);
        return;
    }
    // RFC 7440: an ACK inside the window slides it; only blocks beyond what is in
    // flight are sent now (see docs/decisions.md for why no immediate resend).
    if (!send_blocks(sent_ + 1, window_end(), now, out)) return;
    arm(now, out);
}

void Transfer::step(TimerFired, TimePoint now, Actions& out) {
    out.clear();
    if (done()) return;
    if (now < deadline_) {
        out.timer = deadline_;
        return;
    }
    if (attempts_ >= max_retransmits_) {
        finish(Outcome::timed_out, now, out);
        return;
    }
    ++attempts_;
    if (state_ == State::awaiting_oack_ack) {
        out.add_packet(OptionAck{params_.oack});
        ++report_.retransmits;
    } else {
        // Go back to the last acknowledged block and send the whole window again.
        report_.retransmits += sent_ - acked_;
        if (!send_blocks(acked_ + 1, window_end(), now, out)) return;
    }
    arm(now, out);
}

bool Transfer::send_blocks(std::uint64_t first, std::uint64_t last, TimePoint now, Actions& out) {
    for (std::uint64_t n = first; n <= last; ++n) {
        std::uint64_t offset = (n - 1) * params_.blksize;
        std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(params_.blksize, file_.size - offset));
        std::span<std::uint8_t> dgram = out.add_datagram(4 + len);
        dgram[0] = 0;
        dgram[1] = static_cast<std::uint8_t>(Opcode::data);
        dgram[2] = static_cast<std::uint8_t>(wire_block(n) >> 8);
        dgram[3] = static_cast<std::uint8_t>(wire_block(n) & 0xff);
        Result<std::size_t> got = file_.source->read(offset, dgram.subspan(4));
        if (!got || *got != len) {
            // The file shrank or the disk failed under a transfer: tell the client
            // rather than send a short block it would take for the end of the file.
            std::string why = got ? "file changed while being sent" : got.error().message;
            // The client gets a plain "read error"; the report keeps the reason.
            out.clear();
            out.add_packet(ErrorPacket{ErrorCode::not_defined, "read error"});
            finish(Outcome::failed, now, out, ErrorCode::not_defined, std::move(why));
            return false;
        }
        report_.bytes_sent += len;
        sent_ = std::max(sent_, n);
    }
    return true;
}

std::uint64_t Transfer::window_end() const {
    return std::min(acked_ + params_.windowsize, last_block_);
}

void Transfer::arm(TimePoint now, Actions& out) {
    // Exponential back-off from the negotiated timeout, reset by every ACK that
    // makes progress and capped (RFC 1123 §4.2.3.2 asks for an adaptive timeout).
    const auto base = params_.timeout;
    const auto cap = std::max(max_backoff_, base);
    auto interval = base;
    for (unsigned i = 0; i < attempts_ && interval < cap; ++i) interval *= 2;
    deadline_ = now + std::min(interval, cap);
    out.timer = deadline_;
}

void Transfer::finish(Outcome outcome, TimePoint now, Actions& out, ErrorCode code,
                      std::string message) {
    state_ = State::done;
    report_.outcome = outcome;
    report_.code = code;
    report_.message = std::move(message);
    report_.duration = std::chrono::duration_cast<std::chrono::milliseconds>(now - started_);
    out.timer.reset();
    out.finished = report_;
}

void Transfer::refuse(ErrorCode code, std::string message, TimePoint now, Actions& out) {
    out.add_packet(ErrorPacket{code, message});
    finish(Outcome::failed, now, out, code, std::move(message));
}

}  // namespace pib::tftp
