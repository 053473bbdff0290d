// Typed, position-aware reads of YAML values for files a person wrote
// (recipes, the netbootd config): every problem is reported as
// `file:line:col: key.path: message` and reading keeps going (STYLE.md rule 7).
// One table of keys per map drives unknown-key rejection with "did you mean",
// defaults and the reference docs (rule 8).
// yaml-cpp 0.7 marks are 0-based (printed +1), a missing key has no mark (the
// parent map's is used) and duplicate keys are accepted silently (entries()
// finds them by iterating the map).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/diag.hpp"
#include "common/result.hpp"
#include "config/source_pos.hpp"

namespace pib {

/// A YAML value and the key path naming it in messages (`steps[2].copy.mode`).
struct YamlValue {
    YAML::Node node;
    std::string path;
    YAML::Mark key_mark = YAML::Mark::null_mark();  ///< the key's mark; null for list items
};

/// Validates a scalar's text: "" when fine, else what is wrong ("must be ...").
using ScalarCheck = std::string (*)(std::string_view);

/// One key of a map, as the parser accepts it and the docs document it.
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

/// Path of a map entry or list item below `parent`.
std::string child_path(std::string_view parent, std::string_view key);
std::string item_path(std::string_view parent, std::size_t index);

/// The single YAML document of `text`, or nullopt after adding a diagnostic for
/// a syntax error, an empty file (`empty_message`) or a second document.
std::optional<YAML::Node> load_single_document(std::string_view text, const std::string& file,
                                               Diagnostics& diags, std::string_view what,
                                               std::string_view empty_message);

/// The text of a file a person wrote; when unreadable, also a diagnostic
/// `FILE: cannot read the WHAT: reason`.
Result<std::string> read_text_for(const std::filesystem::path& file, Diagnostics& diags,
                                  std::string_view what);

class YamlReader {
  public:
    YamlReader(std::string_view text, std::string file);

    const std::string& file() const { return file_; }

    // ---- diagnostics
    SourcePos pos(const YAML::Mark& m) const { return {m.line + 1, m.column + 1}; }
    /// Where a value is: its own mark, or its key's when it is empty (null).
    SourcePos value_pos(const YamlValue& v) const;
    /// Where `needle` occurs in the source on or after the value's line, else value_pos.
    SourcePos pos_of_text(const YamlValue& v, std::string_view needle) const;
    void error(SourcePos p, std::string_view path, std::string_view message);
    void error(const YamlValue& v, std::string_view message) {
        error(value_pos(v), v.path, message);
    }
    void error_at_key(const YamlValue& v, std::string_view message);
    /// "expected WHAT, got ..." at the value.
    void type_error(const YamlValue& v, std::string_view what);
    /// Every problem found so far, sorted by position (stable: same place, order found).
    std::vector<Diagnostic> take_sorted();
    /// Moves every problem, sorted, into `diags`; how many there were.
    std::size_t report_to(Diagnostics& diags);

    // ---- positions of keys read, for checks across keys
    void note(const std::string& path, Where w) { where_.emplace(path, w); }
    const Where* where(const std::string& path) const;
    /// The key was given and no problem was reported at it or below it.
    bool clean(const std::string& path) const;

    // ---- values
    std::optional<std::string> string(const YamlValue& v, ScalarCheck check = nullptr);
    std::optional<std::int64_t> integer(const YamlValue& v, std::int64_t min, std::int64_t max);
    std::optional<bool> boolean(const YamlValue& v);
    std::optional<std::string> choice(const YamlValue& v,
                                      std::span<const std::string_view> allowed);
    /// A list of strings; `scalar_ok` also takes a single string as a list of one.
    std::optional<std::vector<std::string>> strings(const YamlValue& v, bool scalar_ok,
                                                    bool non_empty, ScalarCheck check = nullptr);
    /// The known entries of a map in table order (nullopt where absent), after
    /// reporting a non-map, unknown and duplicate keys, missing required keys
    /// and, with `one_of`, anything but exactly one key.
    std::optional<std::vector<std::optional<YamlValue>>> entries(const YamlValue& v,
                                                                 std::span<const KeyDoc> keys,
                                                                 bool one_of);
    /// A key's table default as a value (parsed from KeyDoc::default_yaml).
    YamlValue default_value(const YamlValue& parent, const KeyDoc& key) const;

  private:
    std::vector<std::string_view> lines_;
    std::string file_;
    std::vector<Diagnostic> diags_;
    std::map<std::string, Where> where_;
    std::vector<std::string> error_paths_;
};

/// A table row: how a key is documented and how its value is read into a T
/// by a reader of type R (YamlReader or a subclass with more context).
template <class R, class T>
struct TableKey {
    KeyDoc doc;
    void (*read)(R&, const YamlValue&, T&);
};

/// Reads a map through its table into `out`: every known key present is read,
/// every absent key with a default reads its default. False when `v` is not a map.
template <class R, class T, std::size_t N>
bool read_table(R& r, const YamlValue& v, const TableKey<R, T> (&keys)[N], T& out,
                bool one_of = false) {
    std::vector<KeyDoc> docs;
    for (const auto& k : keys) docs.push_back(k.doc);
    auto found = r.entries(v, docs, one_of);
    if (!found) return false;
    for (std::size_t i = 0; i < N; ++i) {
        if ((*found)[i])
            keys[i].read(r, *(*found)[i], out);
        else if (!keys[i].doc.default_yaml.empty())
            keys[i].read(r, r.default_value(v, keys[i].doc), out);
    }
    return true;
}

/// One map of a schema, for the docs.
struct MapDoc {
    std::string path;      ///< e.g. "base.debian", "steps[].copy"
    std::string_view doc;  ///< what the map is
    bool one_of = false;   ///< exactly one of its keys is given
    std::vector<KeyDoc> keys;
};

template <class R, class T, std::size_t N>
MapDoc table_doc(std::string path, std::string_view doc, const TableKey<R, T> (&keys)[N],
                 bool one_of = false) {
    MapDoc m{std::move(path), doc, one_of, {}};
    for (const auto& k : keys) m.keys.push_back(k.doc);
    return m;
}

/// Markdown key reference: per map a `###` heading and a table of
/// key, type, default, meaning and example.
std::string key_reference_markdown(std::span<const MapDoc> maps);

}  // namespace pib
