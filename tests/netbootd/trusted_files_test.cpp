// The iPXE binaries are the administrator's files: resolved through symlinks
// once, at config load, and refused when the account netbootd runs as could
// change them — the file, any directory passed through on the way (including
// the ones holding the symlinks), by owner, group, everyone or a POSIX ACL.
// The config names the refusal at the `ipxe-dir` key.
#include "netbootd/trusted_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netbootd/config.hpp"
#include "support/test_support.hpp"
#include "trusted_dir.hpp"

namespace fs = std::filesystem;
using netbootd::test::nobody;
using netbootd::test::TrustedDir;
using pib::Errc;
using pib::netbootd::Account;
using pib::netbootd::resolve_ipxe_dir;
using pib::netbootd::resolve_trusted;
using pib::test::run;
using pib::test::write_text;

namespace {

/// The refusal's message, or "" when `p` resolved.
std::string refused(const fs::path& p, const Account& who = nobody()) {
    auto r = resolve_trusted(p, who);
    if (r) return "";
    EXPECT_EQ(r.error().code, Errc::invalid) << r.error().message;
    return r.error().message;
}

void mode(const fs::path& p, unsigned m) { ASSERT_EQ(chmod(p.c_str(), m), 0) << p; }

TEST(TrustedFiles, ResolvesDebianStyleSymlinksToTheirTargets) {
    TrustedDir d;
    write_text(d / "boot/ipxe.efi", "efi");
    write_text(d / "share/snp/snponly.efi", "snp");
    fs::create_directories(d / "lib/ipxe");
    fs::create_symlink(d / "boot/ipxe.efi", d / "lib/ipxe/ipxe.efi");  // absolute, as Debian's
    fs::create_symlink("../../share/snp", d / "lib/ipxe/snp");         // relative, to a directory
    fs::create_symlink("snp/./snponly.efi", d / "lib/ipxe/snponly.efi");  // through that link
    fs::create_symlink(d / "lib", d / "alias");  // the directory itself a link
    EXPECT_EQ(*resolve_trusted(d / "lib/ipxe/ipxe.efi", nobody()), d / "boot/ipxe.efi");
    EXPECT_EQ(*resolve_trusted(d / "lib/ipxe/snponly.efi", nobody()), d / "share/snp/snponly.efi");
    EXPECT_EQ(*resolve_trusted(d / "alias/ipxe/../ipxe/ipxe.efi", nobody()), d / "boot/ipxe.efi");

    std::vector<std::string> problems;
    write_text(d / "lib/ipxe/undionly.kpxe", "bios");
    write_text(d / "lib/ipxe/ipxe.lkrn", "not served");
    auto files = resolve_ipxe_dir(d / "alias/ipxe", nobody(), problems);
    EXPECT_TRUE(problems.empty());
    ASSERT_EQ(files.size(), 3u);  // the missing ones are left out, unknown names never looked at
    EXPECT_EQ(files["ipxe.efi"], d / "boot/ipxe.efi");
    EXPECT_EQ(files["snponly.efi"], d / "share/snp/snponly.efi");
    EXPECT_EQ(files["undionly.kpxe"], d / "lib/ipxe/undionly.kpxe");
}

TEST(TrustedFiles, RefusesFilesTheDaemonUserCouldWrite) {
    TrustedDir d;
    const Account who = nobody();
    ASSERT_TRUE(who.uid && who.gid);
    write_text(d / "ipxe.efi", "efi");
    EXPECT_EQ(refused(d / "ipxe.efi"), "");
    mode(d / "ipxe.efi", 0666);
    EXPECT_EQ(refused(d / "ipxe.efi"),
              (d / "ipxe.efi").string() + " is writable by everyone (mode 0666)");
    mode(d / "ipxe.efi", 0664);
    EXPECT_EQ(refused(d / "ipxe.efi"), "") << "group-writable by root's group only";
    ASSERT_EQ(chown((d / "ipxe.efi").c_str(), 0, *who.gid), 0);
    EXPECT_EQ(refused(d / "ipxe.efi"),
              (d / "ipxe.efi").string() + " is writable by group nogroup (mode 0664)");
    ASSERT_EQ(chown((d / "ipxe.efi").c_str(), *who.uid, 0), 0);
    mode(d / "ipxe.efi", 0444);
    EXPECT_EQ(refused(d / "ipxe.efi"),
              (d / "ipxe.efi").string() + " is owned by nobody, which can change its mode");
    // netbootd running as root could write anything: only the modes count then.
    ASSERT_EQ(chown((d / "ipxe.efi").c_str(), 0, 0), 0);
    EXPECT_EQ(refused(d / "ipxe.efi", pib::netbootd::lookup_account("root", "root")), "");
    // An ACL's named entry can grant nobody write while the group is root's:
    // the group bits (the ACL mask) are all that mode shows.
    std::string out;
    ASSERT_EQ(run({"setfacl", "-m", "u:nobody:rw", (d / "ipxe.efi").string()}, &out), 0) << out;
    EXPECT_EQ(refused(d / "ipxe.efi"), (d / "ipxe.efi").string() +
                                           " is group-writable with a POSIX ACL (mode 0464; the "
                                           "group bits are the ACL mask, a named "
                                           "entry may let nobody write)");
}

TEST(TrustedFiles, RefusesAWritableDirectoryAnywhereOnTheWay) {
    TrustedDir d;
    write_text(d / "boot/ipxe.efi", "efi");
    fs::create_directories(d / "lib/ipxe");
    fs::create_symlink(d / "boot/ipxe.efi", d / "lib/ipxe/ipxe.efi");
    EXPECT_EQ(refused(d / "lib/ipxe/ipxe.efi"), "");
    // The target's directory: the file could be replaced.
    mode(d / "boot", 0777);
    EXPECT_EQ(refused(d / "lib/ipxe/ipxe.efi"),
              "directory " + (d / "boot").string() + " is writable by everyone (mode 0777)");
    mode(d / "boot", 0755);
    // The link's directory: the link could be repointed (at /etc/passwd, say).
    mode(d / "lib/ipxe", 01777);
    EXPECT_EQ(refused(d / "lib/ipxe/ipxe.efi"),
              "directory " + (d / "lib/ipxe").string() + " is writable by everyone (mode 1777)");
    mode(d / "lib/ipxe", 0755);
    // A directory nobody owns, though not writable by mode.
    ASSERT_EQ(chown((d / "lib").c_str(), *nobody().uid, 0), 0);
    EXPECT_EQ(
        refused(d / "lib/ipxe/ipxe.efi"),
        "directory " + (d / "lib").string() + " is owned by nobody, which can change its mode");
    // Everything under /tmp is refused: /tmp itself is everyone's.
    pib::test::TempDir tmp;
    write_text(tmp / "ipxe.efi", "efi");
    EXPECT_NE(refused(tmp / "ipxe.efi").find("directory /tmp is writable by everyone"),
              std::string::npos);
}

TEST(TrustedFiles, MissingLoopsAndOddFiles) {
    TrustedDir d;
    fs::create_symlink(d / "nowhere/ipxe.efi", d / "dangling");
    auto r = resolve_trusted(d / "dangling", nobody());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
    fs::create_symlink("b", d / "a");
    fs::create_symlink("a", d / "b");
    EXPECT_EQ(refused(d / "a"), (d / "a").string() + ": too many levels of symbolic links");
    fs::create_directories(d / "ipxe.efi");
    EXPECT_EQ(refused(d / "ipxe.efi"), (d / "ipxe.efi").string() + " is not a regular file");
    ASSERT_EQ(mkfifo((d / "fifo").c_str(), 0644), 0);
    EXPECT_EQ(refused(d / "fifo"), (d / "fifo").string() + " is not a regular file");
    write_text(d / "file", "x");
    r = resolve_trusted(d / "file/ipxe.efi", nobody());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::not_found);
    // A refused binary is a problem; a missing one is not.
    write_text(d / "dir/ipxe.efi", "efi");
    mode(d / "dir/ipxe.efi", 0666);
    std::vector<std::string> problems;
    auto files = resolve_ipxe_dir(d / "dir", nobody(), problems);
    EXPECT_TRUE(files.empty());
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_EQ(problems[0], "ipxe.efi: " + (d / "dir/ipxe.efi").string() +
                               " is writable by everyone (mode 0666)");
}

