// Entry points: YAML text -> validated Recipe, or every problem found; and the
// key reference of docs/recipe.md rendered from the key tables
// (tests/recipe/recipe_docs_test.cpp fails when the checked-in docs differ).
#include "builder/recipe.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "builder/recipe_schema.hpp"
#include "crypto/sha256.hpp"

namespace pib {

const char* arch_name(Arch a) {
    switch (a) {
        case Arch::amd64:
            return "amd64";
        case Arch::arm64:
            return "arm64";
    }
    return "?";
}

const char* board_name(Board b) {
    switch (b) {
        case Board::pc:
            return "pc";
        case Board::rpi4:
            return "rpi4";
        case Board::rpi5:
            return "rpi5";
    }
    return "?";
}

namespace {

Result<Recipe> refused(const std::string& file, std::size_t count) {
    return fail(Errc::invalid, file + ": recipe refused (" + std::to_string(count) +
                                   (count == 1 ? " problem)" : " problems)"));
}

}  // namespace

Result<Recipe> parse_recipe(std::string_view text, const std::filesystem::path& file,
                            Diagnostics& diags, const RecipeContext& ctx) {
    const std::string name = file.string();
    std::optional<YAML::Node> root = load_single_document(
        text, name, diags, "recipe",
        "the recipe is empty (expected a map with name, version, arch, board and base)");
    if (!root) return refused(name, 1);

    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(file, ec).parent_path();
    recipe::Reader reader(text, name, dir, ctx);
    Recipe rec;
    recipe::read_recipe(reader, recipe::Value{*root, "", YAML::Mark::null_mark()}, rec);
    recipe::check_recipe(reader, rec);

    if (std::size_t found = reader.report_to(diags)) return refused(name, found);
    rec.file = file;
    rec.digest = sha256_hex(text);
    return rec;
}

Result<Recipe> load_recipe(const std::filesystem::path& file, Diagnostics& diags,
                           const RecipeContext& ctx) {
    auto text = read_text_for(file, diags, "recipe");
    if (!text) return text.error();
    return parse_recipe(*text, file, diags, ctx);
}

std::vector<MapDoc> recipe_reference_maps() {
    std::vector<MapDoc> maps = recipe::recipe_maps();
    std::vector<MapDoc> steps = recipe::step_maps();
    // Steps come after the top level and base, before boot, as in a recipe.
    auto boot =
        std::find_if(maps.begin(), maps.end(), [](const auto& m) { return m.path == "boot"; });
    maps.insert(boot, steps.begin(), steps.end());
    return maps;
}

std::string recipe_reference_markdown() { return key_reference_markdown(recipe_reference_maps()); }

}  // namespace pib
