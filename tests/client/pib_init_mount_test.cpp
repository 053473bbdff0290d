// pib-init's root assembly (--test-mount: step 6 alone) inside a private
// mount namespace: real squashfs images on loop devices, the node overlay on
// top, a tmpfs upper layer, and the loops released when the namespace ends.
#include <gtest/gtest.h>

#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using pib::test::read_text;
using pib::test::write_text;

TEST(PibInitMount, OverlayOfNodeOnReleaseWithTmpfsUpper) {
    ASSERT_TRUE(pib::test::is_root()) << "needs root for loop devices and mounts";
    ASSERT_TRUE(fs::exists(pib_init())) << pib_init();
    pib::test::TempDir tmp;
    write_text(tmp / "root/etc/os-release", "ID=demo\n");
    write_text(tmp / "root/etc/hostname", "localhost\n");
    write_text(tmp / "root/usr/bin/hello", "#!/bin/sh\n", 0755);
    write_text(tmp / "node/etc/hostname", "pc-01\n");
    for (const char* d : {"root", "node"})
        ASSERT_EQ(pib::test::run({"mksquashfs", (tmp / d).string(),
                                  (tmp / (std::string(d) + ".squashfs")).string(), "-noappend",
                                  "-quiet", "-comp", "zstd"}),
                  0);
    const fs::path base = tmp / "base";
    // Everything after the mount runs in the same private namespace; its mounts vanish with it.
    const std::string script =
        "set -e; \"$0\" --test-mount \"$1\" --overlay \"$2\" --base \"$3\"; s=\"$3/sysroot\"; "
        "echo hostname=$(cat $s/etc/hostname) os=$(cat $s/etc/os-release); "
        "echo written > $s/etc/new; echo new=$(cat $s/etc/new) upper=$(cat "
        "$3/run/pib/rw/upper/etc/new); "
        "if touch $3/run/pib/ro/x 2>/dev/null; then echo ro-writable; else echo ro-readonly; fi; "
        "grep -c \" $3/run/pib/\\(ro\\|node\\) squashfs ro\" /proc/mounts; "
        "grep \" $s overlay \" /proc/mounts | grep -o 'lowerdir=[^,]*'";
    Ran r = run_split(
        {"unshare", "-m", "--propagation", "private", "/bin/sh", "-c", script, pib_init().string(),
         (tmp / "root.squashfs").string(), (tmp / "node.squashfs").string(), base.string()},
        tmp.path());
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "mounted " + (base / "sysroot").string() + "\nhostname=pc-01 os=ID=demo\n" +
                         "new=written upper=written\nro-readonly\n2\nlowerdir=" +
                         (base / "run/pib/node").string() + ":" + (base / "run/pib/ro").string() +
                         "\n");
    // Outside the namespace nothing is mounted and the squashfs files are free again.
    std::string mounts = read_text("/proc/self/mounts");
    EXPECT_EQ(mounts.find(base.string()), std::string::npos);
    std::string loops;
    pib::test::run({"losetup", "-j", (tmp / "root.squashfs").string()}, &loops);
    for (int i = 0; i < 50 && !loops.empty();
         ++i) {  // autoclear runs as the namespace is torn down
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        pib::test::run({"losetup", "-j", (tmp / "root.squashfs").string()}, &loops);
    }
    EXPECT_EQ(loops, "");
}

TEST(PibInitMount, NotASquashfsIsAnError) {
    ASSERT_TRUE(pib::test::is_root());
    pib::test::TempDir tmp;
    write_text(tmp / "junk.squashfs", std::string(8192, 'x'));
    Ran r =
        run_split({"unshare", "-m", "--propagation", "private", pib_init().string(), "--test-mount",
                   (tmp / "junk.squashfs").string(), "--base", (tmp / "base").string()},
                  tmp.path());
    EXPECT_EQ(r.rc, 1);
    EXPECT_NE(r.err.find("pib-init: mounting the root: mount squashfs /dev/loop"),
              std::string::npos)
        << r.err;
}

}  // namespace
}  // namespace pib::client::test
