// The fleet state: where channels point, and what nodes reported. One
// interface (STYLE.md rule 5) so that a fleet spanning several boot servers
// can later keep it in a database server; SQLite (<store>/state.db, WAL) here.
// Every change is one transaction; readers (netbootd) and writers (the CLI)
// may use it at the same time from different processes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace pib::store {

/// A report a node sent (from its initramfs, or from the on-node health service).
struct BootReport {
    std::string node;
    std::string release;
    std::string kind = "boot";  ///< "boot" or "health"
    bool healthy = true;
    std::int64_t at = 0;        ///< unix seconds when received
    std::string address;        ///< where it came from
    std::string detail_json;    ///< the report's JSON body as received (timings, messages)
};

class FleetState {
public:
    virtual ~FleetState() = default;

    /// The release `channel` points at; nullopt when the channel was never set.
    virtual Result<std::optional<std::string>> channel_release(std::string_view channel) = 0;
    /// Every channel and its release.
    virtual Result<std::map<std::string, std::string>> channels() = 0;
    /// Points `channel` at `release` (recorded in history with `who`).
    virtual Status set_channel(std::string_view channel, std::string_view release, std::string_view who) = 0;

    virtual Status add_report(const BootReport& report) = 0;
    /// The newest report of `node`, if any.
    virtual Result<std::optional<BootReport>> last_report(std::string_view node) = 0;
    /// The newest report of every node that sent one.
    virtual Result<std::map<std::string, BootReport>> last_reports() = 0;

    /// A number that changes whenever another connection commits a change
    /// (SQLite's data_version), so a reader can cache and notice changes cheaply.
    virtual Result<std::uint64_t> change_counter() = 0;
};

/// Opens (creating when absent) the SQLite state at `db`.
Result<std::unique_ptr<FleetState>> open_sqlite_state(const std::filesystem::path& db);

}  // namespace pib::store
