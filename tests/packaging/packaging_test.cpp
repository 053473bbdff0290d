// The install tree and the Debian packages, checked with the real tools:
// cmake --install, dpkg-buildpackage (debhelper), lintian, mmdebstrap, apt,
// systemd-analyze. The packages are made from this build tree
// (PIB_PREBUILT, debian/rules), as ./run and CI do.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using pib::test::read_text;
using pib::test::run;
using pib::test::TempDir;
using pib::test::write_text;

namespace {

const fs::path kSource = PIB_SOURCE_DIR;
const fs::path kBuild = PIB_BINARY_DIR;

std::string sh(const std::string& script, int* rc = nullptr) {
    std::string out;
    const int r = run({"/bin/sh", "-c", script}, &out);
    if (rc) *rc = r;
    return out;
}

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// cmake --install of this build tree under prefix /usr into a DESTDIR.
fs::path install_tree(const TempDir& tmp) {
    const fs::path dest = tmp / "dest";
    std::string out;
    const int rc = run({"/usr/bin/env", "DESTDIR=" + dest.string(), "cmake", "--install", kBuild.string(), "--prefix",
                        "/usr"},
                       &out);
    EXPECT_EQ(rc, 0) << out;
    return dest;
}

}  // namespace

// Every binary, the client programs of both architectures where pibuild finds
// them, the unit with this prefix's paths, sysusers/tmpfiles, the config.
TEST(Install, EverythingUnderThePrefix) {
    TempDir tmp;
    const fs::path d = install_tree(tmp);
    for (const char* f : {"usr/bin/pibuild", "usr/sbin/netbootd", "usr/lib/pibuild/amd64/pib-init",
                          "usr/lib/pibuild/amd64/pib-agent", "usr/lib/pibuild/arm64/pib-init",
                          "usr/lib/pibuild/arm64/pib-agent"}) {
        struct stat st {};
        ASSERT_EQ(::stat((d / f).c_str(), &st), 0) << f;
        EXPECT_TRUE(st.st_mode & S_IXUSR) << f;
    }
    for (const char* f : {"usr/lib/sysusers.d/netbootd.conf", "usr/lib/tmpfiles.d/netbootd.conf",
                          "etc/netbootd/netbootd.yaml", "usr/share/doc/pibuild/LICENSE",
                          "usr/share/doc/pibuild/netbootd.md"})
        EXPECT_TRUE(fs::is_regular_file(d / f)) << f;

    const std::string unit = read_text(d / "usr/lib/systemd/system/netbootd.service");
    ASSERT_FALSE(unit.empty());
    EXPECT_EQ(unit.find("@SBINDIR@"), std::string::npos) << "an unsubstituted placeholder:\n" << unit;
    EXPECT_NE(unit.find("ExecStart=/usr/sbin/netbootd "), std::string::npos) << unit;
    EXPECT_EQ(unit.find("/usr/local"), std::string::npos) << unit;
}

// An admin's config is never overwritten by a second install.
TEST(Install, KeepsAnExistingConfig) {
    TempDir tmp;
    write_text(tmp / "dest/etc/netbootd/netbootd.yaml", "# mine\n");
    install_tree(tmp);
    EXPECT_EQ(read_text(tmp / "dest/etc/netbootd/netbootd.yaml"), "# mine\n");
}

// The installed pibuild bakes the installed client programs: it finds
// <prefix>/lib/pibuild/<arch>/ relative to itself, not the build tree.
TEST(Install, PibuildFindsItsClientPrograms) {
    TempDir tmp;
    const fs::path d = install_tree(tmp);
    std::string out;
    ASSERT_EQ(run({(d / "usr/bin/pibuild").string(), "version", "--json"}, &out), 0) << out;
    EXPECT_NE(out.find((d / "usr/lib/pibuild/amd64/pib-init").string()), std::string::npos) << out;
    EXPECT_NE(out.find((d / "usr/lib/pibuild/arm64/pib-agent").string()), std::string::npos) << out;
}

