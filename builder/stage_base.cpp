// fetch_base: the base tree into <work>/root.
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>

#include "builder/build_context.hpp"
#include "builder/inputs.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "crypto/sha256.hpp"

namespace pib {

std::string host_arch() {
    utsname u{};
    ::uname(&u);
    std::string m = u.machine;
    if (m == "x86_64") return "amd64";
    if (m == "aarch64") return "arm64";
    return m;
}

// A foreign-architecture root runs its maintainer scripts and our run steps
// through qemu-user; the kernel finds qemu through binfmt_misc. Debian's
// qemu-user-static registers with the F (fix-binary) flag, so nothing has to
// be copied into the chroot.
Status ensure_binfmt(Arch arch, const Logger& log) {
    // (declared in build_context.hpp; also needed by chroot steps on imported images)
    if (arch_name(arch) == host_arch()) return {};
    const std::string qemu = arch == Arch::arm64 ? "qemu-aarch64" : "qemu-x86_64";
    const std::filesystem::path entry = "/proc/sys/fs/binfmt_misc/" + qemu;
    if (std::filesystem::exists(entry)) return {};
    if (!std::filesystem::exists("/proc/sys/fs/binfmt_misc/register")) {
        log.event(Level::info, "build", "binfmt_mount");
        Command mnt{{"mount", "-t", "binfmt_misc", "binfmt_misc", "/proc/sys/fs/binfmt_misc"}};
        (void)run_process(mnt);
    }
    if (have_program("update-binfmts")) {
        log.event(Level::info, "build", "binfmt_enable").kv("interpreter", qemu);
        (void)run_process(Command{{"update-binfmts", "--enable", qemu}});
    }
    if (std::filesystem::exists(entry)) return {};
    return fail(Errc::unsupported,
                std::string("building an ") + arch_name(arch) + " root on " + host_arch() +
                    " needs " + qemu + " registered with binfmt_misc: install qemu-user-static, "
                    "binfmt-support and arch-test (apt-get install qemu-user-static binfmt-support arch-test), and "
                    "make sure /proc/sys/fs/binfmt_misc is mounted");
}

namespace {

std::string join(const std::vector<std::string>& v, char sep) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += sep;
        s += x;
    }
    return s;
}

Status debian_base(BuildContext& ctx, const DebianBase& deb) {
    if (!have_program("mmdebstrap")) {
        return fail(Errc::unsupported, "mmdebstrap is not installed (apt-get install mmdebstrap)");
    }
    PIB_TRY(ensure_binfmt(ctx.recipe.arch, ctx.log));
    std::vector<std::string> argv = {"mmdebstrap", "--mode=root", "--format=directory",
                                     "--variant=" + deb.variant,
                                     std::string("--architectures=") + arch_name(ctx.recipe.arch),
                                     "--components=" + join(deb.components, ',')};
    if (!deb.packages.empty()) argv.push_back("--include=" + join(deb.packages, ','));
    // This project builds its own boot files; a kernel package must not run
    // mkinitramfs under emulation (measured: >14 min for arm64) when the
    // recipe does not use the image's initramfs.
    if (ctx.recipe.boot.initramfs.empty()) {
        argv.push_back(
            "--essential-hook=mkdir -p \"$1/etc/initramfs-tools\" && "
            "chroot \"$1\" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs && "
            "ln -s /bin/true \"$1/usr/sbin/update-initramfs\"");
        argv.push_back(
            "--customize-hook=rm -f \"$1/usr/sbin/update-initramfs\" && "
            "chroot \"$1\" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs");
    }
    argv.insert(argv.end(), {deb.suite, ctx.root.string(), deb.mirror});

    Command cmd{argv};
    cmd.env_set = ctx.tool_env();
    cmd.on_line = [&](const std::string& l) { ctx.observer.tool_output(l); };
    ctx.log.event(Level::info, "build", "mmdebstrap").kv("suite", deb.suite).kv("variant", deb.variant)
        .kv("arch", arch_name(ctx.recipe.arch)).kv("packages", join(deb.packages, ','));
    PIB_TRY(run_checked(cmd));

    // The package set is what makes a Debian base what it is: record it, so
    // that two manifests differ exactly when the installed versions differ.
    Command q{{"dpkg-query", "--admindir=" + (ctx.root / "var/lib/dpkg").string(), "-W",
               "-f=${Package}:${Architecture}=${Version}\\n"}};
    q.capture_stdout = true;
    auto listed = run_checked(q);
    if (!listed) return listed.error();
    std::vector<std::string> lines;
    std::string cur;
    for (char c : listed->out) {
        if (c == '\n') { if (!cur.empty()) lines.push_back(cur); cur.clear(); }
        else cur += c;
    }
    std::sort(lines.begin(), lines.end());
    std::string pkglist = join(lines, '\n') + "\n";
    ctx.inputs.push_back(BuildInput{"debian",
                                    deb.suite + " " + deb.variant + " " + deb.mirror + " " +
                                        join(deb.components, ','),
                                    sha256_hex(pkglist)});
    ctx.log.event(Level::info, "build", "base_packages").kv("count", lines.size());
    return {};
}

}  // namespace

Status fetch_base(BuildContext& ctx) {
    std::error_code ec;
    if (const auto* deb = std::get_if<DebianBase>(&ctx.recipe.base)) return debian_base(ctx, *deb);

    std::filesystem::create_directories(ctx.root, ec);
    if (ec) return fail(Errc::io, "create " + ctx.root.string() + ": " + ec.message());
    if (const auto* img = std::get_if<ImageBase>(&ctx.recipe.base)) {
        auto local = fetch_source(img->source, "image", ctx.opts.cache_dir, ctx.log);
        if (!local) return local.error();
        ctx.inputs.push_back(local->input);
        std::filesystem::create_directories(ctx.image_boot, ec);
        auto imported = import_image(local->path, *img, ctx.root, ctx.image_boot, ctx.log);
        if (!imported) return imported.error();
        return {};
    }
    if (const auto* tar = std::get_if<TarballBase>(&ctx.recipe.base)) {
        auto local = fetch_source(tar->source, "tarball", ctx.opts.cache_dir, ctx.log);
        if (!local) return local.error();
        ctx.inputs.push_back(local->input);
        return extract_tarball(local->path, ctx.root, ctx.log);
    }
    const auto& dir = std::get<DirectoryBase>(ctx.recipe.base);
    ctx.inputs.push_back(BuildInput{"directory", dir.source.location, ""});
    return copy_tree(dir.source.location, ctx.root, ctx.log);
}

}  // namespace pib
