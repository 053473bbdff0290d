// Every program prints one --version format, `NAME VERSION (git COMMIT)`,
// from one place (lib/common/version.cpp, cmake/PibVersion.cmake): pibuild,
// netbootd, and the static pib-init and pib-agent, for amd64 and (under
// qemu-aarch64-static) arm64 when the cross build is there.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
using pib::test::built_binary;
using pib::test::run;

struct Program {
    std::string name;
    std::vector<std::string> argv;  ///< without --version
};

std::vector<Program> programs() {
    std::vector<Program> p = {{"pibuild", {built_binary("builder/pibuild").string()}},
                              {"netbootd", {built_binary("netbootd/netbootd").string()}},
                              {"pib-init", {built_binary("client/pib-init").string()}},
                              {"pib-agent", {built_binary("client/pib-agent").string()}}};
    for (const char* name : {"pib-init", "pib-agent"}) {
        const fs::path arm = built_binary(std::string("client-arm64/") + name);
        if (fs::exists(arm)) p.push_back({name, {"qemu-aarch64-static", arm.string()}});
    }
    return p;
}

TEST(Version, EveryProgramPrintsNameVersionAndCommit) {
    static const std::regex line(
        R"(^([a-z-]+) ([0-9]+\.[0-9]+\.[0-9]+) \(git ([0-9a-f]{7,40}|unknown)\)\n$)");
    std::string version, commit;
    for (auto p : programs()) {
        p.argv.push_back("--version");
        std::string out;
        ASSERT_EQ(run(p.argv, &out), 0) << p.argv.back() << ": " << out;
        std::smatch m;
        ASSERT_TRUE(std::regex_match(out, m, line)) << p.argv.front() << " printed: " << out;
        EXPECT_EQ(m[1], p.name);
        // One version and one commit for all of them.
        if (version.empty()) version = m[2], commit = m[3];
        EXPECT_EQ(m[2], version) << p.argv.front();
        EXPECT_EQ(m[3], commit) << p.argv.front();
    }
    // Built from a git checkout: the commit is one of the repository's.
    if (fs::exists(fs::path(PIB_SOURCE_DIR) / ".git")) {
        ASSERT_NE(commit, "unknown");
        std::string out;
        EXPECT_EQ(run({"git", "-C", PIB_SOURCE_DIR, "cat-file", "-e", commit + "^{commit}"}, &out),
                  0)
            << commit << ": " << out;
    }
}

// `pibuild version`: the same version and commit, and the client programs a
// build would bake, here the build tree's own.
TEST(Version, PibuildVersionNamesTheClientProgramsItBakes) {
    std::string line, out;
    ASSERT_EQ(run({built_binary("builder/pibuild").string(), "--version"}, &line), 0);
    ASSERT_EQ(run({built_binary("builder/pibuild").string(), "version"}, &out), 0) << out;
    EXPECT_EQ(out.rfind(line, 0), 0u) << out;
    EXPECT_NE(out.find("pib-init amd64: " + built_binary("client/pib-init").string() + "\n"),
              std::string::npos)
        << out;
    ASSERT_EQ(run({built_binary("builder/pibuild").string(), "version", "--json"}, &out), 0) << out;
    EXPECT_NE(out.find("\"pib-agent\": \"" + built_binary("client/pib-agent").string() + "\""),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("\"name\": \"pibuild\""), std::string::npos) << out;
}

// A tree without this project's .git (a Debian source package, a tarball):
// the commit is "unknown", or what -DPIB_GIT_COMMIT= says. Configures the
// standalone client build (cmake -S client, as the arm64 build does) of a
// copy of the sources and reads what version.cpp is compiled with.
TEST(Version, WithoutGitTheCommitIsUnknownOrGiven) {
    const fs::path src(PIB_SOURCE_DIR);
    pib::test::TempDir tmp;
    fs::create_directories(tmp / "src");
    for (const char* dir : {"client", "cmake", "lib"})
        fs::copy(src / dir, tmp / ("src/" + std::string(dir)), fs::copy_options::recursive);
    for (auto [given, want] :
         {std::pair{"", "unknown"}, std::pair{"0123abcd4567", "0123abcd4567"}}) {
        const fs::path build = tmp / ("build-" + std::string(want));
        std::string out;
        ASSERT_EQ(run({"cmake", "-S", (tmp / "src/client").string(), "-B", build.string(), "-G",
                       "Ninja", std::string("-DPIB_GIT_COMMIT=") + given},
                      &out),
                  0)
            << out;
        const std::string ninja = pib::test::read_text(build / "build.ninja");
        EXPECT_NE(ninja.find(std::string("-DPIB_GIT_COMMIT=\\\"") + want + "\\\""),
                  std::string::npos)
            << want;
        EXPECT_NE(ninja.find("-DPIB_VERSION=\\\""), std::string::npos);
    }
}

}  // namespace