// dpkg-buildpackage -b of this build tree; lintian without errors; both
// packages installed with apt into a fresh mmdebstrap root, where pibuild and
// netbootd run, the installed config checks and systemd-analyze verifies the unit.
TEST(DebianPackages, BuildLintInstallRun) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root (mmdebstrap, chroot)";
    TempDir tmp;
    // dpkg-buildpackage writes the packages beside the source directory: a
    // copy of debian/ in a scratch directory, packaging this build tree.
    const fs::path src = tmp / "src";
    fs::create_directories(src);
    fs::copy(kSource / "debian", src / "debian", fs::copy_options::recursive);
    int rc = 0;
    std::string out = sh("cd " + q(src) + " && PIB_PREBUILT=" + q(kBuild) +
                             " dpkg-buildpackage -b -uc -us --no-pre-clean 2>&1",
                         &rc);
    ASSERT_EQ(rc, 0) << out;

    std::vector<fs::path> debs;
    for (const auto& e : fs::directory_iterator(tmp.path()))
        if (e.path().extension() == ".deb" && e.path().filename().string().find("-dbgsym") == std::string::npos)
            debs.push_back(e.path());
    std::sort(debs.begin(), debs.end());
    ASSERT_EQ(debs.size(), 2u) << out;  // netbootd, pibuild
    for (const auto& deb : debs) std::printf("package %s %ju bytes\n", deb.filename().c_str(),
                                             static_cast<std::uintmax_t>(fs::file_size(deb)));

    // lintian: no errors (overrides are explained in debian/*.lintian-overrides).
    std::string changes;
    for (const auto& e : fs::directory_iterator(tmp.path()))
        if (e.path().extension() == ".changes") changes = e.path();
    ASSERT_FALSE(changes.empty());
    out = sh("lintian --fail-on error --tag-display-limit 0 " + q(changes) + " 2>&1", &rc);
    std::printf("lintian:\n%s\n", out.c_str());
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("\nE: "), std::string::npos) << out;
    EXPECT_NE(out.rfind("E: ", 0), 0u) << out;

    // A fresh Debian 12 minbase; apt resolves the packages' dependencies.
    // The host's downloaded packages seed apt's cache (mmdebstrap(1),
    // "sync-in"), so only what the host lacks is downloaded.
    const fs::path root = tmp / "root";
    std::string debs_dir = (tmp / "debs").string();
    fs::create_directories(debs_dir);
    for (const auto& deb : debs) fs::copy_file(deb, fs::path(debs_dir) / deb.filename());
    write_text(tmp / "install-debs.sh",
               "#!/bin/sh\nset -e\nmkdir -p \"$1/tmp/debs\"\ncp " + debs_dir +
                   "/*.deb \"$1/tmp/debs/\"\n"
                   "chroot \"$1\" sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q "
                   "--no-install-recommends /tmp/debs/*.deb'\n",
               0755);
    out = sh("mmdebstrap --mode=root --variant=minbase --format=directory --skip=download/empty"
             " --setup-hook='mkdir -p \"$1\"/var/cache/apt/archives/'"
             " --setup-hook='sync-in /var/cache/apt/archives/ /var/cache/apt/archives/'"
             " --customize-hook=" + q(tmp / "install-debs.sh") +
             " bookworm " + q(root) + " /etc/apt/sources.list.d/debian.sources 2>&1",
             &rc);
    ASSERT_EQ(rc, 0) << out;

    // A command in the new root, with /proc, in a private mount namespace
    // (written to a script there: no quoting through two shells).
    auto in_root = [&](const std::string& cmd, int* code) {
        write_text(root / "tmp/check.sh", "set -e\n" + cmd + "\n", 0755);
        return sh("unshare --mount --fork sh -c 'mount -t proc proc " + root.string() + "/proc && chroot " +
                      root.string() + " sh /tmp/check.sh' 2>&1",
                  code);
    };
    out = in_root("pibuild --version", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_TRUE(std::regex_search(out, std::regex(R"(^pibuild \S+ \(git \S+\))"))) << out;
    out = in_root("netbootd --version", &rc);
    EXPECT_EQ(rc, 0) << out;

    // The installed example passes once its paths exist: the key (pibuild
    // keygen, installed) and the inventory; the store comes from tmpfiles.d.
    out = in_root("test -d /var/lib/netbootd/releases && getent passwd netbootd && "
                  "test \"$(stat -c %U:%G:%a /var/lib/netbootd/leases)\" = netbootd:netbootd:750 && "
                  "test \"$(stat -c %U:%G:%a /var/lib/netbootd/overlays)\" = root:netbootd:750 && "
                  "pibuild keygen -o /etc/netbootd/fleet && "
                  "printf 'nodes:\\n  - name: pc-1\\n    mac: 52:54:00:00:00:01\\n    channel: stable\\n' "
                  "> /etc/netbootd/nodes.yaml && netbootd --check-config /etc/netbootd/netbootd.yaml",
                  &rc);
    EXPECT_EQ(rc, 0) << out;

    out = in_root("systemd-analyze verify --man=no /lib/systemd/system/netbootd.service", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.find("netbootd.service:"), std::string::npos) << out;
    // Installed but not enabled: the admin enables it once configured.
    out = in_root("systemctl is-enabled netbootd.service", &rc);
    EXPECT_NE(out.find("disabled"), std::string::npos) << out;

    // The client programs pibuild bakes, where it looks for them.
    out = in_root("/usr/lib/pibuild/amd64/pib-init --version && pibuild version --json", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("/usr/lib/pibuild/arm64/pib-init"), std::string::npos) << out;
    // Man pages and completion are where man and bash-completion look.
    for (const char* f : {"usr/share/man/man1/pibuild.1.gz", "usr/share/man/man8/netbootd.8.gz",
                          "usr/share/man/man5/netbootd.yaml.5.gz", "usr/share/man/man5/pibuild-recipe.5.gz",
                          "usr/share/man/man5/pibuild-nodes.5.gz",
                          "usr/share/bash-completion/completions/pibuild"})
        EXPECT_TRUE(fs::exists(root / f)) << f;
}
