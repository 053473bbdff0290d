// pib-init as PID 1, whole boot, without a VM: in a client network namespace
// and a new PID and mount namespace, chrooted into a tmpfs "initramfs" holding
// only /init (pib-init), the key and a baked command line. It gets a lease
// from dnsmasq, fetches and verifies a real squashfs release and node overlay
// over HTTP, mounts them, reports, deletes the initramfs, switches root and
// execs the root's init, which prints what it sees.
#include <gtest/gtest.h>

#include "crypto/sha256.hpp"
#include "lib/release_fixture.hpp"
#include "netbootd/netns.hpp"
#include "tests/client/client_fixture.hpp"

namespace pib::client::test {
namespace {

using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

class PibInitBoot : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(pib::test::is_root()) << "needs root for namespaces, loops and mounts";
        ASSERT_TRUE(fs::exists(pib_init())) << pib_init();
        if (!is_static_elf(pib_init()))
            GTEST_SKIP() << "pib-init is not static (sanitizer build): it cannot run alone";
        // The release: a squashfs whose /sbin/init is a static test program.
        fs::create_directories(tmp_ / "root/sbin");
        ASSERT_EQ(run({"cc", "-static", "-O1", "-o", (tmp_ / "root/sbin/init").string(),
                       std::string(PIB_TEST_DATA) + "/hello_init.c"}),
                  0);
        write_text(tmp_ / "root/etc/os-release", "ID=pibtest\n");
        write_text(tmp_ / "root/etc/hostname", "localhost\n");
        for (const char* d : {"run", "proc", "sys", "dev"})
            fs::create_directories(tmp_ / "root" / d);
        const fs::path rel = store_ / "releases/building";
        squash(tmp_ / "root", rel / "root.squashfs");
        Manifest m = pib::test::sample_manifest();
        m.arch = "amd64";
        m.artifacts = *hash_artifacts(rel);
        ASSERT_TRUE(write_signed_manifest(rel, m, pib::test::test_key()).ok());
        kRelease = release_id(m, read_text(rel / "manifest.json"));
        fs::rename(rel, store_ / ("releases/" + kRelease));
        // The node overlay.
        write_text(tmp_ / "node/etc/hostname", "pc-01\n");
        const fs::path ov = store_ / "overlays/pc-01";
        squash(tmp_ / "node", ov / "overlay.squashfs");
        const std::string image = read_text(ov / "overlay.squashfs");
        const std::string doc = "{\"artifacts\":[{\"path\":\"overlay.squashfs\",\"sha256\":\"" +
                                sha256_hex(image) + "\",\"size\":" + std::to_string(image.size()) +
                                "}],\"format_version\":1,\"hostname\":\"pc-01\",\"node\":\"pc-01\","
                                "\"ssh_host_keys\":{}}\n";
        write_text(ov / "overlay.json", doc);
        write_text(ov / "overlay.json.sig", *pib::test::test_key().sign(doc));
        write_text(tmp_ / "release.pub", pib::test::test_key().public_key().to_pem());

        std::string why;
        ASSERT_TRUE(ns_.add("s", why)) << why;
        ASSERT_TRUE(ns_.add("c", why)) << why;
        ASSERT_TRUE(ns_.link("s", "srv0", "10.217.0.1/24", "c", "eth0", "", why)) << why;
        dnsmasq_ = std::make_unique<Background>(
            std::vector<std::string>{"ip", "netns", "exec", ns_.name("s"), "timeout", "120",
                                     "dnsmasq", "--no-daemon", "--port=0", "--interface=srv0",
                                     "--bind-interfaces",
                                     "--dhcp-range=10.217.0.100,10.217.0.150,1h",
                                     "--dhcp-leasefile=" + (tmp_ / "leases").string(),
                                     "--conf-file=/dev/null", "--user=root", "--no-ping"},
            tmp_ / "dnsmasq.log");
        http_ = std::make_unique<FlakyHttp>(
            store_.path(), std::vector<std::string>{"--bind", "10.217.0.1"},
            std::vector<std::string>{"ip", "netns", "exec", ns_.name("s")});
        ASSERT_TRUE(http_->ok());
        ASSERT_TRUE(wait_for_listener(ns_.name("s"), "udp", 67, "dnsmasq"))
            << read_text(tmp_ / "dnsmasq.log");
    }

    static void squash(const fs::path& dir, const fs::path& out) {
        fs::create_directories(out.parent_path());
        ASSERT_EQ(
            run({"mksquashfs", dir.string(), out.string(), "-noappend", "-quiet", "-all-root"}), 0);
    }

