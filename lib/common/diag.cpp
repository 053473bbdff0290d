#include "common/diag.hpp"

namespace pib {

std::string Diagnostic::str() const {
    std::string s = file;
    if (line > 0) {
        s += ':' + std::to_string(line);
        if (col > 0) s += ':' + std::to_string(col);
    }
    s += ": ";
    s += message;
    return s;
}

std::string Diagnostics::str() const {
    std::string s;
    for (const auto& d : items_) {
        s += d.str();
        s += '\n';
    }
    return s;
}

}  // namespace pib
