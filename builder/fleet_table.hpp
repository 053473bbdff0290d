// How the fleet commands present state to a person: aligned text tables and
// short forms of release ids and times. The JSON output does not use these.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace pib::cli {

/// Columns aligned to their widest cell, two spaces apart, header in capitals.
class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    /// Writes the table; `empty_note` instead when it has no rows.
    void print(std::FILE* out, const char* empty_note = nullptr) const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

/// "demo-1.0-3f2a9c" from "demo-1.0-3f2a9c81d2e4": the content hash cut to 6
/// hex digits; other text unchanged; "" -> "-".
std::string short_release(const std::string& id);

/// "12s ago", "5m ago", "3h ago", "2d ago", "in 40s"; "never" for 0.
std::string relative_time(std::int64_t at, std::int64_t now);

/// "2026-11-24 04:56:18" (UTC).
std::string utc_time(std::int64_t at);

}  // namespace pib::cli
