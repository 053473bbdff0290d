// Internal to pib_inventory: the key tables of nodes.yaml (inventory_schema.cpp),
// the checks across keys and nodes (inventory_check.cpp), used by the entry
// points and the docs (inventory.cpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/yaml_reader.hpp"
#include "inventory/inventory.hpp"

namespace pib::inventory {

/// The file as read, before `defaults` are applied to the nodes.
struct InventoryText {
    Node defaults;  ///< only the keys the `defaults` table has are read into it
    std::vector<Node> nodes;
    std::vector<std::string> paths;  ///< each node's key path, `nodes[3]`
};

/// `file:L:C` of an earlier place, for messages naming both places.
std::string place(const YamlReader& r, SourcePos p);

/// Reads the whole file through the key tables; checks within one map or list
/// (content xor source, duplicate paths in one node, serial or mac) happen here too.
void read_inventory(YamlReader& r, const YamlValue& root, InventoryText& out);

/// Every map of the schema in document order, for the key reference.
std::vector<MapDoc> inventory_maps();

/// Applies `defaults` to each node that does not set the key itself (labels
/// are merged, the node winning), then refuses what no single key shows:
/// channel with release, duplicates across nodes.
/// Relative `source:` paths are resolved against `dir` (when not empty) and,
/// with `check_files`, checked to exist.
std::vector<Node> check_inventory(YamlReader& r, InventoryText&& text,
                                  const std::filesystem::path& dir, bool check_files);

}  // namespace pib::inventory
