// End to end: a UEFI PC boots the demo release with netbootd's default config.
// A QEMU x86_64 machine runs OVMF (Debian `ovmf`) with no iPXE option ROM on
// its virtio NIC (romfile=), so the firmware's own UEFI PXE boots: netbootd's
// proxy offer names ipxe.efi, fetched by TFTP from the default ipxe-dir
// (/usr/lib/ipxe, where Debian's ipxe.efi is a symlink to /boot/ipxe.efi);
// iPXE then asks for its script and boots kernel and initramfs over HTTP;
// pib-init verifies and mounts the release, reports, and the node reaches
// `login:`. scripts/netboot-vm.sh --uefi runs it in a private namespace.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>

#include "e2e/e2e_support.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

using namespace pib::e2e;

TEST(E2eUefi, OvmfPxeBootsIpxeEfiFromTheDefaultIpxeDirToLogin) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root (namespaces, image build)";
    ASSERT_TRUE(fs::exists("/usr/share/OVMF/OVMF_CODE.fd")) << "Debian package ovmf missing";
    ASSERT_TRUE(fs::exists("/usr/lib/ipxe/ipxe.efi")) << "Debian package ipxe missing";
    const auto pibuild = pib::test::built_binary("builder/pibuild");
    const auto netbootd = pib::test::built_binary("netbootd/netbootd");
    pib::test::TempDir dir;
    const fs::path store = dir.path() / "store";
    std::string out;

    const std::string id = build_demo_release(dir.path(), out);  // and fleet.key, fleet.pub
    ASSERT_FALSE(id.empty()) << out;
    const std::string mac = "52:54:00:e2:ef:01";
    write_text(dir.path() / "nodes.yaml",
               "nodes:\n  - name: uefi-a\n    hostname: uefi-a.lab\n    mac: " + mac +
                   "\n    release: " + id + "\n");
    ASSERT_EQ(
        run({pibuild.string(), "nodes", "render", "--inventory",
             (dir.path() / "nodes.yaml").string(), "--store", store.string(), "--key",
             (dir.path() / "fleet.key").string(), "--secrets", (dir.path() / "secrets").string()},
            &out),
        0)
        << out;

    NetbootVms vms;
    vms.workdir = dir.path() / "vm";
    const auto t0 = std::chrono::steady_clock::now();
    vms.start({"--uefi", "--store", store.string(), "--pubkey", (dir.path() / "fleet.pub").string(),
               "--inventory", (dir.path() / "nodes.yaml").string(), "--vm", mac, "--netbootd",
               netbootd.string()});
    auto netbootd_log = [&] { return read_text(vms.workdir / "netbootd.log"); };
    auto seconds_since_start = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    // Phases, each timed from the start, for the report below.
    double ipxe_fetched = 0, script = 0, login = 0;
    const bool booted = wait_for(
        [&] {
            const std::string log = netbootd_log();
            if (!ipxe_fetched &&
                std::regex_search(
                    log, std::regex("file=ipxe\\.efi bytes=[1-9][0-9]* .*result=completed")))
                ipxe_fetched = seconds_since_start();
            if (!script && log.find("http ipxe_script") != std::string::npos)
                script = seconds_since_start();
            return vms.console(1).find("uefi-a login:") != std::string::npos;
        },
        600s);
    login = seconds_since_start();
    ASSERT_TRUE(booted) << "console:\n"
                        << vms.console(1) << "\nnetbootd:\n"
                        << netbootd_log() << "\ndnsmasq:\n"
                        << read_text(vms.workdir / "dnsmasq.log");
    std::cout << "uefi boot: ipxe.efi fetched at " << ipxe_fetched << " s, iPXE script at "
              << script << " s, login: at " << login << " s\n";
    RecordProperty("seconds_to_ipxe_efi", std::to_string(ipxe_fetched));
    RecordProperty("seconds_to_login", std::to_string(login));

    const std::string log = netbootd_log();
    const std::string console = vms.console(1);
    // netbootd ran with the default ipxe-dir and resolved Debian's symlink.
    EXPECT_EQ(read_text(vms.workdir / "netbootd.yaml").find("ipxe-dir"), std::string::npos);
    const fs::path efi_target = fs::canonical("/usr/lib/ipxe/ipxe.efi");
    EXPECT_NE(log.find("netbootd ipxe_files dir=/usr/lib/ipxe"), std::string::npos) << log;
    EXPECT_NE(log.find(" ipxe.efi=" + efi_target.string()), std::string::npos) << log;
    // The firmware's own PXE asked (x86-64 UEFI), was offered ipxe.efi, and fetched it by TFTP
    // whole.
    EXPECT_TRUE(std::regex_search(
        log, std::regex("dhcp proxy_reply mac=" + mac + " kind=uefi_x64 .* file=ipxe\\.efi")))
        << log;
    EXPECT_TRUE(std::regex_search(
        log, std::regex("tftp transfer_done client=[0-9.:]+ .*file=ipxe\\.efi bytes=" +
                        std::to_string(fs::file_size(efi_target)) + " .*result=completed")))
        << log;
    EXPECT_EQ(log.find("request_refused"), std::string::npos) << log;
    // OVMF's own PXE (not an iPXE ROM) loaded it: EDK2's PxeBcDxe and BdsDxe say so.
    EXPECT_NE(console.find(">>Start PXE over IPv4."), std::string::npos) << console;
    EXPECT_NE(console.find("NBP filename is ipxe.efi"), std::string::npos) << console;
    EXPECT_NE(console.find("BdsDxe: starting Boot"), std::string::npos) << console;
    // Then iPXE (running from ipxe.efi) got its script, and pib-init reported the boot.
    EXPECT_TRUE(std::regex_search(log, std::regex("dhcp proxy_reply mac=" + mac + " kind=ipxe ")));
    EXPECT_NE(log.find("http ipxe_script client="), std::string::npos);
    EXPECT_NE(console.find("iPXE"), std::string::npos) << console;
    auto nodes = vms.api("/api/v1/nodes", out);
    ASSERT_TRUE(nodes.is_array()) << out;
    ASSERT_EQ(nodes.size(), 1u);
    EXPECT_EQ(nodes[0]["last_report"]["release"], id) << nodes[0];
}

}  // namespace
