// docs/man/ and docs/completion/pibuild.bash are what pib-gendocs makes from
// the programs' own command lines and key tables: the test fails when the
// checked-in copies are stale (PIB_UPDATE_DOCS=1 rewrites them), and every
// page must pass groff, man and lexgrog without a warning (lintian checks
// the same pages in the packages).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using pib::test::read_text;
using pib::test::run;

const fs::path kSource(PIB_SOURCE_DIR);
const fs::path kDocs = kSource / "docs";
const std::vector<std::string> kPages = {"pibuild.1", "netbootd.8", "netbootd.yaml.5",
                                         "pibuild-recipe.5", "pibuild-nodes.5"};

std::string gendocs() { return pib::test::built_binary("tools/gendocs/pib-gendocs").string(); }

// The files under `dir`, relative to it.
std::set<std::string> files_below(const fs::path& dir) {
    std::set<std::string> out;
    if (!fs::exists(dir)) return out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.insert(fs::relative(e.path(), dir).string());
    return out;
}

// Runs a shell command; returns what it wrote to stderr (stdout discarded).
std::string stderr_of(const std::string& cmd, int* rc) {
    std::string out;
    *rc = run({"sh", "-c", cmd + " >/dev/null"}, &out);
    return out;
}

std::string page(const std::string& name) { return (kDocs / "man" / name).string(); }

TEST(ManPages, CheckedInCopiesAreWhatTheGeneratorMakes) {
    if (std::getenv("PIB_UPDATE_DOCS")) {
        std::string out;
        ASSERT_EQ(run({gendocs(), kSource.string(), kDocs.string()}, &out), 0) << out;
        GTEST_SKIP() << "rewrote:\n" << out;
    }
    pib::test::TempDir tmp;
    std::string out;
    ASSERT_EQ(run({gendocs(), kSource.string(), tmp.path().string()}, &out), 0) << out;
    const auto made = files_below(tmp.path());
    std::set<std::string> want = {"completion/pibuild.bash"};
    for (const auto& p : kPages) want.insert("man/" + p);
    EXPECT_EQ(made, want);
    const std::string how =
        " is out of date: run docs_tests with PIB_UPDATE_DOCS=1 "
        "(PIB_UPDATE_DOCS=1 ctest -R ManPages), or "
        "<build>/tools/gendocs/pib-gendocs <source> <source>/docs";
    for (const auto& f : made)
        EXPECT_TRUE(read_text(kDocs / f) == read_text(tmp / f)) << "docs/" << f << how;
    // Nothing stale beside them: a page the generator no longer makes.
    for (const auto& f : files_below(kDocs / "man"))
        EXPECT_TRUE(made.count("man/" + f)) << "docs/man/" << f << " is not generated any more";
}

TEST(ManPages, GroffReadsEveryPageWithoutAWarning) {
    for (const auto& p : kPages) {
        int rc = 0;
        const std::string err = stderr_of("groff -ww -z -man -Tutf8 '" + page(p) + "'", &rc);
        EXPECT_EQ(rc, 0) << p << ": " << err;
        EXPECT_EQ(err, "") << p;
    }
}

TEST(ManPages, ManFormatsEveryPageWithoutAWarning) {
    for (const auto& p : kPages) {
        int rc = 0;
        // man-db's own pipeline (preconv, tbl, the man macros) with its checks
        // on, as lintian runs it for manpage-has-errors-from-man.
        const std::string err = stderr_of(
            "LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z '" +
                page(p) + "'",
            &rc);
        EXPECT_EQ(rc, 0) << p << ": " << err;
        EXPECT_EQ(err, "") << p;
    }
}

TEST(ManPages, LexgrogFindsEachPagesNameLine) {
    for (const auto& p : kPages) {
        std::string out;
        EXPECT_EQ(run({"lexgrog", page(p)}, &out), 0) << out;
        const std::string name = p.substr(0, p.rfind('.'));
        // lexgrog prints `FILE: "name - what it is"`: what apropos and whatis show.
        EXPECT_NE(out.find(": \"" + name + " - "), std::string::npos) << out;
    }
}

