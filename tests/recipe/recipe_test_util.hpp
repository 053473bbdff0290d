// Helpers for the recipe tests: parse text, get the diagnostics as strings.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "builder/recipe.hpp"

namespace pib {

// Readable failure output for the model's value types (found by ADL).
inline void PrintTo(const SourcePos& p, std::ostream* os) { *os << p.line << ':' << p.col; }
inline void PrintTo(const Source& s, std::ostream* os) {
    *os << "Source{" << s.location << ", sha256=" << s.sha256.value_or("-") << ", @" << s.pos.line
        << ':' << s.pos.col << '}';
}
inline void PrintTo(const DirectoryBase& b, std::ostream* os) {
    *os << "directory ";
    PrintTo(b.source, os);
}
inline void PrintTo(const TarballBase& b, std::ostream* os) {
    *os << "tarball ";
    PrintTo(b.source, os);
}
inline void PrintTo(const ImageBase& b, std::ostream* os) {
    *os << "image ";
    PrintTo(b.source, os);
    *os << " boot=" << b.boot_partition.value_or(0) << " root=" << b.root_partition.value_or(0);
}
inline void PrintTo(const DebianBase& b, std::ostream* os) {
    *os << "debian " << b.suite << ' ' << b.variant << ' ' << b.mirror << ' '
        << ::testing::PrintToString(b.components) << ' ' << ::testing::PrintToString(b.packages);
}

}  // namespace pib

namespace pib::test {

/// A context that sees only `env` (not the process environment) and checks files.
inline RecipeContext context(std::map<std::string, std::string> env = {}) {
    RecipeContext ctx;
    ctx.env = std::move(env);
    ctx.use_process_env = false;
    return ctx;
}

/// The outcome of one parse: the recipe, or the diagnostics as `file:line:col: message`.
struct Parsed {
    std::optional<Recipe> recipe;
    std::vector<std::string> errors;
};

inline Parsed parse(const std::string& text, const std::filesystem::path& file = "recipe.yaml",
                    const RecipeContext& ctx = context()) {
    Diagnostics diags;
    auto r = parse_recipe(text, file, diags, ctx);
    Parsed p;
    for (const auto& d : diags.items()) p.errors.push_back(d.str());
    if (r.ok()) p.recipe = std::move(r.value());
    // A recipe is returned exactly when there is nothing to report.
    EXPECT_EQ(r.ok(), diags.empty()) << diags.str();
    return p;
}

/// Parses text that must be valid.
inline Recipe parse_ok(const std::string& text, const std::filesystem::path& file = "recipe.yaml",
                       const RecipeContext& ctx = context()) {
    Parsed p = parse(text, file, ctx);
    EXPECT_TRUE(p.recipe.has_value()) << ::testing::PrintToString(p.errors);
    return p.recipe.value_or(Recipe{});
}

/// The diagnostics of text that must be refused.
inline std::vector<std::string> errors(const std::string& text,
                                       const std::filesystem::path& file = "recipe.yaml",
                                       const RecipeContext& ctx = context()) {
    Parsed p = parse(text, file, ctx);
    EXPECT_FALSE(p.recipe.has_value());
    return p.errors;
}

/// The first lines of a valid pc recipe (5 lines; tests append from line 6).
inline const std::string kPcHead =
    "name: demo\nversion: \"1\"\narch: amd64\nboard: pc\nbase: {directory: /}\n";

}  // namespace pib::test
