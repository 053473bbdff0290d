// The key reference of docs/recipe.md, rendered from the key tables.
// tests/recipe/recipe_docs_test.cpp fails when the checked-in docs differ.
#include <algorithm>

#include "builder/recipe_schema.hpp"

namespace pib {

namespace {

// A table cell: pipes would end the cell, line breaks the row.
std::string cell(std::string_view text) {
    std::string s;
    for (char c : text) {
        if (c == '|') s += "\\|";
        else if (c == '\n') s += ' ';
        else s += c;
    }
    return s;
}

std::string code(std::string_view text) { return "`" + cell(text) + "`"; }

std::string default_cell(const recipe::KeyDoc& k) {
    if (k.required) return "**required**";
    if (!k.default_yaml.empty()) return code(k.default_yaml);
    if (!k.default_note.empty()) return cell(k.default_note);
    return "none";
}

}  // namespace

std::string recipe_reference_markdown() {
    std::vector<recipe::MapDoc> maps = recipe::recipe_maps();
    std::vector<recipe::MapDoc> steps = recipe::step_maps();
    // Steps come after the top level and base, before boot, as in a recipe.
    auto boot = std::find_if(maps.begin(), maps.end(), [](const auto& m) { return m.path == "boot"; });
    maps.insert(boot, steps.begin(), steps.end());

    std::string out;
    for (const auto& m : maps) {
        out += "### " + (m.path.empty() ? std::string("Top level") : code(m.path)) + "\n\n";
        if (!m.doc.empty()) out += std::string(m.doc) + "\n";
        if (m.one_of) out += "Exactly one of these keys is given.\n";
        if (!m.doc.empty() || m.one_of) out += "\n";
        out += "| key | type | default | meaning | example |\n";
        out += "|-----|------|---------|---------|---------|\n";
        for (const auto& k : m.keys) {
            out += "| " + code(k.name) + " | " + cell(k.type) + " | " + default_cell(k) + " | " + cell(k.doc) +
                   " | " + code(k.example) + " |\n";
        }
        out += "\n";
    }
    return out;
}

}  // namespace pib
