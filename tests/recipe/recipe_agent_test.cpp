// boot.auto_reboot: the switch for pib-agent's update timer (docs/boot.md
// "On-node agent"), only with the pib initramfs that ships the agent.
#include <gtest/gtest.h>

#include "recipe/recipe_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::test {
namespace {

using Lines = std::vector<std::string>;

TEST(RecipeAgent, AutoRebootNeedsThePibInitramfs) {
    EXPECT_EQ(errors(kPcHead + "boot:\n  initramfs: none\n  auto_reboot: true\n"),
              (Lines{"recipe.yaml:8:3: boot.auto_reboot: needs initramfs: pib (pib-agent ships with the pib "
                     "initramfs)"}));
    EXPECT_EQ(errors(kPcHead + "boot: {initramfs: pib, auto_reboot: maybe}\n"),
              (Lines{"recipe.yaml:6:37: boot.auto_reboot: expected true or false, got 'maybe'"}));
    EXPECT_TRUE(parse_ok(kPcHead + "boot: {initramfs: pib, auto_reboot: true}\n").boot.auto_reboot);
    EXPECT_FALSE(parse_ok(kPcHead + "boot: {initramfs: pib}\n").boot.auto_reboot);
    EXPECT_FALSE(parse_ok(kPcHead + "boot: {initramfs: none, auto_reboot: false}\n").boot.auto_reboot);
}

}  // namespace
}  // namespace pib::test
