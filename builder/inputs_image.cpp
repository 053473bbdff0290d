// import_image: a disk image is opened read-only inside the libguestfs
// appliance (no loop devices or mounts on the build host), each chosen
// partition is streamed out as a tar archive and extracted with GNU tar.
#include <fcntl.h>
#include <guestfs.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "builder/inputs.hpp"
#include "builder/inputs_internal.hpp"
#include "common/fs.hpp"

namespace pib {

namespace {

// Files libguestfs would misread as raw bytes; FORMAT "raw" is forced because
// format probing of untrusted images is a known hole (CVE-2010-3851).
// Raspberry Pi OS ships its images xz-compressed (and once as zip).
struct ForeignFormat {
    std::string_view magic;
    const char* what;
    const char* hint;
};
constexpr ForeignFormat kForeign[] = {
    {"QFI\xfb", "a qcow2 image", "convert it with `qemu-img convert -O raw`"},
    {"KDMV", "a vmdk image", "convert it with `qemu-img convert -O raw`"},
    {"vhdxfile", "a vhdx image", "convert it with `qemu-img convert -O raw`"},
    {"conectix", "a vhd image", "convert it with `qemu-img convert -O raw`"},
    {"<<< Oracle VM VirtualBox Disk Image >>>", "a vdi image",
     "convert it with `qemu-img convert -O raw`"},
    {"\xfd"
     "7zXZ",
     "xz-compressed", "decompress it first (unxz)"},
    {"\x28\xb5\x2f\xfd", "zstd-compressed", "decompress it first (unzstd)"},
    {"\x1f\x8b", "gzip-compressed", "decompress it first (gunzip)"},
    {"BZh", "bzip2-compressed", "decompress it first (bunzip2)"},
    {"PK\x03\x04", "a zip archive", "extract the image from it first (unzip)"},
};

// Checks without launching the appliance (~13 s) that this can be a raw disk
// with a partition table: readable, not another image format, and carrying the
// 0x55AA signature at byte 510 that MBR and GPT's protective MBR both have.
Status check_raw_image(const fs::path& image) {
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
    std::string_view head(buf, static_cast<std::size_t>(n));
    for (const auto& f : kForeign) {
        if (head.substr(0, f.magic.size()) == f.magic) {
            return fail(Errc::unsupported, "image " + image.string() + " is " + f.what +
                                               ", not a raw disk image; " + f.hint);
        }
    }
    if (n < 512 || static_cast<unsigned char>(buf[510]) != 0x55 ||
        static_cast<unsigned char>(buf[511]) != 0xAA) {
        return fail(
            Errc::unsupported,
            "image " + image.string() + " is not a raw disk image: no MBR or GPT partition table");
    }
    return {};
}

// libguestfs warnings go to stderr unless someone listens; libraries never print.
void on_guestfs_event(guestfs_h*, void* opaque, uint64_t, int, int, const char* buf, size_t len,
                      const uint64_t*, size_t) {
    const auto* log = static_cast<const Logger*>(opaque);
    std::string msg(buf, len);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r')) msg.pop_back();
    log->event(Level::warn, "inputs", "guestfs_warning").kv("message", msg);
}

class Guest {
  public:
    explicit Guest(const Logger& log) : g_(guestfs_create_flags(0)) {
        if (!g_) return;
        guestfs_set_error_handler(g_, nullptr, nullptr);  // errors come back through last_error
        guestfs_set_event_callback(g_, on_guestfs_event, GUESTFS_EVENT_WARNING, 0,
                                   const_cast<Logger*>(&log));
    }
    ~Guest() {
        if (!g_) return;
        guestfs_shutdown(g_);
        guestfs_close(g_);
    }
    Guest(const Guest&) = delete;
    Guest& operator=(const Guest&) = delete;

    guestfs_h* get() const { return g_; }
    Error error(const std::string& what) const {
        const char* e = g_ ? guestfs_last_error(g_) : nullptr;
        return fail(Errc::io, what + ": " + (e ? e : "libguestfs gave no reason"));
    }

