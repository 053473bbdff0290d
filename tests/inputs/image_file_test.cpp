// What import_image decides about an image file before the libguestfs
// appliance is launched: the format by content, refusals, and decompression
// with xz, zstd and gzip. Nothing here launches the appliance or needs root.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/inputs.hpp"
#include "builder/inputs_internal.hpp"
#include "support/disk_image.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// The first sector of an MBR disk: the 0x55AA signature at 510 and, when
// `gpt`, one partition of type 0xEE (the protective MBR in front of a GPT).
std::string boot_sector(bool gpt = false) {
    std::string s(512, '\0');
    if (gpt) s[446 + 4] = static_cast<char>(0xee);
    s[510] = static_cast<char>(0x55);
    s[511] = static_cast<char>(0xaa);
    return s;
}

// Each compressed format import_image unpacks, and the tool that writes it.
const std::pair<std::string, ImageFormat> kCompressions[] = {
    {"xz", ImageFormat::xz}, {"zstd", ImageFormat::zstd}, {"gzip", ImageFormat::gzip}};

// `magic` followed by zeros, to 512 bytes.
std::string header(std::string magic) {
    magic.resize(512, '\0');
    return magic;
}

TEST(ProbeImage, RawDisksByTheirSignature) {
    EXPECT_EQ(probe_image(boot_sector()).format, ImageFormat::raw);
    EXPECT_EQ(probe_image(boot_sector(true)).format, ImageFormat::raw);
    EXPECT_EQ(probe_image(boot_sector() + std::string(4096, 'x')).format, ImageFormat::raw);
    EXPECT_EQ(probe_image(boot_sector().substr(0, 511)).format, ImageFormat::unknown);
    EXPECT_EQ(probe_image(std::string(512, '\0')).format, ImageFormat::unknown);
    EXPECT_EQ(probe_image("").format, ImageFormat::unknown);
}

TEST(ProbeImage, CompressionByMagic) {
    EXPECT_EQ(probe_image(header(std::string("\xfd"
                                             "7zXZ\0",
                                             6)))
                  .format,
              ImageFormat::xz);
    EXPECT_EQ(probe_image(header("\x28\xb5\x2f\xfd")).format, ImageFormat::zstd);
    EXPECT_EQ(probe_image(header("\x1f\x8b\x08")).format, ImageFormat::gzip);
    EXPECT_EQ(probe_image(header("\x1f\x8b\x08")).what, "gzip-compressed");
    // Only the first five bytes of xz's six-byte magic: not xz.
    EXPECT_EQ(probe_image("\xfd"
                          "7zXZ")
                  .format,
              ImageFormat::unknown);
    // A compressed stream that happens to carry 0x55AA at 510 is still compressed.
    std::string xz_like = boot_sector();
    xz_like.replace(0, 6,
                    std::string("\xfd"
                                "7zXZ\0",
                                6));
    EXPECT_EQ(probe_image(xz_like).format, ImageFormat::xz);
}

// The magic table matches what the tools really write.
TEST(ProbeImage, WhatTheToolsWrite) {
    TempDir t;
    test::write_text(t / "disk.img", boot_sector() + std::string(64 * 1024, '\0'));
    for (const auto& [tool, format] : kCompressions) {
        const fs::path packed = t / (tool + ".out");
        ASSERT_EQ(test::compress_file(t / "disk.img", packed, tool), "");
        auto probe = inputs_detail::probe_image_file(packed);
        ASSERT_TRUE(probe.ok()) << probe.error().message;
        EXPECT_EQ(probe->format, format) << tool;
    }
}

TEST(ProbeImage, ForeignFormatsWithAHint) {
    const std::pair<std::string, std::string_view> cases[] = {
        {"QFI\xfb", "a qcow2 image"},
        {"KDMV", "a vmdk image"},
        {"vhdxfile", "a vhdx image"},
        {"conectix", "a vhd image"},
        {"<<< Oracle VM VirtualBox Disk Image >>>", "a vdi image"},
        {"BZh91AY&SY", "bzip2-compressed"},
        {"PK\x03\x04", "a zip archive"},
    };
    for (const auto& [magic, what] : cases) {
        // Foreign magic wins over a signature at 510, too.
        std::string head = boot_sector();
        head.replace(0, magic.size(), magic);
        auto p = probe_image(head);
        EXPECT_EQ(p.format, ImageFormat::foreign) << what;
        EXPECT_EQ(p.what, what);
        EXPECT_FALSE(p.hint.empty()) << what;
    }
}

// A 3 MiB file with a pattern, a long run of zeros and an odd length comes back
// byte for byte from each tool.
TEST(DecompressImage, EachFormatRoundTrips) {
    TempDir t;
    std::string data = boot_sector();
    for (std::size_t i = 0; i < 1'000'003; ++i) data.push_back(static_cast<char>((i * 13) >> 3));
    data += std::string(2 * 1024 * 1024, '\0') + "tail";
    test::write_text(t / "disk.img", data);
    for (const auto& [tool, format] : kCompressions) {
        SCOPED_TRACE(tool);
        const fs::path packed = t / (tool + ".packed");
        const fs::path out = t / (tool + ".raw");
        ASSERT_EQ(test::compress_file(t / "disk.img", packed, tool), "");
        // Through a symbolic link, as a recipe may name a "latest" link.
        const fs::path link = t / (tool + ".link");
        fs::create_symlink(packed.filename(), link);
        std::vector<std::string> lines;
        Logger log([&](Level, const std::string& l) { lines.push_back(l); });
        auto st = inputs_detail::decompress_image(link, format, out, log);
        ASSERT_TRUE(st.ok()) << st.error().message;
        EXPECT_TRUE(test::read_text(out) == data) << "decompressed bytes differ";
        ASSERT_EQ(lines.size(), 1u);
        EXPECT_NE(lines[0].find("inputs image_decompressed path=" + link.string() +
                                " format=" + tool + " bytes=" + std::to_string(data.size())),
                  std::string::npos)
            << lines[0];
    }
}

