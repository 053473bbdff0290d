// Entry points: YAML text -> validated Recipe, or every problem found.
#include "builder/recipe.hpp"

#include <yaml-cpp/yaml.h>

#include "builder/recipe_schema.hpp"
#include "common/fs.hpp"
#include "crypto/sha256.hpp"

namespace pib {

const char* arch_name(Arch a) {
    switch (a) {
        case Arch::amd64: return "amd64";
        case Arch::arm64: return "arm64";
    }
    return "?";
}

const char* board_name(Board b) {
    switch (b) {
        case Board::pc: return "pc";
        case Board::rpi4: return "rpi4";
        case Board::rpi5: return "rpi5";
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
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(std::string(text));
    } catch (const YAML::Exception& e) {
        // ParserException and friends carry the position; yaml-cpp marks are 0-based.
        int line = e.mark.is_null() ? 0 : e.mark.line + 1;
        int col = e.mark.is_null() ? 0 : e.mark.column + 1;
        diags.add(name, line, col, "YAML syntax error: " + e.msg);
        return refused(name, 1);
    }
    if (docs.empty() || docs[0].IsNull()) {
        diags.add(name, 1, 1, "the recipe is empty (expected a map with name, version, arch, board and base)");
        return refused(name, 1);
    }
    if (docs.size() > 1) {
        const YAML::Mark m = docs[1].Mark();
        diags.add(name, m.line + 1, m.column + 1, "a recipe is a single YAML document; remove the second");
        return refused(name, 1);
    }

    std::error_code ec;
    std::filesystem::path dir = std::filesystem::absolute(file, ec).parent_path();
    recipe::Reader reader(text, name, dir, ctx);
    Recipe rec;
    recipe::read_recipe(reader, recipe::Value{docs[0], "", YAML::Mark::null_mark()}, rec);
    recipe::check_recipe(reader, rec);

    std::vector<Diagnostic> found = reader.take_sorted();
    if (!found.empty()) {
        for (auto& d : found) diags.add(std::move(d));
        return refused(name, found.size());
    }
    rec.file = file;
    rec.digest = sha256_hex(text);
    return rec;
}

Result<Recipe> load_recipe(const std::filesystem::path& file, Diagnostics& diags,
                           const RecipeContext& ctx) {
    auto text = read_file(file);
    if (!text) {
        // read_file's message is "PATH: strerror"; the diagnostic names the file already.
        std::string why = text.error().message;
        if (why.starts_with(file.string() + ": ")) why.erase(0, file.string().size() + 2);
        diags.add(file.string(), 0, 0, "cannot read the recipe: " + why);
        return text.error();
    }
    return parse_recipe(*text, file, diags, ctx);
}

}  // namespace pib
