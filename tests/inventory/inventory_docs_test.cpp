// docs/inventory.md stays true: its key reference is the one rendered from the
// key tables, and docs/examples/nodes.yaml and the examples in the text parse
// (or fail) as the text says.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <fstream>

#include "inventory/inventory_schema.hpp"
#include "support/test_support.hpp"

namespace pib::inventory {
namespace {

const std::filesystem::path kSource(PIB_SOURCE_DIR);
const std::filesystem::path kDocs = kSource / "docs/inventory.md";
constexpr std::string_view kBegin = "<!-- BEGIN KEY REFERENCE";
constexpr std::string_view kEnd = "<!-- END KEY REFERENCE -->";

// The text of the `n`th fenced block after `heading`; "" if none.
std::string block_after(const std::string& doc, const std::string& heading, int n = 0) {
    std::size_t at = doc.find(heading);
    for (int i = 0; at != std::string::npos && i <= n; ++i) {
        at = doc.find("\n```", at);
        if (at == std::string::npos) return "";
        at = doc.find('\n', at + 1) + 1;
        if (i < n) at = doc.find("\n```\n", at) + 4;
    }
    if (at == std::string::npos) return "";
    return doc.substr(at, doc.find("```\n", at) - at);
}

TEST(InventoryDocs, KeyReferenceIsRenderedFromTheKeyTables) {
    std::string doc = test::read_text(kDocs);
    std::size_t begin = doc.find(kBegin);
    std::size_t end = doc.find(kEnd);
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    begin = doc.find('\n', begin) + 1;
    const std::string want = "\n" + inventory_reference_markdown();
    if (std::getenv("PIB_UPDATE_DOCS")) {
        doc.replace(begin, end - begin, want);
        std::ofstream(kDocs, std::ios::binary | std::ios::trunc) << doc;
        GTEST_SKIP() << "rewrote " << kDocs;
    }
    EXPECT_EQ(doc.substr(begin, end - begin), want)
        << "docs/inventory.md is out of date: run inventory_tests with PIB_UPDATE_DOCS=1";
}

TEST(InventoryDocs, CompleteExampleIsAValidInventory) {
    Diagnostics diags;
    // Its `source:` files are a real server's, not part of this tree.
    auto inv = load_inventory(kSource / "docs/examples/nodes.yaml", diags,
                              InventoryOptions{.check_files = false});
    ASSERT_TRUE(inv.ok()) << diags.str();
    ASSERT_EQ(inv->nodes.size(), 4u);
    const Node* pi = inv->by_serial("a1b2c3d4");
    ASSERT_NE(pi, nullptr);
    EXPECT_EQ(pi->name, "pi-01");
    EXPECT_EQ(pi->labels,
              (std::map<std::string, std::string>{{"rack", "3"}, {"role", "db"}, {"site", "lab"}}));
    EXPECT_EQ(pi->files.at(1).source, kSource / "docs/examples/files/app.conf");
    EXPECT_EQ(inv->by_name("pi-02")->release, "demo-rpi4-1.0-20260101T000000Z");
    EXPECT_EQ(inv->by_name("pi-02")->authorized_keys.size(), 1u);
    EXPECT_EQ(inv->by_serial("a1b2c3d6"), inv->by_name("pi-03"));
    EXPECT_EQ(inv->by_mac(*parse_mac("dc:a6:32:01:02:06")), inv->by_name("pi-03"));
    EXPECT_EQ(inv->by_mac(*parse_mac("52:54:00:12:34:56")), inv->by_name("build-01"));
    EXPECT_EQ(inv->by_name("build-01")->channel, "canary");
}

TEST(InventoryDocs, SmallExampleIsAValidInventory) {
    std::string yaml = block_after(test::read_text(kDocs), "## A small inventory");
    Diagnostics diags;
    auto inv = parse_inventory(yaml, "/etc/netbootd/nodes.yaml", diags);
    ASSERT_TRUE(inv.ok()) << diags.str() << yaml;
    EXPECT_EQ(inv->nodes.size(), 2u);
    EXPECT_EQ(inv->nodes[1].serial, "a1b2c3d5");
}

TEST(InventoryDocs, ErrorExampleIsWhatTheParserSays) {
    std::string doc = test::read_text(kDocs);
    std::string yaml = block_after(doc, "## Checking it");
    std::string printed = block_after(doc, "## Checking it", 1);
    Diagnostics diags;
    EXPECT_FALSE(parse_inventory(yaml, "/etc/netbootd/nodes.yaml", diags).ok()) << yaml;
    ASSERT_FALSE(printed.empty()) << "want:\n" << diags.str();
    EXPECT_EQ(diags.str(), printed);
}

TEST(InventoryDocs, EveryTableDefaultAndExampleIsYaml) {
    for (const auto& m : inventory_maps()) {
        for (const auto& k : m.keys) {
            EXPECT_NO_THROW(YAML::Load(std::string(k.default_yaml))) << m.path << "." << k.name;
            EXPECT_NO_THROW(YAML::Load(std::string(k.example))) << m.path << "." << k.name;
            EXPECT_FALSE(k.doc.empty()) << m.path << "." << k.name;
        }
    }
}

}  // namespace
}  // namespace pib::inventory
