// docs/completion/pibuild.bash for real: sourced into bash, `complete -p`
// names its function, and _pibuild is driven with COMP_WORDS/COMP_CWORD as
// readline would for verbs, subverbs, options, option values and release ids
// (which it asks pibuild itself for, from a store made here).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using pib::test::run;

const fs::path kScript = fs::path(PIB_SOURCE_DIR) / "docs/completion/pibuild.bash";

std::string pibuild() { return pib::test::built_binary("builder/pibuild").string(); }

std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

class CompletionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // A store with two releases and one being published (a dot-name).
        for (const char* d : {"releases/demo-x86-1.0-0123456789ab",
                              "releases/kiosk-2.1-ba9876543210", "releases/.incoming-123"})
            fs::create_directories(store_ / d);
        fs::create_directories(tmp_ / "cwd/recipes");
        pib::test::write_text(tmp_ / "cwd/recipe.yaml", "name: x\n");
        pib::test::write_text(tmp_ / "cwd/k.key", "");
    }

    // The completions of the command line `words` (the last one is being
    // completed), sorted; COMP_WORDS[0] is the built pibuild.
    std::set<std::string> complete(std::vector<std::string> words) {
        words.insert(words.begin(), pibuild());
        std::string arr;
        for (const auto& w : words) arr += " " + quote(w);
        const std::string script = "set -u\ncd " + quote((tmp_ / "cwd").string()) + " || exit 9\n" +
                                   "unset PIB_CONFIG\nexport PIB_STORE=" + quote(store_.string()) +
                                   "\n" + "source " + quote(kScript.string()) + " || exit 8\n" +
                                   "COMP_WORDS=(" + arr +
                                   ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                                   "COMP_LINE=\"${COMP_WORDS[*]}\"\nCOMP_POINT=${#COMP_LINE}\n"
                                   "_pibuild pibuild \"${COMP_WORDS[COMP_CWORD]}\" "
                                   "\"${COMP_WORDS[COMP_CWORD-1]}\" || exit 7\n"
                                   "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
        std::string out;
        EXPECT_EQ(run({"bash", "--norc", "--noprofile", "-c", script}, &out), 0) << out;
        std::set<std::string> got;
        std::istringstream in(out);
        for (std::string line; std::getline(in, line);)
            if (!line.empty()) got.insert(line);
        return got;
    }

    pib::test::TempDir tmp_;
    fs::path store_ = tmp_ / "store";
};

TEST_F(CompletionTest, CompleteNamesTheFunction) {
    std::string out;
    ASSERT_EQ(run({"bash", "--norc", "--noprofile", "-c",
                   "source " + quote(kScript.string()) + " && complete -p pibuild"},
                  &out),
              0)
        << out;
    EXPECT_EQ(out, "complete -F _pibuild pibuild\n");
}

TEST_F(CompletionTest, VerbsAtTheTopAndRecipeFilesForTheShortForm) {
    auto got = complete({""});
    for (const char* verb :
         {"build", "keygen", "verify", "inspect", "nodes", "publish", "release", "channel", "node",
          "rollout", "rollback", "status", "history", "gc", "recipe.yaml"})
        EXPECT_TRUE(got.count(verb)) << verb;
    EXPECT_FALSE(got.count("__complete"));  // hidden
    EXPECT_EQ(complete({"ro"}), (std::set<std::string>{"rollout", "rollback"}));
}

TEST_F(CompletionTest, SubverbsOfAVerb) {
    EXPECT_EQ(complete({"channel", ""}), (std::set<std::string>{"set", "list"}));
    EXPECT_EQ(complete({"nodes", ""}), (std::set<std::string>{"render", "verify"}));
    auto rollout = complete({"rollout", "--channel", "stable", "st"});
    EXPECT_EQ(rollout, (std::set<std::string>{"status"}));
}

TEST_F(CompletionTest, OptionsAndTheirValues) {
    auto got = complete({"build", "--k"});
    EXPECT_EQ(got, (std::set<std::string>{"--key", "--keep-work"}));
    // The short form takes build's options after the recipe.
    EXPECT_EQ(complete({"recipe.yaml", "--k"}), got);
    EXPECT_EQ(complete({"rollout", "--gate", ""}),
              (std::set<std::string>{"auto", "boot", "health"}));
    // --gate=VALUE: bash splits the word at '='.
    EXPECT_EQ(complete({"rollout", "--gate", "="}),
              (std::set<std::string>{"auto", "boot", "health"}));
    EXPECT_EQ(complete({"rollout", "--gate", "=", "b"}), (std::set<std::string>{"boot"}));
    EXPECT_EQ(complete({"build", "--key", "k."}), (std::set<std::string>{"k.key"}));
    EXPECT_EQ(complete({"publish", "rec"}),
              (std::set<std::string>{"recipes"}));  // directories only
    EXPECT_TRUE(complete({"gc", "--"}).count("--dry-run"));
}

TEST_F(CompletionTest, ReleaseIdsComeFromTheStore) {
    const std::set<std::string> ids = {"demo-x86-1.0-0123456789ab", "kiosk-2.1-ba9876543210"};
    // From $PIB_STORE, as the fleet commands find it.
    EXPECT_EQ(complete({"channel", "set", "stable", ""}), ids);
    EXPECT_EQ(complete({"node", "pin", "pi-01", "k"}),
              (std::set<std::string>{"kiosk-2.1-ba9876543210"}));
    EXPECT_EQ(complete({"rollback", "-c", "stable", "--to", ""}), ids);
    // After rollout: a release or one of its subcommands.
    auto rollout = complete({"rollout", ""});
    EXPECT_TRUE(rollout.count("kiosk-2.1-ba9876543210"));
    EXPECT_TRUE(rollout.count("status"));
    // From --store on the line being completed.
    fs::create_directories(tmp_ / "other/releases/other-1-aaaaaaaaaaaa");
    EXPECT_EQ(complete({"channel", "set", "--store", (tmp_ / "other").string(), "stable", ""}),
              (std::set<std::string>{"other-1-aaaaaaaaaaaa"}));
    // --store=DIR, as bash splits it.
    EXPECT_EQ(complete({"rollout", "--store", "=", (tmp_ / "other").string(), "o"}),
              (std::set<std::string>{"other-1-aaaaaaaaaaaa"}));
}

// What the completion runs, by itself.
TEST_F(CompletionTest, HiddenCompleteVerbListsTheStoresReleases) {
    std::string out;
    ASSERT_EQ(run({pibuild(), "__complete", "releases", "--store", store_.string()}, &out), 0)
        << out;
    EXPECT_EQ(out, "demo-x86-1.0-0123456789ab\nkiosk-2.1-ba9876543210\n");
    ASSERT_EQ(run({pibuild(), "__complete", "releases", "--store", (tmp_ / "none").string()}, &out),
              0);
    EXPECT_EQ(out, "");
    // Not in the help: it is for the completion only.
    ASSERT_EQ(run({pibuild(), "--help"}, &out), 0);
    EXPECT_EQ(out.find("__complete"), std::string::npos) << out;
}

}  // namespace
