// The decision of `pib-agent watch` (docs/boot.md "On-node agent"): reboot
// into a new release only when netbootd would serve this node another release
// than the one it booted and the node's local time is inside its channel's
// maintenance window. Pure: the runner fetches the node document and the clock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pib::client::agent {

/// What GET /api/v1/nodes/<node> says about this node (docs/netbootd.md).
struct NodeDoc {
    /// "release": what netbootd serves the node at its next boot (a verified
    /// release); nullopt when it serves none.
    std::optional<std::string> served;
    /// "desired_release": what the fleet state asks for (for the log only: a
    /// desired release netbootd cannot serve is not worth a reboot).
    std::optional<std::string> desired;
    /// "window": the channel's maintenance window "HH:MM-HH:MM"; nullopt = none.
    std::optional<std::string> window;
};

/// Parses the node document; Errc::corrupted when it is not a JSON object or
/// a field has the wrong type.
Result<NodeDoc> parse_node_doc(std::string_view body);

struct WatchDecision {
    bool reboot = false;
    std::string reason;  ///< one line for the log
};

/// `booted` is pib.release of the running boot; `minute_of_day` the node's
/// local time (0..1439). No window means never: the node picks the release
/// up at its next reboot. A malformed window also means never (and says so).
WatchDecision decide(std::string_view booted, const NodeDoc& doc, int minute_of_day);

/// "HH:MM" for a minute of the day, for log lines.
std::string hhmm(int minute_of_day);

}  // namespace pib::client::agent
