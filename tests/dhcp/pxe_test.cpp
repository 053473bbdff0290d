// Client classification: the Pi versus the x86 BIOS ROM that sends the same
// vendor class, iPXE before everything, UEFI by architecture, and silence
// for clients that are not booting from the network.
#include "dhcp/pxe.hpp"

#include <gtest/gtest.h>

#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::load_packet;

ClientKind kind_of(const DhcpPacket& p, const ClassifyOptions& opts = {}) {
    auto c = classify(p, opts);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return c.ok() ? c->kind : ClientKind::not_pxe;
}

void set_mac(DhcpPacket& p, std::array<std::uint8_t, 6> mac) {
    std::copy(mac.begin(), mac.end(), p.chaddr.begin());
}

TEST(DhcpClassify, EveryFixtureGetsItsKind) {
    EXPECT_EQ(kind_of(load_packet("pi4_discover")), ClientKind::raspberry_pi);
    EXPECT_EQ(kind_of(load_packet("bios_pxe_discover")), ClientKind::bios_pxe);
    EXPECT_EQ(kind_of(load_packet("ipxe_bios_discover")), ClientKind::ipxe);
    EXPECT_EQ(kind_of(load_packet("uefi_x64_discover")), ClientKind::uefi_x64);
    EXPECT_EQ(kind_of(load_packet("uefi_arm64_discover")), ClientKind::uefi_arm64);
    EXPECT_EQ(kind_of(load_packet("uefi_http_discover")), ClientKind::uefi_http);
    EXPECT_EQ(kind_of(load_packet("uefi_x64_request_4011")), ClientKind::uefi_x64);
}

TEST(DhcpClassify, ThePiIsToldApartFromABiosRom) {
    // Same option 60 and 93 (rpi-eeprom #182); the GUID magic decides.
    DhcpPacket pi = load_packet("pi4_discover");
    set_mac(pi, {0x00, 0x15, 0x17, 0x01, 0x02, 0x03});  // an Intel MAC
    EXPECT_EQ(kind_of(pi), ClientKind::raspberry_pi);

    // Pre-2020 bootloaders repeat the serial in 97: then the MAC decides.
    ClientGuid old;
    for (int i = 0; i < 4; ++i) {
        old.id[4 * i] = 0x10;
        old.id[4 * i + 1] = 0x45;
        old.id[4 * i + 2] = 0x15;
        old.id[4 * i + 3] = 0x5b;
    }
    set_client_guid(pi.options, old);
    EXPECT_EQ(kind_of(pi), ClientKind::bios_pxe);
    set_mac(pi, {0xdc, 0xa6, 0x32, 0x2e, 0xf8, 0xed});
    EXPECT_EQ(kind_of(pi), ClientKind::raspberry_pi);

    DhcpPacket bios = load_packet("bios_pxe_discover");
    EXPECT_EQ(kind_of(bios), ClientKind::bios_pxe);
    EXPECT_EQ(kind_of(bios, ClassifyOptions{.pi_by_vendor_class_alone = true}),
              ClientKind::raspberry_pi);
    set_mac(bios, {0xe4, 0x5f, 0x01, 0xb7, 0x9d, 0xf1});  // a CM4 from cmprovision #16
    EXPECT_EQ(kind_of(bios), ClientKind::raspberry_pi);
}

TEST(DhcpClassify, AnArch0ClientWithAnotherVendorClassIsNoPi) {
    DhcpPacket p = load_packet("pi4_discover");
    set_vendor_class(p.options, "PXEClient:Arch:00000:UNDI:002000");
    EXPECT_EQ(kind_of(p), ClientKind::bios_pxe);
}

TEST(DhcpClassify, IpxeWinsOverArchitectureAndPi) {
    DhcpPacket p = load_packet("pi4_discover");  // even with the Pi's own GUID
    const std::vector<std::string> ipxe = {"iPXE"};
    set_user_classes(p.options, ipxe);
    EXPECT_EQ(kind_of(p), ClientKind::ipxe);

    DhcpPacket q = load_packet("uefi_x64_discover");
    set_ipxe_options(q.options, Options{});
    EXPECT_EQ(kind_of(q), ClientKind::ipxe);

    DhcpPacket r = load_packet("ipxe_bios_discover");
    r.options.erase(code::user_class);
    EXPECT_EQ(kind_of(r), ClientKind::ipxe);  // option 175 alone
    r.options.erase(code::ipxe_encap);
    EXPECT_EQ(kind_of(r), ClientKind::bios_pxe);  // QEMU MAC, zero GUID: a BIOS ROM
}

TEST(DhcpClassify, UefiByArchitecture) {
    DhcpPacket p = load_packet("uefi_x64_discover");
    const std::vector<std::uint16_t> x64 = {9}, arm = {11}, http_arm = {19}, ia32 = {6};
    set_client_arch(p.options, x64);
    EXPECT_EQ(kind_of(p), ClientKind::uefi_x64);
    set_client_arch(p.options, arm);
    EXPECT_EQ(kind_of(p), ClientKind::uefi_arm64);
    set_client_arch(p.options, http_arm);
    EXPECT_EQ(kind_of(p), ClientKind::uefi_http);  // arch 19 even under PXEClient
    set_client_arch(p.options, ia32);
    auto c = classify(p);
    EXPECT_EQ(c->kind, ClientKind::other_pxe);
    EXPECT_EQ(c->arch, ia32);
}

