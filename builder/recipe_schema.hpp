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

/// A table row read by the recipe reader (lib/config/yaml_reader.hpp).
template <class T>
using Key = TableKey<Reader, T>;

template <class T, std::size_t N>
bool read_map(Reader& r, const Value& v, const Key<T> (&keys)[N], T& out, bool one_of = false) {
    return read_table(r, v, keys, out, one_of);
}

template <class T, std::size_t N>
MapDoc map_doc(std::string path, std::string_view doc, const Key<T> (&keys)[N],
               bool one_of = false) {
    return table_doc(std::move(path), doc, keys, one_of);
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
