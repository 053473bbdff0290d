// netbootd serving an iPXE directory laid out as Debian's (ipxe.efi a symlink
// into another directory) on loopback: tftp-hpa, atftp and curl fetch the
// binaries the links resolve to; a reload re-resolves them; nothing else in
// or beyond the directory is reachable through it; a target the daemon's user
// could write is refused at load (the binary's --check-config and the daemon),
// at reload, and when served after its mode changed.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "running_daemon.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"
#include "trusted_dir.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

std::uint16_t test_port(int offset) {
    return static_cast<std::uint16_t>(20000 + (getpid() % 5000) * 4 + offset);
}

using netbootd::test::eventually;

/// An iPXE directory as Debian's package lays it out, a store with one
/// release, and a config naming both.
struct IpxeSetup {
    netbootd::test::TrustedDir ipxe_root;  // boot/, share/, lib/ipxe/
    pib::test::TempDir dir;                // the store and config (a /tmp store is fine)
    fs::path ipxe_dir = ipxe_root / "lib/ipxe";
    fs::path config = dir / "netbootd.yaml";
    std::string efi = netbootd::test::random_bytes(700 * 1024, 21);
    std::string snp = netbootd::test::random_bytes(170 * 1024, 22);
    std::string kpxe = netbootd::test::random_bytes(70 * 1024, 23);
    std::uint16_t tftp_port = test_port(0), http_port = test_port(1);

    IpxeSetup() {
        write_text(ipxe_root / "boot/ipxe.efi", efi);
        write_text(ipxe_root / "share/snp/snponly.efi", snp);
        write_text(ipxe_dir / "undionly.kpxe", kpxe);
        fs::create_symlink(ipxe_root / "boot/ipxe.efi", ipxe_dir / "ipxe.efi");
        fs::create_symlink("../../share/snp/snponly.efi", ipxe_dir / "snponly.efi");
        // Beside the binaries: a file netbootd does not serve, and a link out of the tree.
        write_text(ipxe_dir / "ipxe.lkrn", "not an iPXE binary netbootd hands out");
        write_text(ipxe_root / "secret.txt", "secret");
        fs::create_symlink("../../secret.txt", ipxe_dir / "secret");

        const fs::path store = dir / "store";
        fs::create_directories(store / "releases");
        auto key = netbootd::test::fixed_key();
        netbootd::test::make_release(
            store / "releases", "demo", "pc",
            {{"root.squashfs", "r"}, {"boot/vmlinuz", "k"}, {"boot/initrd.img", "i"}}, key);
        write_text(dir / "release.pub", key.public_key().to_pem());
        write_text(config,
                   "store: " + store.string() + "\npublic-key: " + (dir / "release.pub").string() +
                       "\nlisten:\n  address: 127.0.0.1\n  tftp-port: " +
                       std::to_string(tftp_port) + "\n  http-port: " + std::to_string(http_port) +
                       "\nuser: nobody\ngroup: nogroup\nipxe-dir: " + ipxe_dir.string() + "\n");
    }

    std::string http(const std::string& path, int* code = nullptr) const {
        std::string out;
        const std::string u = "http://127.0.0.1:" + std::to_string(http_port) + path;
        if (code) {
            run({"curl", "-sS", "--path-as-is", "--max-time", "20", "-o", "/dev/null", "-w",
                 "%{http_code}", u},
                &out);
            *code = std::atoi(out.c_str());
            return "";
        }
        run({"curl", "-sS", "--path-as-is", "--max-time", "20", u}, &out);
        return out;
    }
    /// The file by tftp-hpa, or nullopt when the transfer failed.
    std::optional<std::string> tftp_hpa(const std::string& name) const {
        pib::test::TempDir out;
        const fs::path got = out / "got";
        if (run({"tftp", "-m", "binary", "127.0.0.1", std::to_string(tftp_port), "-c", "get", name,
                 got.string()}) != 0 ||
            !fs::exists(got))
            return std::nullopt;
        // tftp-hpa exits 0 after an ERROR packet too; it leaves an empty file then.
        std::string bytes = read_text(got);
        if (bytes.empty()) return std::nullopt;
        return bytes;
    }
    std::optional<std::string> atftp(const std::string& name) const {
        pib::test::TempDir out;
        const fs::path got = out / "got";
        if (run({"atftp", "--option", "blksize 1468", "-g", "-r", name, "-l", got.string(),
                 "127.0.0.1", std::to_string(tftp_port)}) != 0)
            return std::nullopt;
        return read_text(got);
    }
};

using Running = netbootd::test::RunningDaemon;

