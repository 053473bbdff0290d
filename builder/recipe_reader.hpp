// Internal to pib_recipe: the shared YAML reader (lib/config/yaml_reader.hpp)
// plus what only recipes need: the recipe's directory and context, host
// paths and `${VAR}` expansion.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "builder/recipe.hpp"
#include "config/yaml_reader.hpp"

namespace pib::recipe {

using Value = YamlValue;
using Check = ScalarCheck;

class Reader : public YamlReader {
  public:
    Reader(std::string_view text, std::string file, std::filesystem::path recipe_dir,
           const RecipeContext& ctx)
        : YamlReader(text, std::move(file)), dir_(std::move(recipe_dir)), ctx_(ctx) {}

    const RecipeContext& ctx() const { return ctx_; }
    const std::filesystem::path& recipe_dir() const { return dir_; }

    // ---- host paths (recipe_paths.cpp)
    enum class Kind { file, dir, any };
    /// A host path (made absolute against the recipe's directory, `${VAR}`
    /// expanded, checked to exist when ctx.check_files) or, with `url_ok`, an http(s) URL.
    std::optional<Source> host_source(const Value& v, Kind kind, bool url_ok);
    /// `${VAR}` expansion from ctx.env, then the process environment.
    std::optional<std::string> expand(const Value& v, std::string_view text);

  private:
    std::filesystem::path dir_;
    const RecipeContext& ctx_;
};

}  // namespace pib::recipe
