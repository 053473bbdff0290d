// Internal to pib_recipe: the key tables. One table per YAML map names each
// key, its type, whether it is required, its default, what it means and an
// example; from it come unknown-key rejection, "did you mean", defaults and
// the key reference in docs/recipe.md (STYLE.md rule 8, as mkosi does).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "builder/recipe_reader.hpp"

namespace pib::recipe {

/// A table row: how a key is documented and how its value is read into a T.
template <class T>
struct Key {
    KeyDoc doc;
    void (*read)(Reader&, const Value&, T&);
};

/// Reads a map through its table into `out`: every known key present is read,
/// every absent key with a default reads its default. False when `v` is not a map.
template <class T, std::size_t N>
bool read_map(Reader& r, const Value& v, const Key<T> (&keys)[N], T& out, bool one_of = false) {
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

/// One map of the schema, for the docs.
struct MapDoc {
    std::string path;      ///< e.g. "base.debian", "steps[].copy"
    std::string_view doc;  ///< what the map is
    bool one_of = false;   ///< exactly one of its keys is given
    std::vector<KeyDoc> keys;
};

template <class T, std::size_t N>
MapDoc map_doc(std::string path, std::string_view doc, const Key<T> (&keys)[N],
               bool one_of = false) {
    MapDoc m{std::move(path), doc, one_of, {}};
    for (const auto& k : keys) m.keys.push_back(k.doc);
    return m;
}

/// Reads the whole recipe (recipe_schema.cpp) and one step (recipe_steps.cpp).
void read_recipe(Reader& r, const Value& root, Recipe& out);
void read_step(Reader& r, const Value& item, Step& out);

/// Every map of the schema in document order (recipe_schema.cpp, recipe_steps.cpp).
std::vector<MapDoc> recipe_maps();
std::vector<MapDoc> step_maps();

/// Checks that span several keys (recipe_check.cpp): board and arch, boot
/// files per board, firmware sources; fills in per-board defaults.
void check_recipe(Reader& r, Recipe& rec);

}  // namespace pib::recipe