TEST(DhcpClassify, ArchFallsBackToTheVendorClass) {
    DhcpPacket p = load_packet("uefi_arm64_discover");
    p.options.erase(code::client_arch);
    auto c = classify(p);
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->arch, std::vector<std::uint16_t>{11});
    EXPECT_EQ(c->kind, ClientKind::uefi_arm64);

    set_vendor_class(p.options, "PXEClient");  // no Arch field at all
    EXPECT_EQ(kind_of(p), ClientKind::other_pxe);
}

TEST(DhcpClassify, ClientsThatAreNotBootingAreNotPxe) {
    DhcpPacket p = load_packet("pi4_discover");
    p.options.erase(code::vendor_class);
    EXPECT_EQ(kind_of(p), ClientKind::not_pxe);
    for (const char* vc : {"MSFT 5.0", "udhcp 1.35.0", "android-dhcp-13", "pxeclient"}) {
        set_vendor_class(p.options, vc);
        EXPECT_EQ(kind_of(p), ClientKind::not_pxe) << vc;
    }
    // A dhclient-style request that lists arch 0 but no PXE class: still not ours.
    DhcpPacket q = load_packet("bios_pxe_discover");
    q.options.set(code::vendor_class, std::vector<std::uint8_t>{});
    EXPECT_EQ(kind_of(q), ClientKind::not_pxe);
}

TEST(DhcpClassify, InfoCarriesWhatThePolicyNeeds) {
    auto c = classify(load_packet("pi4_discover"));
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->message_type, MessageType::discover);
    EXPECT_EQ(c->hwaddr, (std::vector<std::uint8_t>{0xdc, 0xa6, 0x32, 0x2e, 0xf8, 0xed}));
    EXPECT_EQ(c->vendor_class, kPiVendorClass);
    ASSERT_TRUE(c->guid.has_value());
    auto pi = pi_guid(*c->guid);
    ASSERT_TRUE(pi.has_value());
    EXPECT_EQ(pi->model, "RPi4");
    EXPECT_EQ(pi->board_revision, 0x00a03111u);
    EXPECT_EQ(pi->mac_low, (std::array<std::uint8_t, 4>{0x32, 0x2e, 0xf8, 0xed}));
    EXPECT_EQ(pi->serial, 0x5b154510u);  // the TFTP directory 5b154510/
}

TEST(DhcpClassify, MalformedOptionalOptionsReadAsAbsent) {
    DhcpPacket p = load_packet("uefi_x64_discover");
    p.options.set(code::client_guid, std::vector<std::uint8_t>{0, 1, 2});
    p.options.set(code::user_class, std::vector<std::uint8_t>{});
    auto c = classify(p);
    ASSERT_TRUE(c.ok());
    EXPECT_FALSE(c->guid.has_value());
    EXPECT_TRUE(c->user_classes.empty());
    EXPECT_EQ(c->kind, ClientKind::uefi_x64);
}

TEST(DhcpClassify, RefusesRepliesAndMessagesWithoutAType) {
    DhcpPacket reply = load_packet("pi4_offer_dnsmasq");
    auto r = classify(reply);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::unsupported);

    DhcpPacket p = load_packet("pi4_discover");
    p.options.erase(code::message_type);
    auto q = classify(p);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.error().code, Errc::corrupted);

    DhcpPacket wide = load_packet("pi4_discover");
    wide.hlen = 17;
    auto w = classify(wide);
    ASSERT_FALSE(w.ok());
    EXPECT_EQ(w.error().code, Errc::corrupted);
}

TEST(DhcpClassify, PiGuidNeedsTheMagic) {
    ClientGuid g;
    EXPECT_FALSE(pi_guid(g).has_value());
    g.id = {'R', 'P', 'i', '5', 0x17, 0x40, 0xd0, 0x00};
    auto pi = pi_guid(g);
    ASSERT_TRUE(pi.has_value());
    EXPECT_EQ(pi->model, "RPi5");
    EXPECT_EQ(pi->board_revision, 0x00d04017u);
}

TEST(DhcpClassify, RaspberryPiMacPrefixes) {
    for (auto mac : std::vector<std::vector<std::uint8_t>>{{0xb8, 0x27, 0xeb, 1, 2, 3},
                                                           {0xdc, 0xa6, 0x32, 1, 2, 3},
                                                           {0xe4, 0x5f, 0x01, 1, 2, 3},
                                                           {0xd8, 0x3a, 0xdd, 1, 2, 3},
                                                           {0x2c, 0xcf, 0x67, 1, 2, 3}}) {
        EXPECT_TRUE(is_raspberry_pi_mac(mac));
    }
    EXPECT_FALSE(is_raspberry_pi_mac(std::vector<std::uint8_t>{0x52, 0x54, 0x00, 1, 2, 3}));
    EXPECT_FALSE(is_raspberry_pi_mac(std::vector<std::uint8_t>{0xb8, 0x27}));
}

TEST(DhcpClassify, KindNames) {
    EXPECT_STREQ(kind_name(ClientKind::raspberry_pi), "raspberry_pi");
    EXPECT_STREQ(kind_name(ClientKind::not_pxe), "not_pxe");
    EXPECT_STREQ(kind_name(ClientKind::uefi_http), "uefi_http");
}

}  // namespace
}  // namespace pib::dhcp
