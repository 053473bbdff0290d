// A small root tree with every kind of metadata an imported base must keep
// (owners, modes, setuid, symlinks, a device node, a fifo, a hard link pair,
// a user.* xattr, a file capability and a POSIX ACL), and the checks that a copy kept them.
// Shared by the tarball, directory and image import tests. Needs root.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "support/test_support.hpp"

namespace pib::test {

inline const std::string kSampleFstab =
    "proc            /proc  proc  defaults          0  0\n"
    "/dev/mmcblk0p2  /      ext4  defaults,noatime  0  1\n";

inline void make_sample_tree(const std::filesystem::path& d) {
    namespace fs = std::filesystem;
    write_text(d / "etc/fstab", kSampleFstab);
    write_text(d / "etc/hostname", "pi\n");
    write_text(d / "home/pi/secret", "token\n", 0600);
    ASSERT_EQ(::chown((d / "home/pi").c_str(), 1000, 1000), 0);
    ASSERT_EQ(::chmod((d / "home/pi").c_str(), 0750), 0);
    ASSERT_EQ(::chown((d / "home/pi/secret").c_str(), 1000, 1000), 0);
    write_text(d / "usr/bin/su-tool", "#!/bin/sh\nexit 0\n", 0755);
    ASSERT_EQ(::chmod((d / "usr/bin/su-tool").c_str(), 04755),
              0);  // after chown: chown clears setuid
    ASSERT_EQ(::symlink("su-tool", (d / "usr/bin/su-link").c_str()), 0);
    ASSERT_EQ(::symlink("/usr/share/zoneinfo/UTC", (d / "etc/localtime").c_str()), 0);
    fs::create_directories(d / "dev");
    ASSERT_EQ(::mknod((d / "dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1)), 0);
    fs::create_directories(d / "run");
    ASSERT_EQ(::mkfifo((d / "run/initctl").c_str(), 0600), 0);
    write_text(d / "usr/lib/data-a", "shared bytes\n");
    ASSERT_EQ(::link((d / "usr/lib/data-a").c_str(), (d / "usr/lib/data-b").c_str()), 0);
    ASSERT_EQ(::setxattr((d / "usr/bin/su-tool").c_str(), "user.pib", "hello", 5, 0), 0);
    // Debian's ping carries cap_net_raw as a security.capability xattr; losing it
    // breaks ping for non-root users without any error at build time.
    write_text(d / "usr/bin/ping", "ping placeholder\n", 0755);
    std::string out;
    ASSERT_EQ(run({"setcap", "cap_net_raw+ep", (d / "usr/bin/ping").string()}, &out), 0) << out;
    ASSERT_EQ(run({"setfacl", "-m", "u:1000:r", (d / "etc/hostname").string()}, &out), 0) << out;
    fs::create_directories(d / "tmp");
    ASSERT_EQ(::chmod((d / "tmp").c_str(), 01777), 0);
}

inline struct stat lstat_of(const std::filesystem::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st;
}

inline void expect_sample_tree(const std::filesystem::path& d) {
    EXPECT_EQ(read_text(d / "etc/fstab"), kSampleFstab);
    EXPECT_EQ(read_text(d / "etc/hostname"), "pi\n");

    auto home = lstat_of(d / "home/pi");
    EXPECT_EQ(home.st_uid, 1000u);
    EXPECT_EQ(home.st_gid, 1000u);
    EXPECT_EQ(home.st_mode & 07777, 0750u);
    auto secret = lstat_of(d / "home/pi/secret");
    EXPECT_EQ(secret.st_uid, 1000u);
    EXPECT_EQ(secret.st_gid, 1000u);
    EXPECT_EQ(secret.st_mode & 07777, 0600u);

    auto su = lstat_of(d / "usr/bin/su-tool");
    EXPECT_EQ(su.st_mode & 07777, 04755u);
    EXPECT_EQ(su.st_uid, 0u);
    EXPECT_EQ(std::filesystem::read_symlink(d / "usr/bin/su-link"), "su-tool");
    EXPECT_EQ(std::filesystem::read_symlink(d / "etc/localtime"), "/usr/share/zoneinfo/UTC");

    auto console = lstat_of(d / "dev/console");
    EXPECT_TRUE(S_ISCHR(console.st_mode));
    EXPECT_EQ(major(console.st_rdev), 5u);
    EXPECT_EQ(minor(console.st_rdev), 1u);
    EXPECT_EQ(console.st_mode & 07777, 0600u);
    EXPECT_TRUE(S_ISFIFO(lstat_of(d / "run/initctl").st_mode));

    auto a = lstat_of(d / "usr/lib/data-a");
    auto b = lstat_of(d / "usr/lib/data-b");
    EXPECT_EQ(a.st_ino, b.st_ino) << "hard link pair split into two files";
    EXPECT_EQ(a.st_nlink, 2u);
    EXPECT_EQ(read_text(d / "usr/lib/data-b"), "shared bytes\n");

    EXPECT_EQ(lstat_of(d / "tmp").st_mode & 07777, 01777u);

    char buf[64] = {0};
    ssize_t n = ::getxattr((d / "usr/bin/su-tool").c_str(), "user.pib", buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "hello") << "user.pib xattr lost";
    std::string caps;
    EXPECT_EQ(run({"getcap", (d / "usr/bin/ping").string()}, &caps), 0) << caps;
    EXPECT_NE(caps.find("cap_net_raw=ep"), std::string::npos) << "file capability lost: " << caps;
    std::string acl;
    EXPECT_EQ(run({"getfacl", "-cn", (d / "etc/hostname").string()}, &acl), 0) << acl;
    EXPECT_NE(acl.find("user:1000:r--"), std::string::npos) << "ACL lost:\n" << acl;
}

}  // namespace pib::test
