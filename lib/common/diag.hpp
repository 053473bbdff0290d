// Diagnostics for files a person wrote (recipes, inventories, configs):
// every problem found, each as `path:line:col: message` (STYLE.md rule 7).
#pragma once

#include <string>
#include <vector>

namespace pib {

/// One problem in a person-written file. line and col are 1-based; 0 = unknown.
struct Diagnostic {
    std::string file;
    int line = 0;
    int col = 0;
    std::string message;

    /// `file:line:col: message` (or `file: message` when the position is unknown).
    std::string str() const;
    bool operator==(const Diagnostic&) const = default;
};

/// Collects diagnostics so that all of them can be reported at once.
class Diagnostics {
public:
    void add(Diagnostic d) { items_.push_back(std::move(d)); }
    void add(std::string file, int line, int col, std::string message) {
        items_.push_back(Diagnostic{std::move(file), line, col, std::move(message)});
    }
    bool empty() const { return items_.empty(); }
    std::size_t size() const { return items_.size(); }
    const std::vector<Diagnostic>& items() const { return items_; }
    /// All diagnostics, one per line, in the order found.
    std::string str() const;

private:
    std::vector<Diagnostic> items_;
};

}  // namespace pib