  private:
    guestfs_h* g_;
};

// A guestfs string list: NULL-terminated, every element and the array malloc'd.
struct StringList {
    char** v = nullptr;
    ~StringList() {
        if (!v) return;
        for (char** p = v; *p; ++p) std::free(*p);
        std::free(v);
    }
};

Status open_image(Guest& g, const fs::path& image) {
    guestfs_h* h = g.get();
    // KVM is unusable on our build hosts and libguestfs does not fall back from
    // it (MACHINE-NOTES "Virtualisation"): always the direct backend under TCG.
    char force_tcg[] = "force_tcg";
    char* settings[] = {force_tcg, nullptr};
    if (guestfs_set_backend(h, "direct") != 0) return g.error("guestfs set_backend");
    if (guestfs_set_backend_settings(h, settings) != 0)
        return g.error("guestfs set_backend_settings");
    if (guestfs_add_drive_opts(h, image.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                               GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, -1) != 0) {
        return g.error("open image " + image.string());
    }
    if (guestfs_launch(h) != 0) return g.error("launch libguestfs appliance for " + image.string());
    return {};
}

Result<std::vector<PartitionInfo>> read_partitions(Guest& g) {
    guestfs_h* h = g.get();
    StringList list{guestfs_list_partitions(h)};
    if (!list.v) return g.error("list partitions");
    std::vector<PartitionInfo> parts;
    for (char** p = list.v; *p; ++p) {
        PartitionInfo info;
        info.device = *p;
        info.number = guestfs_part_to_partnum(h, *p);
        if (info.number < 0) return g.error("partition number of " + info.device);
        std::int64_t size = guestfs_blockdev_getsize64(h, *p);
        if (size < 0) return g.error("size of " + info.device);
        info.size = static_cast<std::uint64_t>(size);
        // vfs_type fails (rather than returning "") on a partition blkid cannot identify.
        if (char* t = guestfs_vfs_type(h, *p)) {
            info.fstype = t;
            std::free(t);
        }
        parts.push_back(std::move(info));
    }
    return parts;
}

bool is_fat(const std::string& t) { return t == "vfat" || t == "msdos" || t == "exfat"; }

// Mounts one partition read-only, streams its tree out as a tar archive into
// `tar` and unmounts it again.
Status tar_out_partition(Guest& g, const PartitionInfo& p, const fs::path& tar) {
    guestfs_h* h = g.get();
    if (guestfs_mount_ro(h, p.device.c_str(), "/") != 0) return g.error("mount " + p.device);
    int rc = is_fat(p.fstype)
                 ? guestfs_tar_out_opts(h, "/", tar.c_str(), -1)
                 : guestfs_tar_out_opts(h, "/", tar.c_str(), GUESTFS_TAR_OUT_OPTS_NUMERICOWNER, 1,
                                        GUESTFS_TAR_OUT_OPTS_XATTRS, 1, GUESTFS_TAR_OUT_OPTS_ACLS,
                                        1, -1);
    Status st = rc == 0 ? Status{} : Status{g.error("copy out " + p.device)};
    if (guestfs_umount_all(h) != 0 && st.ok()) return g.error("unmount " + p.device);
    return st;
}

std::string describe_partitions(const std::vector<PartitionInfo>& parts) {
    std::string s;
    for (const auto& p : parts) {
        if (!s.empty()) s += ',';
        s += std::to_string(p.number) + ":" + (p.fstype.empty() ? "-" : p.fstype) + ":" +
             std::to_string(p.size);
    }
    return s;
}

// Removes the scratch directory holding the partition archives on every path out.
struct ScratchDir {
    fs::path path;
    ~ScratchDir() {
        if (!path.empty()) (void)remove_tree(path);
    }
};

}  // namespace

Result<ImportedImage> import_image(const fs::path& image, const ImageBase& spec,
                                   const fs::path& root, const fs::path& boot, const Logger& log) {
    auto start = std::chrono::steady_clock::now();
    PIB_TRY(check_raw_image(image));
    Guest g(log);
    if (!g.get()) return fail(Errc::io, "guestfs_create failed (is libguestfs installed?)");
    PIB_TRY(open_image(g, image));
    auto launched = std::chrono::steady_clock::now();
    auto parts = read_partitions(g);
    if (!parts) return parts.error();
    log.event(Level::info, "inputs", "image_opened")
        .kv("path", image.string())
        .kv("partitions", describe_partitions(*parts))
        .kv("launch_ms",
            static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(launched - start).count()));
    auto choice = choose_partitions(*parts, spec);
    if (!choice)
        return fail(choice.error().code, "image " + image.string() + ": " + choice.error().message);

    ImportedImage out;
    out.root_partition = choice->root->number;
    out.root_fstype = choice->root->fstype;
    if (choice->boot) {
        out.boot_partition = choice->boot->number;
        out.boot_fstype = choice->boot->fstype;
    }
    log.event(Level::info, "inputs", "image_partitions")
        .kv("root", out.root_partition)
        .kv("root_fstype", out.root_fstype)
        .kv("boot", out.boot_partition)
        .kv("boot_fstype", out.boot_fstype.empty() ? "-" : out.boot_fstype);

    // The archives go beside the destination (the build area, which must hold the
    // tree anyway), not to /tmp, which may be a small tmpfs.
    std::error_code ec;
    fs::path dest_parent = fs::absolute(root, ec).parent_path();
    fs::create_directories(dest_parent, ec);
    if (ec) return fail(Errc::io, "create " + dest_parent.string() + ": " + ec.message());
    auto tmp = make_temp_dir(dest_parent, "image-import");
    if (!tmp) return tmp.error();
    ScratchDir scratch{*tmp};

    using inputs_detail::Metadata;
    const fs::path root_tar = *tmp / "root.tar";
    PIB_TRY(tar_out_partition(g, *choice->root, root_tar));
    PIB_TRY(inputs_detail::extract_archive(root_tar, root, Metadata::keep, log));
    fs::remove(root_tar, ec);
    if (choice->boot) {
        const fs::path boot_tar = *tmp / "boot.tar";
        PIB_TRY(tar_out_partition(g, *choice->boot, boot_tar));
        PIB_TRY(inputs_detail::extract_archive(
            boot_tar, boot, is_fat(out.boot_fstype) ? Metadata::normalise : Metadata::keep, log));
    }
    log.event(Level::info, "inputs", "image_imported")
        .kv("path", image.string())
        .kv("root", root.string())
        .kv("boot", boot.string())
        .kv("ms", static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - start)
                                                .count()));
    return out;
}

}  // namespace pib
