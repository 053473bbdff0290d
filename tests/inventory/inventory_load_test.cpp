// load_inventory: reading the file, `source:` paths against the inventory's
// directory and checked to exist, reported at their file:line:col.
#include <gtest/gtest.h>

#include "inventory/inventory_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::inventory::test {
namespace {

using Lines = std::vector<std::string>;
using pib::test::TempDir;

class InventoryLoad : public ::testing::Test {
  protected:
    Result<Inventory> load(const std::string& text, InventoryOptions options = {}) {
        pib::test::write_text(dir / "nodes.yaml", text);
        diags = Diagnostics{};
        return load_inventory(dir / "nodes.yaml", diags, options);
    }

    Lines errors() const {
        Lines out;
        for (const auto& d : diags.items()) out.push_back(d.str());
        return out;
    }

    TempDir dir;
    Diagnostics diags;
};

const std::string kFiles =
    "defaults:\n"
    "  files: [{path: /etc/a, source: files/a.conf}]\n"
    "nodes:\n"
    "  - {name: a, serial: 1a2b3c4d}\n"
    "  - name: b\n"
    "    serial: 1a2b3c4e\n"
    "    files:\n"
    "      - {path: /etc/b, source: files/b.conf}\n"
    "      - {path: /etc/c, source: /nonexistent/c.conf}\n"
    "      - {path: /etc/d, source: files}\n";

TEST_F(InventoryLoad, SourcesAreResolvedAgainstTheInventorysDirectory) {
    pib::test::write_text(dir / "files/a.conf", "a");
    pib::test::write_text(dir / "files/b.conf", "b");
    pib::test::write_text(dir / "c.conf", "c");
    auto inv = load(
        "nodes:\n  - name: a\n    serial: 1a2b3c4d\n"
        "    files: [{path: /etc/b, source: files/../files/b.conf}, {path: /etc/c, source: " +
        (dir / "c.conf").string() + "}]\n");
    ASSERT_TRUE(inv.ok()) << diags.str();
    EXPECT_EQ(inv->file, dir / "nodes.yaml");
    EXPECT_EQ(inv->nodes[0].files[0].source, dir / "files/b.conf");
    EXPECT_EQ(inv->nodes[0].files[1].source, dir / "c.conf");
}

TEST_F(InventoryLoad, MissingSourcesAreReportedWhereTheyAreNamed) {
    pib::test::write_text(dir / "files/b.conf", "b");
    const std::string f = (dir / "nodes.yaml").string();
    EXPECT_FALSE(load(kFiles).ok());
    // The defaults' file is reported once, not once per node that inherits it.
    EXPECT_EQ(errors(), (Lines{f + ":2:34: defaults.files[0].source: no such file: " +
                                   (dir / "files/a.conf").string(),
                               f + ":9:32: nodes[1].files[1].source: no such file: "
                                   "/nonexistent/c.conf",
                               f + ":10:32: nodes[1].files[2].source: is not a regular file: " +
                                   (dir / "files").string()}));
}

TEST_F(InventoryLoad, SourcesAreNotCheckedWhenAskedNotTo) {
    auto inv = load(kFiles, InventoryOptions{.check_files = false});
    ASSERT_TRUE(inv.ok()) << diags.str();
    EXPECT_EQ(inv->nodes[0].files[0].source, dir / "files/a.conf");
    EXPECT_EQ(inv->nodes[1].files[1].source, "/nonexistent/c.conf");
}

TEST_F(InventoryLoad, UnreadableFile) {
    auto inv = load_inventory(dir / "missing.yaml", diags);
    ASSERT_FALSE(inv.ok());
    EXPECT_EQ(errors(), (Lines{(dir / "missing.yaml").string() +
                               ": cannot read the inventory: No such file or directory"}));
}

TEST_F(InventoryLoad, ParseAloneDoesNotCheckSources) {
    Parsed p = parse("nodes:\n  - {name: a, serial: 1a2b3c4d, files: [{path: /x, source: y}]}\n",
                     "/srv/fleet/nodes.yaml");
    ASSERT_TRUE(p.inventory);
    EXPECT_EQ(p.inventory->nodes[0].files[0].source, "/srv/fleet/y");
}

}  // namespace
}  // namespace pib::inventory::test
