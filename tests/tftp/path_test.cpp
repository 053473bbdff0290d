// Requested file names: normalisation, traversal attempts, and Raspberry Pi prefixes.
#include "tftp/path.hpp"

#include <gtest/gtest.h>

namespace pib::tftp {
namespace {

using namespace std::string_view_literals;

TEST(NormalizePath, CleanNamesPassThrough) {
    EXPECT_EQ(normalize_path("start4.elf").value(), "start4.elf");
    EXPECT_EQ(normalize_path("0a1b2c3d/overlays/vc4-kms-v3d.dtbo").value(),
              "0a1b2c3d/overlays/vc4-kms-v3d.dtbo");
    EXPECT_EQ(normalize_path("...").value(), "...");  // not a parent reference
    EXPECT_EQ(normalize_path("a..b/..c").value(), "a..b/..c");
    EXPECT_EQ(normalize_path("ünï.bin").value(), "ünï.bin");
}

TEST(NormalizePath, LeadingSlashesDotsAndDoubleSlashesAreDropped) {
    EXPECT_EQ(normalize_path("/pxelinux.0").value(), "pxelinux.0");
    EXPECT_EQ(normalize_path("//a//b/").value(), "a/b");
    EXPECT_EQ(normalize_path("./a/./b").value(), "a/b");
}

TEST(NormalizePath, BackslashesAreSeparators) {
    // Windows boot managers ask for "\Boot\BCD"; tftp-hpa setups remap '\' to '/'.
    EXPECT_EQ(normalize_path("\\Boot\\BCD").value(), "Boot/BCD");
    EXPECT_EQ(normalize_path("boot\\x64/wdsmgfw.efi").value(), "boot/x64/wdsmgfw.efi");
}

TEST(NormalizePath, TraversalIsRefused) {
    const std::string_view attempts[] = {
        "..",
        "../etc/passwd",
        "/../etc/passwd",
        "a/../../etc/shadow",
        "a/..",
        "0a1b2c3d/../../secret",
        "..\\..\\etc\\passwd",
        "a\\..\\..\\b",
        "a/..\\b",
        "./../x",
    };
    for (std::string_view a : attempts) {
        auto r = normalize_path(a);
        ASSERT_FALSE(r.ok()) << a << " -> " << r.value();
        EXPECT_EQ(r.error().code, Errc::invalid) << a;
        EXPECT_NE(r.error().message.find("leaves the root"), std::string::npos) << a;
    }
}

TEST(NormalizePath, EvenHarmlessParentReferencesAreRefused) {
    // "a/../b" stays inside, but dnsmasq refuses any ".." too and no boot file needs it.
    EXPECT_FALSE(normalize_path("a/../b").ok());
}

TEST(NormalizePath, ControlCharactersAndNulAreRefused) {
    for (std::string_view bad : {"a\0b"sv, "a\nb"sv, "\x1b[2Jx"sv, "x\x7f"sv}) {
        auto r = normalize_path(bad);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, Errc::invalid);
        // The message quotes the name escaped: no raw control bytes reach a log.
        for (char c : r.error().message) EXPECT_GE(static_cast<unsigned char>(c), 0x20);
    }
}

TEST(NormalizePath, NothingToNameIsRefused) {
    for (std::string_view empty : {""sv, "/"sv, "."sv, "//./"sv, "\\"sv}) {
        auto r = normalize_path(empty);
        ASSERT_FALSE(r.ok()) << empty;
        EXPECT_EQ(r.error().code, Errc::invalid);
    }
}

TEST(NormalizePath, OverlongComponentIsRefused) {
    EXPECT_TRUE(normalize_path(std::string(255, 'a')).ok());
    EXPECT_FALSE(normalize_path("d/" + std::string(256, 'a')).ok());
}

TEST(PiPath, SerialDirectory) {
    auto p = parse_pi_path("0a1b2c3d/start4.elf");
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, (PiPath{PiPrefix::serial, "0a1b2c3d", "start4.elf"}));
    EXPECT_EQ(parse_pi_path("deadbeef/overlays/a.dtbo")->rest, "overlays/a.dtbo");
}

TEST(PiPath, MacDirectory) {
    auto p = parse_pi_path("dc-a6-32-01-02-03/config.txt");
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, (PiPath{PiPrefix::mac, "dc-a6-32-01-02-03", "config.txt"}));
}

TEST(PiPath, AnythingElseIsNotAPiPath) {
    const std::string_view others[] = {
        "start4.elf",                    // root file
        "0a1b2c3d",                      // no file below
        "0a1b2c3d/",                     // (not normalised) empty rest
        "0A1B2C3D/start4.elf",           // upper case: the bootloader prints lower case
        "0a1b2c3/start4.elf",            // 7 digits
        "0a1b2c3d9/start4.elf",          // 9 digits
        "0a1b2c3g/start4.elf",           // not hex
        "dc:a6:32:01:02:03/config.txt",  // colons
        "DC-A6-32-01-02-03/config.txt",  // upper case
        "dc-a6-32-01-02/config.txt",     // five octets
        "dc-a6-32-01-02-0/config.txt",
        "pxelinux.cfg/01-dc-a6-32-01-02-03",
    };
    for (std::string_view o : others) EXPECT_FALSE(parse_pi_path(o)) << o;
}

TEST(PiPath, NormaliseThenParse) {
    auto clean = normalize_path("/0a1b2c3d//start4.elf");
    ASSERT_TRUE(clean.ok());
    auto p = parse_pi_path(*clean);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->rest, "start4.elf");
}

}  // namespace
}  // namespace pib::tftp
