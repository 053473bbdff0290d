// pibuild as a user runs it: keygen, build (long and short form, --json),
// verify on tampered releases, inspect, recipe errors, --help, and a build
// killed with SIGKILL at many points.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "builder/fixture.hpp"

namespace pib {
namespace {

using test::TempDir;

std::string pibuild() { return test::built_binary("builder/pibuild").string(); }

class CliTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_TRUE(test::is_root()) << "the CLI tests build roots and need root";
        test::make_fixture(tmp_.path());
        ASSERT_EQ(test::run({pibuild(), "keygen", "-o", (tmp_ / "k").string()}), 0);
    }
    std::vector<std::string> build_args(const std::string& out) {
        return {pibuild(), "build", (tmp_ / "recipe.yaml").string(), "-o", (tmp_ / out).string(),
                "--key", (tmp_ / "k.key").string(), "--work-dir", (tmp_ / "work").string(),
                "--cache-dir", (tmp_ / "cache").string()};
    }
    std::filesystem::path build_ok(const std::string& out) {
        auto args = build_args(out);
        args.push_back("--json");
        std::string output;
        EXPECT_EQ(test::run(args, &output), 0) << output;
        auto j = nlohmann::json::parse(output.substr(output.find('{')));
        return j["path"].get<std::string>();
    }
    TempDir tmp_;
};

TEST_F(CliTest, KeygenWritesPrivateKey0600AndRefusesToOverwrite) {
    struct stat st{};
    ASSERT_EQ(::stat((tmp_ / "k.key").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((tmp_ / "k.pub").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0644u);
    std::string out;
    EXPECT_NE(test::run({pibuild(), "keygen", "-o", (tmp_ / "k").string()}, &out), 0);
    EXPECT_NE(out.find("exists"), std::string::npos) << out;
}

TEST_F(CliTest, KeygenWritesFleetKeyByDefault) {
    // The name build --key and the short form use by default (one name everywhere).
    std::string out;
    ASSERT_EQ(test::run({"sh", "-c", "cd '" + (tmp_ / "").string() + "' && exec '" + pibuild() + "' keygen"},
                        &out),
              0)
        << out;
    EXPECT_NE(out.find("wrote fleet.key"), std::string::npos) << out;
    EXPECT_TRUE(std::filesystem::exists(tmp_ / "fleet.key"));
    EXPECT_TRUE(std::filesystem::exists(tmp_ / "fleet.pub"));
}

TEST_F(CliTest, BuildVerifyInspectAndTamper) {
    auto rel = build_ok("out");
    std::string out;
    EXPECT_EQ(test::run({pibuild(), "verify", rel.string(), "--pubkey", (tmp_ / "k.pub").string()}, &out), 0)
        << out;
    EXPECT_NE(out.find("OK"), std::string::npos);
    EXPECT_EQ(test::run({pibuild(), "inspect", rel.string()}, &out), 0) << out;
    EXPECT_NE(out.find("fixture 1.0 (amd64, pc)"), std::string::npos) << out;
    EXPECT_NE(out.find("root.squashfs"), std::string::npos) << out;
    // The peer check: OpenSSL accepts the signature with our public key.
    EXPECT_EQ(test::run({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", (tmp_ / "k.pub").string(),
                         "-rawin", "-in", (rel / "manifest.json").string(), "-sigfile",
                         (rel / "manifest.json.sig").string()}, &out), 0) << out;

    // One flipped byte in the middle of the image.
    {
        const auto middle = static_cast<std::streamoff>(std::filesystem::file_size(rel / "root.squashfs") / 2);
        std::fstream f(rel / "root.squashfs", std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(middle);
        char c = 0;
        ASSERT_TRUE(f.read(&c, 1));
        c ^= 0x01;
        f.seekp(middle);
        ASSERT_TRUE(f.write(&c, 1));
    }
    EXPECT_EQ(test::run({pibuild(), "verify", rel.string(), "--pubkey", (tmp_ / "k.pub").string()}, &out), 1);
    EXPECT_NE(out.find("root.squashfs"), std::string::npos) << out;
    EXPECT_NE(out.find("does NOT verify"), std::string::npos) << out;
    // A wrong key.
    ASSERT_EQ(test::run({pibuild(), "keygen", "-o", (tmp_ / "other").string()}), 0);
    EXPECT_EQ(test::run({pibuild(), "verify", rel.string(), "--pubkey", (tmp_ / "other.pub").string()}, &out), 1);
    EXPECT_NE(out.find("signature"), std::string::npos) << out;
}

TEST_F(CliTest, ShortFormBuildsWithDefaults) {
    // `pibuild RECIPE` = build with -o releases --key fleet.key in the current directory.
    std::filesystem::copy_file(tmp_ / "k.key", tmp_ / "fleet.key");
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::chdir(tmp_.path().c_str()) != 0) _exit(99);
        int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl(pibuild().c_str(), "pibuild", "recipe.yaml", "--work-dir", "work", "--cache-dir", "cache",
                nullptr);
        _exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    int releases = 0;
    for (const auto& e : std::filesystem::directory_iterator(tmp_ / "releases"))
        releases += e.path().filename().string().rfind("fixture-1.0-", 0) == 0;
    EXPECT_EQ(releases, 1);
}

TEST_F(CliTest, BadRecipeIsRefusedWithPositionsAndExit2) {
    test::write_text(tmp_ / "bad.yaml",
                     "name: bad\nversion: \"1\"\narch: amd64\nboard: rpi4\nbase:\n  directory: ./rootfs\n"
                     "colour: blue\n");
    std::string out;
    EXPECT_EQ(test::run({pibuild(), "build", (tmp_ / "bad.yaml").string(), "--key",
                         (tmp_ / "k.key").string(), "-o", (tmp_ / "out").string()}, &out), 2);
    EXPECT_NE(out.find("bad.yaml:7:1:"), std::string::npos) << out;   // unknown key
    EXPECT_NE(out.find("bad.yaml:4:"), std::string::npos) << out;     // rpi4 with amd64
    EXPECT_NE(out.find("nothing was built"), std::string::npos) << out;
    EXPECT_FALSE(std::filesystem::exists(tmp_ / "out"));
}

TEST_F(CliTest, HelpOnEveryCommand) {
    for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
             {"--help"}, {"build", "--help"}, {"keygen", "--help"}, {"verify", "--help"},
             {"inspect", "--help"}}) {
        args.insert(args.begin(), pibuild());
        std::string out;
        EXPECT_EQ(test::run(args, &out), 0) << args[1];
        EXPECT_NE(out.find("Usage"), std::string::npos) << out;
    }
}

