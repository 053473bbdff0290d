// A position in a file a person wrote, for diagnostics (STYLE.md rule 7).
#pragma once

namespace pib {

/// 1-based line and column; 0 = unknown.
struct SourcePos {
    int line = 0;
    int col = 0;
    bool operator==(const SourcePos&) const = default;
};

}  // namespace pib
