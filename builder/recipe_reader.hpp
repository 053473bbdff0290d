// Internal to pib_recipe: typed, position-aware reads of YAML values that
// report every problem as `file:line:col: key.path: message` and keep going.
// yaml-cpp 0.7 marks are 0-based (printed +1), a missing key has no mark (the
// parent map's is used) and duplicate keys are accepted silently (entries()
// finds them by iterating the map).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "builder/recipe.hpp"
#include "common/diag.hpp"

namespace pib::recipe {

/// A YAML value and the key path naming it in messages (`steps[2].copy.mode`).
struct Value {
    YAML::Node node;
    std::string path;
    YAML::Mark key_mark = YAML::Mark::null_mark();  ///< the key's mark; null for list items
};

/// Validates a scalar's text: "" when fine, else what is wrong ("must be ...").
using Check = std::string (*)(std::string_view);

/// One key of a map, as the parser accepts it and docs/recipe.md documents it.
struct KeyDoc {
    std::string_view name;
    std::string_view type;  ///< as shown in the docs
    bool required = false;
    std::string_view default_yaml;  ///< applied (as YAML) when the key is absent; "" = none
    std::string_view default_note;  ///< the default in words, when it is computed
    std::string_view doc;           ///< what it means
    std::string_view example;       ///< a value, as YAML
};

/// Where a key and its value were found (1-based), for checks across keys.
struct Where {
    SourcePos key;
    SourcePos value;
};

/// A single-quoted, printable, shortened rendering of a value for messages.
std::string quote_value(std::string_view text);

/// The closest candidate by edit distance when it is close enough to be a typo.
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

class Reader {
  public:
    Reader(std::string_view text, std::string file, std::filesystem::path recipe_dir,
           const RecipeContext& ctx);

    const RecipeContext& ctx() const { return ctx_; }
    const std::filesystem::path& recipe_dir() const { return dir_; }

    // ---- diagnostics
    SourcePos pos(const YAML::Mark& m) const { return {m.line + 1, m.column + 1}; }
    /// Where a value is: its own mark, or its key's when it is empty (null).
    SourcePos value_pos(const Value& v) const;
    /// Where `needle` occurs in the source on or after the value's line, else value_pos.
    SourcePos pos_of_text(const Value& v, std::string_view needle) const;
    void error(SourcePos p, std::string_view path, std::string_view message);
    void error(const Value& v, std::string_view message) { error(value_pos(v), v.path, message); }
    void error_at_key(const Value& v, std::string_view message);
    /// "expected WHAT, got ..." at the value.
    void type_error(const Value& v, std::string_view what);
    /// Every problem found so far, sorted by position (stable: same place, order found).
    std::vector<Diagnostic> take_sorted();

    // ---- positions of keys read, for checks across keys (recipe_check.cpp)
    void note(const std::string& path, Where w) { where_.emplace(path, w); }
    const Where* where(const std::string& path) const;
    /// The key was given and no problem was reported at it or below it.
    bool clean(const std::string& path) const;

    // ---- values
    std::optional<std::string> string(const Value& v, Check check = nullptr);
    std::optional<std::int64_t> integer(const Value& v, std::int64_t min, std::int64_t max);
    std::optional<bool> boolean(const Value& v);
    std::optional<std::string> choice(const Value& v, std::span<const std::string_view> allowed);
    /// A list of strings; `scalar_ok` also takes a single string as a list of one.
    std::optional<std::vector<std::string>> strings(const Value& v, bool scalar_ok, bool non_empty,
                                                    Check check = nullptr);
    /// The known entries of a map in table order (nullopt where absent), after
    /// reporting a non-map, unknown and duplicate keys, missing required keys
    /// and, with `one_of`, anything but exactly one key.
    std::optional<std::vector<std::optional<Value>>> entries(const Value& v,
                                                             std::span<const KeyDoc> keys,
                                                             bool one_of);
    /// A key's table default as a value (parsed from KeyDoc::default_yaml).
    Value default_value(const Value& parent, const KeyDoc& key) const;

    // ---- host paths (recipe_paths.cpp)
    enum class Kind { file, dir, any };
    /// A host path (made absolute against the recipe's directory, `${VAR}`
    /// expanded, checked to exist when ctx.check_files) or, with `url_ok`, an http(s) URL.
    std::optional<Source> host_source(const Value& v, Kind kind, bool url_ok);
    /// `${VAR}` expansion from ctx.env, then the process environment.
    std::optional<std::string> expand(const Value& v, std::string_view text);

  private:
    std::vector<std::string_view> lines_;
    std::string file_;
    std::filesystem::path dir_;
    const RecipeContext& ctx_;
    std::vector<Diagnostic> diags_;
    std::map<std::string, Where> where_;
    std::vector<std::string> error_paths_;
};

/// Path of a map entry or list item below `parent`.
std::string child_path(std::string_view parent, std::string_view key);
std::string item_path(std::string_view parent, std::size_t index);

}  // namespace pib::recipe
