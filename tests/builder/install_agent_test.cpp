// install_agent: a release built with `initramfs: pib` carries pib-agent and
// its units, enabled the way `systemctl enable` would, inside the staged root
// (docs/boot.md "On-node agent").
#include <gtest/gtest.h>
#include <stdlib.h>

#include "builder/build_context.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using pib::test::read_text;

namespace {

struct AgentRoot {
    pib::test::TempDir dir;
    pib::Recipe recipe;
    pib::BuildOptions opts;
    pib::Logger log;
    pib::BuildObserver observer;
    pib::BuildContext ctx{recipe, opts, log, observer};
    AgentRoot() {
        recipe.arch = pib::Arch::amd64;
        ctx.root = dir.path() / "root";
        fs::create_directories(ctx.root / "usr/lib");
        // A merged-/usr root, like Debian's: /lib -> usr/lib.
        fs::create_directory_symlink("usr/lib", ctx.root / "lib");
        ::setenv("PIBUILD_AGENT_AMD64", pib::test::built_binary("client/pib-agent").c_str(), 1);
    }
    ~AgentRoot() { ::unsetenv("PIBUILD_AGENT_AMD64"); }
};

TEST(InstallAgent, InstallsTheAgentAndEnablesItsUnits) {
    AgentRoot a;
    auto st = pib::install_agent(a.ctx);
    ASSERT_TRUE(st.ok()) << st.error().message;
    const fs::path r = a.ctx.root;
    EXPECT_EQ(read_text(r / "usr/lib/pib/pib-agent"),
              read_text(pib::test::built_binary("client/pib-agent")));
    EXPECT_EQ(fs::status(r / "usr/lib/pib/pib-agent").permissions() & fs::perms::all,
              fs::perms(0755));
    const std::string health = read_text(r / "lib/systemd/system/pib-health.service");
    EXPECT_NE(health.find("ExecStart=/usr/lib/pib/pib-agent health"), std::string::npos);
    // oneshot would deadlock with is-system-running --wait.
    EXPECT_NE(health.find("Type=exec"), std::string::npos);
    EXPECT_EQ(fs::read_symlink(r / "etc/systemd/system/multi-user.target.wants/pib-health.service"),
              "/usr/lib/systemd/system/pib-health.service");
    EXPECT_EQ(fs::read_symlink(r / "etc/systemd/system/timers.target.wants/pib-update.timer"),
              "/usr/lib/systemd/system/pib-update.timer");
    const std::string timer = read_text(r / "usr/lib/systemd/system/pib-update.timer");
    EXPECT_NE(timer.find("ConditionKernelCommandLine=|pib.update=1"), std::string::npos);
    EXPECT_NE(timer.find("ConditionPathExists=|/etc/pib/update.enabled"), std::string::npos);
    EXPECT_NE(read_text(r / "usr/lib/systemd/system/pib-update.service")
                  .find("ExecStart=/usr/lib/pib/pib-agent watch"),
              std::string::npos);
    EXPECT_TRUE(fs::is_directory(r / "etc/pib/health.d"));
    // boot.auto_reboot is off: the timer stays inactive unless pib.update=1.
    EXPECT_FALSE(fs::exists(r / "etc/pib/update.enabled"));
    ASSERT_FALSE(a.ctx.inputs.empty());
    EXPECT_EQ(a.ctx.inputs.back().ref, "pib-agent amd64");
}

TEST(InstallAgent, AutoRebootEnablesTheUpdateTimer) {
    AgentRoot a;
    a.recipe.boot.auto_reboot = true;
    ASSERT_TRUE(pib::install_agent(a.ctx).ok());
    EXPECT_TRUE(fs::exists(a.ctx.root / "etc/pib/update.enabled"));
}

TEST(InstallAgent, AnAgentOfAnotherArchitectureIsRefused) {
    AgentRoot a;
    a.recipe.arch = pib::Arch::arm64;
    ::setenv("PIBUILD_AGENT_ARM64", pib::test::built_binary("client/pib-agent").c_str(), 1);
    auto st = pib::install_agent(a.ctx);
    ::unsetenv("PIBUILD_AGENT_ARM64");
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("built for another architecture than arm64"), std::string::npos)
        << st.error().message;
    EXPECT_FALSE(fs::exists(a.ctx.root / "usr/lib/pib/pib-agent"));
}

}  // namespace
