// Checks shared by the fuzz targets of person-written files (recipe, netbootd
// config, inventory): what every parse must satisfy, accepted or refused.
#pragma once

#include <algorithm>
#include <string_view>

#include "common/diag.hpp"
#include "common/result.hpp"

namespace pib::fuzz {

/// Stops the fuzzer with a crash (libFuzzer keeps the input) when `ok` is false.
inline void check(bool ok) {
    if (!ok) __builtin_trap();
}

/// Every diagnostic names `file`, says something, and points into the text:
/// 1-based, at most one line past the end (yaml-cpp marks the end of input
/// there); line and column are 0 together, for "position unknown".
inline void check_diagnostics(const Diagnostics& diags, std::string_view text,
                              std::string_view file) {
    const auto lines = static_cast<int>(std::count(text.begin(), text.end(), '\n'));
    for (const auto& d : diags.items()) {
        check(d.file == file);
        check(!d.message.empty());
        check(d.line >= 0 && d.line <= lines + 2);
        check(d.col >= 0);
        check((d.line == 0) == (d.col == 0));
    }
}

/// A parse either succeeds without a word or fails as Errc::invalid with at
/// least one diagnostic (STYLE.md rule 7). Returns whether it succeeded.
template <class T>
bool check_outcome(const Result<T>& r, const Diagnostics& diags, std::string_view text,
                   std::string_view file) {
    check_diagnostics(diags, text, file);
    if (!r)
        check(r.error().code == Errc::invalid && !diags.empty());
    else
        check(diags.empty());
    return r.ok();
}

}  // namespace pib::fuzz
