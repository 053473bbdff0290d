// libFuzzer target for the TFTP core: any datagram must decode to a packet or a
// clean error; a decoded packet must re-encode to bytes that decode to the same
// packet; names go through the path gate; requests and follow-up packets drive
// a transfer, which must never read outside its file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>

#include "tftp/packet.hpp"
#include "tftp/path.hpp"
#include "tftp/transfer.hpp"

namespace {

using namespace pib::tftp;

// A file whose reads abort when a transfer asks for anything past its end.
class CheckedSource : public BlockSource {
public:
    explicit CheckedSource(std::uint64_t size) : size_(size) {}
    pib::Result<std::size_t> read(std::uint64_t offset,
                                  std::span<std::uint8_t> out) const override {
        if (offset > size_ || out.size() > size_ - offset) std::abort();
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(offset + i);
        return n;
    }

private:
    std::uint64_t size_;
};

void check_round_trip(const Packet& p) {
    std::vector<std::uint8_t> wire = encode(p);
    auto again = decode(wire);
    if (!again.ok() || !(*again == p)) std::abort();
    (void)describe(p);
}

// A normalised path is relative, has no empty, "." or ".." component, no '\\'.
void check_clean_path(std::string_view path) {
    if (path.empty() || path.find('\\') != std::string_view::npos) std::abort();
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t end = std::min(path.find('/', pos), path.size());
        std::string_view part = path.substr(pos, end - pos);
        if (part.empty() || part == "." || part == "..") std::abort();
        pos = end + 1;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::span<const std::uint8_t> input(data, size);
    auto packet = decode(input);
    if (!packet.ok()) return 0;
    check_round_trip(*packet);

    const auto* rrq = std::get_if<ReadRequest>(&*packet);
    if (!rrq) return 0;
    if (auto clean = normalize_path(rrq->filename); clean.ok()) {
        check_clean_path(*clean);
        (void)parse_pi_path(*clean);
    }

    // Drive a transfer of a file sized from the request, answering with ACKs derived
    // from the request bytes and firing the timer now and then.
    const std::uint64_t file_size = (size * 977) % 200000;
    Limits limits;
    limits.max_retransmits = 2;
    Actions out;
    TimePoint now{};
    Transfer t = Transfer::start(
        *rrq, FileInfo{file_size, std::make_shared<CheckedSource>(file_size)}, limits, now, out);
    for (std::size_t i = 0; i + 1 < size && !t.done(); i += 2) {
        now += std::chrono::milliseconds(data[i]);
        if (data[i] % 7 == 0) {
            t.step(TimerFired{}, now + std::chrono::seconds(30), out);
        } else {
            t.step(Ack{static_cast<std::uint16_t>(data[i] << 8 | data[i + 1])}, now, out);
        }
        for (std::size_t d = 0; d < out.datagram_count(); ++d) {
            if (!decode(out.datagram(d)).ok()) std::abort();
        }
    }
    return 0;
}