// The rendered pibuild(1): every verb, the fleet verbs included, and their options.
TEST(ManPages, PibuildPageHasEveryCommandOfTheHelp) {
    std::string text;
    ASSERT_EQ(
        run({"sh", "-c", "MANWIDTH=200 man -l -Tutf8 '" + page("pibuild.1") + "' | col -b"}, &text),
        0);
    // The verbs --help lists, and below each its subcommands.
    const std::string pibuild = pib::test::built_binary("builder/pibuild").string();
    std::vector<std::vector<std::string>> todo = {{}};
    int commands = 0;
    while (!todo.empty()) {
        auto path = todo.back();
        todo.pop_back();
        std::vector<std::string> argv = {pibuild};
        argv.insert(argv.end(), path.begin(), path.end());
        argv.push_back("--help");
        std::string help;
        ASSERT_EQ(run(argv, &help), 0) << help;
        std::string joined = "pibuild";
        for (const auto& w : path) joined += " " + w;
        if (!path.empty()) {
            EXPECT_NE(text.find("   " + joined + "\n"), std::string::npos) << joined;
            ++commands;
        }
        // Options: `  -x, --long TYPE ...` lines; each long name is on the page.
        static const std::regex option(R"(^\s+(?:-\w,)?(--[a-z][a-z0-9-]*))");
        static const std::regex sub(R"(^  ([a-z][a-z-]*)\s{2,}\S)");
        bool in_subcommands = false;
        std::size_t at = 0;
        while (at < help.size()) {
            std::size_t end = help.find('\n', at);
            if (end == std::string::npos) end = help.size();
            const std::string line = help.substr(at, end - at);
            at = end + 1;
            if (line.rfind("Subcommands:", 0) == 0)
                in_subcommands = true;
            else if (!line.empty() && line[0] != ' ')
                in_subcommands = false;
            std::smatch m;
            if (in_subcommands && std::regex_search(line, m, sub)) {
                auto next = path;
                next.push_back(m[1]);
                todo.push_back(next);
            } else if (std::regex_search(line, m, option)) {
                EXPECT_NE(text.find(m[1].str()), std::string::npos) << joined << " " << m[1];
            }
        }
    }
    EXPECT_GT(commands, 25);
    for (const char* fleet :
         {"pibuild release list", "pibuild node show", "pibuild rollout status"})
        EXPECT_NE(text.find(std::string("   ") + fleet + "\n"), std::string::npos) << fleet;
}

// The format pages hold the same maps and keys as the key reference in docs/*.md,
// both being rendered from the parsers' key tables.
TEST(ManPages, FormatPagesHaveEveryKeyOfTheMarkdownReference) {
    for (auto [md, man] :
         {std::pair{"netbootd.md", "netbootd.yaml.5"}, std::pair{"recipe.md", "pibuild-recipe.5"},
          std::pair{"inventory.md", "pibuild-nodes.5"}}) {
        std::string doc = read_text(kDocs / md);
        const std::size_t begin = doc.find("<!-- BEGIN KEY REFERENCE");
        const std::size_t end = doc.find("<!-- END KEY REFERENCE -->");
        ASSERT_NE(begin, std::string::npos) << md;
        doc = doc.substr(begin, end - begin);
        const std::string roff = read_text(page(man));
        auto code = [](std::string s) {  // as roff_code writes it
            std::string out;
            for (char c : s) out += c == '-' ? std::string("\\-") : std::string(1, c);
            return out;
        };
        int keys = 0;
        static const std::regex heading(R"(\n### `([^`]+)`)"), row(R"(\n\| `([^`]+)` \|)");
        for (auto it = std::sregex_iterator(doc.begin(), doc.end(), heading);
             it != std::sregex_iterator(); ++it)
            EXPECT_NE(roff.find(".SS \"" + code((*it)[1]) + "\""), std::string::npos)
                << man << " " << (*it)[1];
        for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row);
             it != std::sregex_iterator(); ++it) {
            EXPECT_NE(roff.find(".TP\n\\fB" + code((*it)[1]) + "\\fR ("), std::string::npos)
                << man << " " << (*it)[1];
            ++keys;
        }
        EXPECT_GT(keys, 10) << md;
    }
}

}  // namespace