TEST(IpxeServe, SymlinkedDirectoryServedByTftpAndHttpAndReResolvedOnReload) {
    IpxeSetup s;
    Running d(s.config);
    ASSERT_TRUE(d.ok()) << d.error();
    EXPECT_NE(d.log().find("netbootd ipxe_files dir=" + s.ipxe_dir.string() +
                           " ipxe.efi=" + (s.ipxe_root / "boot/ipxe.efi").string() +
                           " snponly.efi=" + (s.ipxe_root / "share/snp/snponly.efi").string() +
                           " undionly.kpxe=" + (s.ipxe_dir / "undionly.kpxe").string()),
              std::string::npos)
        << d.log();

    // UEFI PXE (ipxe.efi), BIOS PXE (undionly.kpxe), and snponly.efi, by both TFTP clients.
    EXPECT_EQ(s.tftp_hpa("ipxe.efi"), s.efi);
    EXPECT_EQ(s.atftp("ipxe.efi"), s.efi);
    EXPECT_EQ(s.atftp("snponly.efi"), s.snp);
    EXPECT_EQ(s.tftp_hpa("undionly.kpxe"), s.kpxe);
    // UEFI HTTP boot (/ipxe/ipxe.efi) and the TFTP tree over HTTP (/boot/default/).
    EXPECT_EQ(s.http("/ipxe/ipxe.efi"), s.efi);
    EXPECT_EQ(s.http("/ipxe/snponly.efi"), s.snp);
    EXPECT_EQ(s.http("/boot/default/ipxe.efi"), s.efi);

    // Nothing but the binaries, and nothing beyond them.
    int code = 0;
    for (const char* path : {"/ipxe/secret", "/ipxe/ipxe.lkrn", "/ipxe/ipxe.efi/../secret",
                             "/ipxe/../../secret.txt", "/ipxe/..%2f..%2fsecret.txt",
                             "/ipxe/%2e%2e/secret", "/boot/default/secret", "/ipxe/ipxe.efi/x"}) {
        s.http(path, &code);
        EXPECT_TRUE(code == 403 || code == 404) << path << " -> " << code;
    }
    const std::string absolute = (s.ipxe_root / "secret.txt").string();
    for (const std::string& name :
         {std::string("secret"), std::string("ipxe.lkrn"), std::string("../secret.txt"),
          std::string("../../secret.txt"), std::string("ipxe.efi/../secret"),
          std::string("..\\..\\secret.txt"), std::string("lib/ipxe/secret"), absolute}) {
        EXPECT_EQ(s.tftp_hpa(name), std::nullopt) << name;
        EXPECT_EQ(s.atftp(name), std::nullopt) << name;
    }

    // A new ipxe.efi (the link repointed, as a package upgrade may do): seen after a reload.
    const std::string efi2 = netbootd::test::random_bytes(600 * 1024, 24);
    write_text(s.ipxe_root / "boot2/ipxe.efi", efi2);
    fs::create_symlink(s.ipxe_root / "boot2/ipxe.efi", s.ipxe_dir / "ipxe.efi.new");
    fs::rename(s.ipxe_dir / "ipxe.efi.new", s.ipxe_dir / "ipxe.efi");
    EXPECT_EQ(s.tftp_hpa("ipxe.efi"), s.efi) << "resolved once, at load";
    const auto reloads = d->reloads();
    d->request_reload();
    ASSERT_TRUE(eventually([&] { return d->reloads() > reloads; })) << d.log();
    EXPECT_EQ(s.tftp_hpa("ipxe.efi"), efi2);
    EXPECT_EQ(s.http("/ipxe/ipxe.efi"), efi2);

    // Made world-writable while served: refused at once, and the reload that
    // would resolve it again is refused naming it.
    ASSERT_EQ(chmod((s.ipxe_root / "boot2/ipxe.efi").c_str(), 0666), 0);
    EXPECT_EQ(s.tftp_hpa("ipxe.efi"), std::nullopt);
    s.http("/ipxe/ipxe.efi", &code);
    EXPECT_EQ(code, 403);
    EXPECT_EQ(s.http("/ipxe/ipxe.efi"),
              "access denied: ipxe.efi is writable by everyone (mode 0666) since the config was "
              "loaded\n");
    d->request_reload();
    ASSERT_TRUE(eventually([&] {
        return d.log().find("netbootd reload_failed") != std::string::npos;
    })) << d.log();
    EXPECT_NE(d.log().find("netbootd reload_failed what=config"), std::string::npos) << d.log();
    EXPECT_NE(
        d.log().find(":9:1: ipxe-dir: ipxe.efi: " + (s.ipxe_root / "boot2/ipxe.efi").string() +
                     " is writable by everyone (mode 0666)"),
        std::string::npos)
        << d.log();
    // The other binaries are still served from the snapshot that stayed.
    EXPECT_EQ(s.tftp_hpa("undionly.kpxe"), s.kpxe);
}

TEST(IpxeServe, WritableTargetOrDirectoryRefusedAtLoad) {
    IpxeSetup s;
    const auto bin = pib::test::built_binary("netbootd/netbootd");
    std::string out;
    ASSERT_EQ(run({bin.string(), "--check-config", s.config.string()}, &out), 0) << out;

    ASSERT_EQ(chmod((s.ipxe_root / "boot/ipxe.efi").c_str(), 0666), 0);
    EXPECT_EQ(run({bin.string(), "--check-config", s.config.string()}, &out), 2) << out;
    EXPECT_NE(
        out.find(
            s.config.string() +
            ":9:1: ipxe-dir: ipxe.efi: " + (s.ipxe_root / "boot/ipxe.efi").string() +
            " is writable by everyone (mode 0666): user nobody could change what PXE clients boot"),
        std::string::npos)
        << out;
    {
        Running d(s.config, false);
        EXPECT_FALSE(d.ok());
        EXPECT_NE(d.error().find("ipxe-dir: ipxe.efi:"), std::string::npos) << d.error();
    }
    ASSERT_EQ(chmod((s.ipxe_root / "boot/ipxe.efi").c_str(), 0644), 0);

    // The directory holding the links: whoever writes it repoints them.
    ASSERT_EQ(chmod(s.ipxe_dir.c_str(), 01777), 0);
    EXPECT_EQ(run({bin.string(), "--check-config", s.config.string()}, &out), 2) << out;
    for (const char* name : {"ipxe.efi", "snponly.efi", "undionly.kpxe"})
        EXPECT_NE(out.find(s.config.string() + ":9:1: ipxe-dir: " + name + ": directory " +
                           s.ipxe_dir.string() + " is writable by everyone (mode 1777)"),
                  std::string::npos)
            << name << "\n"
            << out;
}

}  // namespace
