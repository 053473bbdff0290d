// docs/recipe.md stays true: its key reference is the one rendered from the
// key tables, and its examples are accepted by the parser.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>

#include "builder/recipe_schema.hpp"
#include "recipe/recipe_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::test {
namespace {

const std::filesystem::path kDocs = std::filesystem::path(PIB_SOURCE_DIR) / "docs/recipe.md";
constexpr std::string_view kBegin = "<!-- BEGIN KEY REFERENCE";
constexpr std::string_view kEnd = "<!-- END KEY REFERENCE -->";

// The fenced ```yaml blocks following `heading`, in order.
std::vector<std::string> yaml_blocks_after(const std::string& doc, const std::string& heading) {
    std::vector<std::string> blocks;
    std::size_t at = doc.find(heading);
    const std::size_t next_heading = doc.find("\n## ", at + 1);
    while (at != std::string::npos) {
        at = doc.find("```yaml\n", at);
        if (at == std::string::npos || at > next_heading) break;
        at += 8;
        std::size_t end = doc.find("```\n", at);
        blocks.push_back(doc.substr(at, end - at));
        at = end;
    }
    return blocks;
}

TEST(RecipeDocs, KeyReferenceIsRenderedFromTheKeyTables) {
    std::string doc = read_text(kDocs);
    std::size_t begin = doc.find(kBegin);
    std::size_t end = doc.find(kEnd);
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    begin = doc.find('\n', begin) + 1;
    const std::string want = "\n" + recipe_reference_markdown();
    if (std::getenv("PIB_UPDATE_DOCS")) {
        doc.replace(begin, end - begin, want);
        std::ofstream(kDocs, std::ios::binary | std::ios::trunc) << doc;
        GTEST_SKIP() << "rewrote " << kDocs;
    }
    EXPECT_EQ(doc.substr(begin, end - begin), want)
        << "docs/recipe.md is out of date: run recipe_tests with PIB_UPDATE_DOCS=1";
}

TEST(RecipeDocs, CompleteExampleIsAValidRecipe) {
    auto blocks = yaml_blocks_after(read_text(kDocs), "## A complete example");
    ASSERT_EQ(blocks.size(), 2u);
    RecipeContext ctx = context({{"PIBUILD_RPI_FIRMWARE", "/opt/rpi-firmware"}});
    ctx.check_files = false;  // the example names files the reader does not have
    Recipe r = parse_ok(blocks[0], "/srv/recipes/kiosk.yaml", ctx);
    EXPECT_EQ(r.name, "kiosk");
    EXPECT_EQ(r.board, Board::rpi4);
    EXPECT_EQ(r.steps.size(), 10u);
    EXPECT_EQ(std::get<CopyStep>(r.steps[3].kind).src.location, "/srv/recipes/files/kiosk.service");
    ASSERT_TRUE(r.boot.firmware);
    EXPECT_EQ(r.boot.firmware->dir->location, "/opt/rpi-firmware");
    EXPECT_EQ(r.output.block_size, 1048576u);

    // The short base examples, each on top of a Pi 5 head (no firmware required).
    const std::string& more = blocks[1];
    const std::string head = "name: b\nversion: \"1\"\narch: arm64\nboard: rpi5\n";
    std::size_t start = 0;
    int parsed = 0;
    while (start < more.size()) {
        std::size_t end = more.find("\n\n", start);
        if (end == std::string::npos) end = more.size();
        parse_ok(head + more.substr(start, end - start) + "\n", "/srv/r.yaml", ctx);
        ++parsed;
        start = end + 2;
    }
    EXPECT_EQ(parsed, 3);
}

TEST(RecipeDocs, EveryKeyHasATypeAMeaningAndAYamlExample) {
    auto maps = recipe::recipe_maps();
    auto steps = recipe::step_maps();
    maps.insert(maps.end(), steps.begin(), steps.end());
    int keys = 0;
    for (const auto& m : maps) {
        for (const auto& k : m.keys) {
            const std::string where = m.path + "." + std::string(k.name);
            EXPECT_FALSE(k.type.empty()) << where;
            EXPECT_FALSE(k.doc.empty()) << where;
            EXPECT_FALSE(k.required && !k.default_yaml.empty())
                << where << ": required with a default";
            EXPECT_NO_THROW(YAML::Load(std::string(k.example))) << where;
            if (!k.default_yaml.empty()) {
                EXPECT_NO_THROW(YAML::Load(std::string(k.default_yaml))) << where;
            }
            ++keys;
        }
    }
    EXPECT_GT(keys, 50);
}

}  // namespace
}  // namespace pib::test