// A build killed at any moment leaves no release and no partial directory
// that looks like one; the next build cleans the leftovers and succeeds.
TEST_F(CliTest, SigkillAtAnyPointLeavesNoPartialRelease) {
    // Enough data that the squashfs stage takes a moment.
    std::mt19937 rng(7);
    std::string blob(24 << 20, '\0');
    for (auto& c : blob) c = static_cast<char>(rng() & 0x0f);
    test::write_text(tmp_ / "rootfs/var/lib/blob.bin", blob);

    const auto out = tmp_ / "out";
    std::vector<int> delays_ms = {5, 50, 150, 300, 600, 900, 1300, 2000};
    for (int delay : delays_ms) {
        auto args = build_args("out");
        pid_t pid = ::fork();
        if (pid == 0) {
            int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, 1);
            ::dup2(null, 2);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            _exit(127);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        if (!std::filesystem::exists(out)) continue;
        for (const auto& e : std::filesystem::directory_iterator(out)) {
            auto name = e.path().filename().string();
            if (name.rfind(".pibuild-", 0) == 0) continue;   // a hidden temporary, not a release
            // Killed too late to matter: the build finished, so the release must be whole.
            std::string verify_out;
            EXPECT_EQ(test::run({pibuild(), "verify", e.path().string(), "--pubkey",
                                 (tmp_ / "k.pub").string()}, &verify_out), 0)
                << "after kill at " << delay << " ms: " << verify_out;
        }
    }
    auto rel = build_ok("out");
    EXPECT_TRUE(std::filesystem::exists(rel / "manifest.json.sig"));
    for (const auto& dir : {out, tmp_ / "work"}) {
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            EXPECT_NE(e.path().filename().string().rfind(".pibuild-", 0), 0u)
                << "leftover not cleaned: " << e.path();
        }
    }
}

}  // namespace
}  // namespace pib
