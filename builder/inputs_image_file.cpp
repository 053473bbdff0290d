// The image file before libguestfs sees it: what its first bytes say it is,
// refusals with a hint for what cannot be imported, and decompression of the
// compressed raw images distributions ship (Raspberry Pi OS: .img.xz).
// Everything here is decided by content, never by the file name.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "builder/inputs.hpp"
#include "builder/inputs_internal.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"

namespace pib {

namespace {

using namespace std::string_view_literals;

struct Magic {
    std::string_view bytes;
    ImageFormat format;
    const char* what;
    const char* hint;  ///< for foreign formats only
};

// Checked before the 0x55AA signature: a compressed stream may carry those two
// bytes at 510 by chance, a raw disk does not start with these numbers.
// FORMAT "raw" is forced in the appliance because probing untrusted images is a
// known hole (CVE-2010-3851), so these formats must be caught here.
constexpr const char* kConvert = "convert it with `qemu-img convert -O raw`";
constexpr Magic kMagic[] = {
    {"\xfd"
     "7zXZ\0"sv,
     ImageFormat::xz, "xz-compressed", ""},
    {"\x28\xb5\x2f\xfd", ImageFormat::zstd, "zstd-compressed", ""},
    {"\x1f\x8b", ImageFormat::gzip, "gzip-compressed", ""},
    {"QFI\xfb", ImageFormat::foreign, "a qcow2 image", kConvert},
    {"KDMV", ImageFormat::foreign, "a vmdk image", kConvert},
    {"vhdxfile", ImageFormat::foreign, "a vhdx image", kConvert},
    {"conectix", ImageFormat::foreign, "a vhd image", kConvert},
    {"<<< Oracle VM VirtualBox Disk Image >>>", ImageFormat::foreign, "a vdi image", kConvert},
    {"BZh", ImageFormat::foreign, "bzip2-compressed", "decompress it first (bunzip2)"},
    {"PK\x03\x04", ImageFormat::foreign, "a zip archive",
     "extract the image from it first (unzip)"},
};

bool is_compressed(ImageFormat f) {
    return f == ImageFormat::xz || f == ImageFormat::zstd || f == ImageFormat::gzip;
}

// Each format's own tool, so that nothing beyond xz-utils, zstd and gzip is
// needed. zstd writes the file itself; xz and gzip write only to stdout, which
// sh redirects ("$1" and "$2" are arguments, never parsed as shell text). xz
// and zstd leave runs of zeros as holes, so a mostly empty image costs little
// disk; gzip writes every byte.
struct Tool {
    ImageFormat format;
    const char* program;
    const char* package;
};
constexpr Tool kTools[] = {
    {ImageFormat::xz, "xz", "xz-utils"},
    {ImageFormat::zstd, "zstd", "zstd"},
    {ImageFormat::gzip, "gzip", "gzip"},
};

std::vector<std::string> decompress_argv(const Tool& t, const fs::path& in, const fs::path& out) {
    if (t.format == ImageFormat::zstd) {
        return {"zstd", "-d", "-q", "-o", out.string(), "--", in.string()};
    }
    const std::string script = std::string("exec ") + t.program + " -dc -- \"$1\" > \"$2\"";
    return {"sh", "-c", script, "sh", in.string(), out.string()};
}

}  // namespace

ImageProbe probe_image(std::string_view head) {
    for (const auto& m : kMagic) {
        if (head.substr(0, m.bytes.size()) == m.bytes) return ImageProbe{m.format, m.what, m.hint};
    }
    if (head.size() >= 512 && static_cast<unsigned char>(head[510]) == 0x55 &&
        static_cast<unsigned char>(head[511]) == 0xAA) {
        return ImageProbe{ImageFormat::raw, "", ""};
    }
    return ImageProbe{};
}

namespace inputs_detail {

Result<ImageProbe> probe_image_file(const fs::path& image) {
    int fd = ::open(image.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        Errc code = errno == ENOENT ? Errc::not_found : Errc::io;
        return fail(code, errno_message("image " + image.string()));
    }
    char buf[512];
    ssize_t n = ::pread(fd, buf, sizeof buf, 0);
    int saved = errno;
    ::close(fd);
    if (n < 0) return fail(Errc::io, "image " + image.string() + ": read: " + std::strerror(saved));
    return probe_image(std::string_view(buf, static_cast<std::size_t>(n)));
}

Status check_importable(const std::string& shown, const ImageProbe& probe, bool nested) {
    switch (probe.format) {
        case ImageFormat::raw:
            return {};
        case ImageFormat::xz:
        case ImageFormat::zstd:
        case ImageFormat::gzip:
            if (!nested) return {};
            return fail(Errc::unsupported, shown + " is " + std::string(probe.what) +
                                               " again, not a raw disk image; only one layer of "
                                               "compression is unpacked");
        case ImageFormat::foreign:
            return fail(Errc::unsupported, shown + " is " + std::string(probe.what) +
                                               ", not a raw disk image; " +
                                               std::string(probe.hint));
        case ImageFormat::unknown:
            break;
    }
    return fail(Errc::unsupported,
                shown + " is not a raw disk image: no MBR or GPT partition table");
}

Status decompress_image(const fs::path& image, ImageFormat format, const fs::path& out,
                        const Logger& log) {
    const Tool* tool = nullptr;
    for (const auto& t : kTools) {
        if (t.format == format) tool = &t;
    }
    if (!tool || !is_compressed(format)) {
        return fail(Errc::invalid, "decompress " + image.string() + ": not a compressed image");
    }
    if (!have_program(tool->program)) {
        return fail(Errc::unsupported, "image " + image.string() + " needs " + tool->program +
                                           " to decompress it, and it is not installed "
                                           "(apt-get install " +
                                           tool->package + ")");
    }
    // zstd skips an input that is a symbolic link (without -f, which would also
    // overwrite); a recipe may well point at a "latest" link.
    std::error_code ec;
    const fs::path src = fs::canonical(image, ec);
    if (ec) return fail(Errc::io, "image " + image.string() + ": " + ec.message());
    auto start = std::chrono::steady_clock::now();
    auto r = run_checked(Command{.argv = decompress_argv(*tool, src, out)});
    if (!r) {
        return fail(r.error().code, "decompress image " + image.string() + " (" + tool->program +
                                        "): " + r.error().message);
    }
    auto bytes = fs::file_size(out, ec);
    if (ec) return fail(Errc::io, "decompress image " + image.string() + ": " + ec.message());
    log.event(Level::info, "inputs", "image_decompressed")
        .kv("path", image.string())
        .kv("format", tool->program)
        .kv("bytes", static_cast<std::uint64_t>(bytes))
        .kv("ms", static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count()));
    return {};
}

}  // namespace inputs_detail

}  // namespace pib