// ---- the config ------------------------------------------------------------

TEST(TrustedFiles, ConfigResolvesAtLoadAndNamesTheIpxeDirKey) {
    TrustedDir d;
    write_text(d / "key.pub", "not checked here");
    fs::create_directories(d / "store");
    write_text(d / "boot/ipxe.efi", "efi");
    fs::create_directories(d / "ipxe");
    fs::create_symlink(d / "boot/ipxe.efi", d / "ipxe/ipxe.efi");
    const std::string text =
        "store: " + (d / "store").string() + "\npublic-key: " + (d / "key.pub").string() +
        "\nlisten: {address: 127.0.0.1}\nuser: nobody\ngroup: nogroup\nipxe-dir: " +
        (d / "ipxe").string() + "\n";
    pib::Diagnostics diags;
    auto c = pib::netbootd::parse_netbootd_config(text, d / "netbootd.yaml", diags);
    ASSERT_TRUE(c.ok()) << diags.str();
    ASSERT_EQ(c->ipxe_files.size(), 1u);
    EXPECT_EQ(c->ipxe_files.at("ipxe.efi"), d / "boot/ipxe.efi");

    mode(d / "boot/ipxe.efi", 0646);
    diags = {};
    c = pib::netbootd::parse_netbootd_config(text, d / "netbootd.yaml", diags);
    ASSERT_FALSE(c.ok());
    ASSERT_EQ(diags.size(), 1u) << diags.str();
    EXPECT_EQ(diags.items()[0].str(),
              (d / "netbootd.yaml").string() +
                  ":6:1: ipxe-dir: ipxe.efi: " + (d / "boot/ipxe.efi").string() +
                  " is writable by everyone (mode 0646): user nobody could change what PXE clients "
                  "boot; fix "
                  "the modes or owners, or point ipxe-dir at a directory only root can write");
    // Docs examples are parsed without looking at files.
    diags = {};
    c = pib::netbootd::parse_netbootd_config(
        text, d / "netbootd.yaml", diags,
        pib::netbootd::NetbootdConfigOptions{.check_files = false});
    ASSERT_TRUE(c.ok()) << diags.str();
    EXPECT_TRUE(c->ipxe_files.empty());
}

}  // namespace
