// The KEYS section of a file-format page (netbootd.yaml(5), pibuild-recipe(5),
// pibuild-nodes(5)) from the key tables that drive the parser: the same
// MapDocs docs/*.md's key reference is rendered from.
#pragma once

#include <span>

#include "config/yaml_reader.hpp"
#include "tools/gendocs/roff.hpp"

namespace pib::gendocs {

/// Per map a `.SS` with its path and meaning, per key a `.TP` with its name
/// and type, then its meaning, whether it is required, its default and an example.
void write_keys(ManPage& page, std::span<const MapDoc> maps);

}  // namespace pib::gendocs
