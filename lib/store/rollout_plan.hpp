// Turning what an operator types into a rollout plan: the waves spec
// ("1,10%,50%,100%", cumulative targets), durations ("10m") and the split of
// a channel's nodes into waves. Pure functions, no database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::store {

/// One cumulative target: after this wave, `value` nodes (or `value` percent
/// of the nodes, rounded up) are on the new release.
struct WaveTarget {
    int value = 0;
    bool percent = false;
    bool operator==(const WaveTarget&) const = default;
};

/// The default waves spec of `pibuild rollout`.
inline constexpr const char* kDefaultWaves = "1,10%,50%,100%";

/// Parses "1,10%,50%,100%": counts >= 1, percentages 1..100, each strictly
/// greater than the previous target of the same kind. Errc::invalid naming
/// the bad item otherwise.
Result<std::vector<WaveTarget>> parse_waves(std::string_view spec);

/// Splits `nodes` (in the order given; callers sort by name) into waves by
/// the cumulative targets. A target that adds no node over the previous one
/// (e.g. 10% of 5 nodes after 1) is skipped. Errc::invalid when the targets
/// decrease once resolved, when the last target does not cover every node
/// (the message says to end with 100%), or when there are no nodes.
Result<std::vector<std::vector<std::string>>> split_waves(const std::vector<WaveTarget>& targets,
                                                          const std::vector<std::string>& nodes);

/// Parses a duration: "90" or "90s" seconds, "10m", "2h", "1h30m". Positive.
Result<std::int64_t> parse_duration(std::string_view text);

/// "1h30m", "10m", "45s": the shortest form parse_duration reads back.
std::string format_duration(std::int64_t seconds);

}  // namespace pib::store