    // Boots pib-init as PID 1 in the sandbox; SIGKILLed after `seconds`.
    Ran boot(int seconds, const std::string& extra = "") {
        write_text(tmp_ / "cmdline", "pib.server=" + http_->url("10.217.0.1") + " pib.release=" +
                                         kRelease + " pib.node=pc-01 pib.debug " + extra + "\n");
        const std::string script =
            "set -e; R=\"$0\"; mkdir -p \"$R\"; mount -t tmpfs -o mode=0755 initramfs \"$R\"; "
            "mkdir -p \"$R/etc/pib-init\"; cp \"$1\" \"$R/init\"; cp \"$2\" "
            "\"$R/etc/pib-init/release.pub\"; "
            "cp \"$3\" \"$R/etc/pib-init/cmdline\"; exec chroot \"$R\" /init";
        return run_split({"timeout",
                          "-s",
                          "KILL",
                          std::to_string(seconds),
                          "ip",
                          "netns",
                          "exec",
                          ns_.name("c"),
                          "unshare",
                          "--mount",
                          "--pid",
                          "--fork",
                          "--kill-child",
                          "--propagation",
                          "private",
                          "/bin/sh",
                          "-c",
                          script,
                          (tmp_ / "initramfs").string(),
                          pib_init().string(),
                          (tmp_ / "release.pub").string(),
                          (tmp_ / "cmdline").string()},
                         tmp_.path());
    }

    pib::test::TempDir tmp_;
    pib::test::TempDir store_;
    std::string kRelease;  ///< content-derived
    netbootd::test::NetnsGuard ns_{"pibboot"};
    std::unique_ptr<Background> dnsmasq_;
    std::unique_ptr<FlakyHttp> http_;
};

TEST_F(PibInitBoot, BootsIntoTheVerifiedRoot) {
    Ran r = boot(60);
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("hello from the new root pid=1\nhostname=pc-01\nos=ID=pibtest\n"),
              std::string::npos)
        << r.out << r.err;
    EXPECT_NE(r.out.find("\"node\": \"pc-01\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"release\": \"" + kRelease + "\""), std::string::npos) << r.out;
    for (const char* phase :
         {"\"modules\"", "\"dhcp\"", "\"manifest\"", "\"root_fetch\"", "\"overlay\"", "\"mount\""})
        EXPECT_NE(r.out.find(phase), std::string::npos) << phase << " in " << r.out;
    EXPECT_NE(r.out.find("initramfs-init=gone\nproc=yes\n"), std::string::npos) << r.out;
    for (const char* line :
         {"pib-init: dhcp on eth0: waiting for a lease\n",
          "pib-init: dhcp: bound address=10.217.0.1",
          "pib-init: manifest verified: pi4-k3s 2026.11.1 arch=amd64",
          "pib-init: verified root.squashfs", "pib-init: verified overlay.squashfs",
          "pib-init: mounting the verified root and node overlay at /sysroot\n",
          "pib-init: boot reported to ", "pib-init: switching root to /sbin/init\n",
          "pib-init: debug: interface eth0 mac "})
        EXPECT_NE(r.err.find(line), std::string::npos) << line << " in\n" << r.err;
    const std::string reports = read_text(store_ / "reports.log");
    EXPECT_NE(
        reports.find(
            "/api/v1/nodes/pc-01/report {\"healthy\":true,\"kind\":\"boot\",\"phases\":{\"dhcp\":"),
        std::string::npos)
        << reports;
}

TEST_F(PibInitBoot, FlippedByteStopsTheBootBeforeAnyMount) {
    const fs::path root = store_ / ("releases/" + kRelease + "/root.squashfs");
    std::string bytes = read_text(root);
    bytes[bytes.size() - 100] ^= 0x10;
    write_text(root, bytes);
    Ran r = boot(8);  // pib-init waits forever after refusing; the sandbox is killed
    EXPECT_NE(r.err.find("pib-init: VERIFICATION FAILED: root.squashfs sha256 " +
                         sha256_hex(bytes) + " != manifest "),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("pib-init: rescue: boot stopped here"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("mounting the verified root"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("hello from the new root"), std::string::npos);
    EXPECT_EQ(read_text(store_ / "reports.log"), "");
}

TEST_F(PibInitBoot, StaticAddressSkipsDhcp) {
    Ran r = boot(60, "ip=10.217.0.77::10.217.0.1:255.255.255.0:pc-01:eth0:off");
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("hello from the new root pid=1\n"), std::string::npos) << r.out;
    EXPECT_NE(
        r.err.find("pib-init: static address 10.217.0.77 on eth0 (ip= on the command line)\n"),
        std::string::npos)
        << r.err;
    EXPECT_EQ(r.err.find("dhcp"), std::string::npos) << r.err;
    EXPECT_NE(read_text(store_ / "reports.log").find("/api/v1/nodes/pc-01/report"),
              std::string::npos);
}

// The host kernel has no NFS client (MACHINE-NOTES): pib-init tries the
// NFSv4 mount with the addresses it was given and stops with the reason,
// never falling back to anything unverified. The QEMU test
// (tests/e2e/nfs_boot_test.cpp) boots the same path for real.
TEST_F(PibInitBoot, NfsRootWithoutAKernelNfsClientStopsWithTheReason) {
    Ran r = boot(8, "pib.root=nfs pib.nfs=10.217.0.1:/srv/releases");
    EXPECT_NE(r.err.find("pib-init: nfs: mounting 10.217.0.1:/srv/releases read-only (NFSv4)"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("pib-init: cannot use the NFS root: mount -t nfs4 10.217.0.1:/srv/releases "
                         "(vers=4,proto=tcp,port=2049,"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("addr=10.217.0.1,clientaddr=10.217.0."), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("pib-init: rescue: boot stopped here"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("waiting for http://"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pib::client::test
