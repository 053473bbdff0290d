// import_image: a disk image is opened read-only inside the libguestfs
// appliance (no loop devices or mounts on the build host), each chosen
// partition is streamed out as a tar archive and extracted with GNU tar.
#include <guestfs.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "builder/inputs.hpp"
#include "builder/inputs_internal.hpp"
#include "common/fs.hpp"

namespace pib {

namespace {

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

// The direct backend, with TCG unless `kvm`. On hosts where /dev/kvm exists
// but cannot run guests libguestfs aborts instead of falling back to TCG
// (MACHINE-NOTES "Virtualisation"), so KVM is only tried when asked for.
// `shown` names the image in errors: the recipe's file, not a decompressed copy.
Status open_image(Guest& g, const fs::path& image, const std::string& shown, bool kvm) {
    guestfs_h* h = g.get();
    if (!h) return fail(Errc::io, "guestfs_create failed (is libguestfs installed?)");
    if (guestfs_set_backend(h, "direct") != 0) return g.error("guestfs set_backend");
    // Set even when empty: it replaces LIBGUESTFS_BACKEND_SETTINGS from the environment.
    char force_tcg[] = "force_tcg";
    char* tcg[] = {force_tcg, nullptr};
    char* none[] = {nullptr};
    if (guestfs_set_backend_settings(h, kvm ? none : tcg) != 0)
        return g.error("guestfs set_backend_settings");
    if (guestfs_add_drive_opts(h, image.c_str(), GUESTFS_ADD_DRIVE_OPTS_FORMAT, "raw",
                               GUESTFS_ADD_DRIVE_OPTS_READONLY, 1, -1) != 0) {
        return g.error("open image " + shown);
    }
    if (guestfs_launch(h) != 0) return g.error("launch libguestfs appliance for " + shown);
    return {};
}

// Launches the appliance on `image`: under TCG, or first with KVM when the
// options allow it and again under TCG if that fails (a failed handle cannot be
// launched again, so the second try gets a new one).
Result<std::unique_ptr<Guest>> launch_guest(const fs::path& image, const std::string& shown,
                                            const ImportOptions& opts, const Logger& log) {
    if (opts.try_kvm) {
        auto g = std::make_unique<Guest>(log);
        auto st = open_image(*g, image, shown, true);
        if (st.ok()) {
            log.event(Level::info, "inputs", "guestfs_backend").kv("accel", "kvm-or-tcg");
            return g;
        }
        log.event(Level::warn, "inputs", "guestfs_kvm_failed")
            .kv("error", st.error().message)
            .kv("retry", "tcg");
    }
    auto g = std::make_unique<Guest>(log);
    PIB_TRY(open_image(*g, image, shown, false));
    return g;
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

// Removes the scratch directory (decompressed image, partition archives) on
// every way out, and its parent too when import_image created it and nothing
// else was put there.
struct ScratchDir {
    fs::path path;
    bool created_parent = false;
    ~ScratchDir() {
        if (path.empty()) return;
        (void)remove_tree(path);
        std::error_code ec;
        if (created_parent && fs::is_empty(path.parent_path(), ec))
            fs::remove(path.parent_path(), ec);
    }
};

}  // namespace

ImportOptions ImportOptions::from_environment() {
    ImportOptions o;
    const char* kvm = std::getenv("PIBUILD_GUESTFS_KVM");
    o.try_kvm = kvm && std::string_view(kvm) == "1";
    return o;
}

Result<ImportedImage> import_image(const fs::path& image, const ImageBase& spec,
                                   const fs::path& root, const fs::path& boot, const Logger& log,
                                   const ImportOptions& opts) {
    auto start = std::chrono::steady_clock::now();
    // Refuse what cannot be imported before creating anything or launching the
    // appliance (~15 s under TCG).
    auto probe = inputs_detail::probe_image_file(image);
    if (!probe) return probe.error();
    PIB_TRY(inputs_detail::check_importable("image " + image.string(), *probe, false));

    // Scratch space goes beside the destination, in the build area that must
    // hold the tree anyway, not in /tmp, which may be a small tmpfs. It is
    // declared before the appliance handle, so the appliance is shut down
    // before its disk is removed.
    std::error_code ec;
    fs::path dest_parent = fs::absolute(root, ec).parent_path();
    bool created_parent = fs::create_directories(dest_parent, ec);
    if (ec) return fail(Errc::io, "create " + dest_parent.string() + ": " + ec.message());
    auto tmp = make_temp_dir(dest_parent, "image-import");
    if (!tmp) return tmp.error();
    ScratchDir scratch{*tmp, created_parent};

    fs::path disk = image;
    if (probe->format != ImageFormat::raw) {
        disk = *tmp / "disk.img";
        PIB_TRY(inputs_detail::decompress_image(image, probe->format, disk, log));
        auto inner = inputs_detail::probe_image_file(disk);
        if (!inner) return inner.error();
        PIB_TRY(inputs_detail::check_importable(
            "image " + image.string() + " (" + std::string(probe->what) + ")", *inner, true));
    }

    auto launching = std::chrono::steady_clock::now();
    auto guest = launch_guest(disk, image.string(), opts, log);
    if (!guest) return guest.error();
    Guest& g = **guest;
    auto launched = std::chrono::steady_clock::now();
    auto parts = read_partitions(g);
    if (!parts) return parts.error();
    log.event(Level::info, "inputs", "image_opened")
        .kv("path", image.string())
        .kv("partitions", describe_partitions(*parts))
        .kv("launch_ms",
            static_cast<std::int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(launched - launching)
                    .count()));
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
