// `root: http|nfs`: how a node's initramfs reads the release's root image.
#include <gtest/gtest.h>

#include "inventory/inventory_test_util.hpp"

namespace pib::inventory::test {
namespace {

TEST(InventoryRoot, DefaultsToHttpAndTakesNfsFromNodeOrDefaults) {
    Inventory inv = parse_ok(
        "defaults: {root: nfs}\n"
        "nodes:\n"
        "  - {name: a, mac: 52:54:00:00:00:01}\n"
        "  - {name: b, mac: 52:54:00:00:00:02, root: http}\n");
    EXPECT_EQ(inv.nodes[0].root, RootTransport::nfs);
    EXPECT_EQ(inv.nodes[1].root, RootTransport::http);
    Inventory plain = parse_ok("nodes:\n  - {name: c, mac: 52:54:00:00:00:03}\n");
    EXPECT_EQ(plain.nodes[0].root, RootTransport::http);
}

TEST(InventoryRoot, OtherValuesAreRefusedWithTheirPosition) {
    auto p = parse("nodes:\n  - {name: a, mac: 52:54:00:00:00:01, root: nbd}\n");
    ASSERT_EQ(p.errors.size(), 1u);
    EXPECT_NE(p.errors[0].find("nodes.yaml:2:"), std::string::npos) << p.errors[0];
    EXPECT_NE(p.errors[0].find("nodes[0].root"), std::string::npos) << p.errors[0];
    EXPECT_NE(p.errors[0].find("nfs"), std::string::npos) << p.errors[0];
}

}  // namespace
}  // namespace pib::inventory::test