TEST(DecompressImage, TruncatedStreamFails) {
    TempDir t;
    test::write_text(t / "disk.img", boot_sector() + std::string(1024 * 1024, 'z'));
    for (const auto& [tool, format] : kCompressions) {
        SCOPED_TRACE(tool);
        const fs::path packed = t / (tool + ".packed");
        ASSERT_EQ(test::compress_file(t / "disk.img", packed, tool), "");
        fs::resize_file(packed, fs::file_size(packed) - 8);
        auto st = inputs_detail::decompress_image(packed, format, t / "out.raw", Logger());
        ASSERT_FALSE(st.ok());
        EXPECT_NE(
            st.error().message.find("decompress image " + packed.string() + " (" + tool + ")"),
            std::string::npos)
            << st.error().message;
    }
}

// import_image refuses these before creating anything or launching the appliance.
class ImportImageFile : public ::testing::Test {
  protected:
    Result<ImportedImage> import(const std::string& name) {
        return import_image(t_ / name, ImageBase{}, t_ / "out/root", t_ / "out/boot", Logger());
    }
    void expect_refused(const std::string& name, Errc code, const std::string& message) {
        auto r = import(name);
        ASSERT_FALSE(r.ok()) << name;
        EXPECT_EQ(r.error().code, code) << name;
        EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
        EXPECT_FALSE(fs::exists(t_ / "out")) << name << ": scratch space left behind";
    }
    TempDir t_;
};

TEST_F(ImportImageFile, NotADiskOrMissing) {
    test::write_text(t_ / "notes.txt", std::string(4096, 'x'));
    expect_refused("notes.txt", Errc::unsupported,
                   "image " + (t_ / "notes.txt").string() +
                       " is not a raw disk image: no MBR or GPT partition table");
    test::write_text(t_ / "empty.img", "");
    expect_refused("empty.img", Errc::unsupported, "not a raw disk image");
    expect_refused("missing.img", Errc::not_found, "missing.img");
}

TEST_F(ImportImageFile, ForeignFormatsWithAHint) {
    test::write_text(t_ / "disk.qcow2",
                     std::string("QFI\xfb\0\0\0\3", 8) + std::string(1024, '\0'));
    expect_refused("disk.qcow2", Errc::unsupported,
                   "is a qcow2 image, not a raw disk image; convert it with `qemu-img convert");
    test::write_text(t_ / "disk.zip", header("PK\x03\x04"));
    expect_refused("disk.zip", Errc::unsupported, "is a zip archive");
}

// Compressed files are decompressed (into scratch space that is removed again)
// and must then hold a raw disk; the name plays no part.
TEST_F(ImportImageFile, CompressedButNotADisk) {
    test::write_text(t_ / "notes.txt", std::string(4096, 'x'));
    ASSERT_EQ(test::compress_file(t_ / "notes.txt", t_ / "notes.img", "zstd"), "");
    expect_refused("notes.img", Errc::unsupported,
                   "image " + (t_ / "notes.img").string() +
                       " (zstd-compressed) is not a raw disk image: no MBR or GPT partition table");

    // One layer of compression is unpacked, not more.
    ASSERT_EQ(test::compress_file(t_ / "notes.txt", t_ / "notes.txt.gz", "gzip"), "");
    ASSERT_EQ(test::compress_file(t_ / "notes.txt.gz", t_ / "notes.txt.gz.xz", "xz"), "");
    expect_refused("notes.txt.gz.xz", Errc::unsupported,
                   "(xz-compressed) is gzip-compressed again, not a raw disk image");
}

TEST_F(ImportImageFile, TruncatedCompressedImage) {
    test::write_text(t_ / "disk.img", boot_sector() + std::string(1024 * 1024, 'z'));
    ASSERT_EQ(test::compress_file(t_ / "disk.img", t_ / "disk.img.xz", "xz"), "");
    fs::resize_file(t_ / "disk.img.xz", fs::file_size(t_ / "disk.img.xz") / 2);
    expect_refused("disk.img.xz", Errc::io, "decompress image " + (t_ / "disk.img.xz").string());
}

TEST(ImportOptions, KvmOnlyWhenAskedFor) {
    ::unsetenv("PIBUILD_GUESTFS_KVM");
    EXPECT_FALSE(ImportOptions::from_environment().try_kvm);
    ::setenv("PIBUILD_GUESTFS_KVM", "0", 1);
    EXPECT_FALSE(ImportOptions::from_environment().try_kvm);
    ::setenv("PIBUILD_GUESTFS_KVM", "1", 1);
    EXPECT_TRUE(ImportOptions::from_environment().try_kvm);
    ::unsetenv("PIBUILD_GUESTFS_KVM");
    EXPECT_FALSE(ImportOptions{}.try_kvm);
}

}  // namespace
}  // namespace pib
