// Internal to the netbootd config: the key tables (config_schema.cpp) and the
// syntax of single values, used by the loader and the docs (config.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/yaml_reader.hpp"
#include "netbootd/config.hpp"

namespace pib::netbootd {

/// Reads the whole config through the key tables; checks across keys are config.cpp's.
void read_config(YamlReader& r, const YamlValue& root, NetbootdConfig& out);

/// Every map of the schema in document order, for the key reference.
std::vector<MapDoc> config_maps();

/// `a.b.c.d/n` with the host bits zero.
std::optional<Ipv4Net> parse_cidr(std::string_view s);

}  // namespace pib::netbootd
