// apply_steps: the recipe's steps, in order. Commands run chrooted into the
// root in a private mount namespace (process.hpp); file steps resolve their
// paths inside the image (root_paths.hpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/build_context.hpp"
#include "builder/inputs.hpp"
#include "builder/root_paths.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "crypto/sha256.hpp"

namespace pib {

namespace {

std::string where(const BuildContext& ctx, const Step& step) {
    return ctx.recipe.file.string() + ":" + std::to_string(step.pos.line) + ":" +
           std::to_string(step.pos.col) + ": ";
}

// Applies owner/group/mode to one path without following a final symlink.
Status apply_ownership(const std::filesystem::path& root, const std::filesystem::path& host,
                       const Ownership& own, bool apply_mode) {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (own.owner) {
        auto u = lookup_user(root, *own.owner);
        if (!u) return u.error();
        uid = *u;
    }
    if (own.group) {
        auto g = lookup_group(root, *own.group);
        if (!g) return g.error();
        gid = *g;
    }
    if ((own.owner || own.group) && ::lchown(host.c_str(), uid, gid) != 0) {
        return fail(Errc::io, errno_message("chown " + image_path(root, host)));
    }
    if (apply_mode && own.mode && ::chmod(host.c_str(), *own.mode) != 0) {
        return fail(Errc::io, errno_message("chmod " + image_path(root, host)));
    }
    return {};
}

// Host files are owned by whoever built them; inside the image they belong to
// root unless the recipe says otherwise.
Ownership default_root(Ownership own) {
    if (!own.owner) own.owner = "0";
    if (!own.group) own.group = "0";
    return own;
}

Status write_step(BuildContext& ctx, const WriteStep& w) {
    auto dest = resolve_in_root(ctx.root, w.path, true);
    if (!dest) return dest.error();
    std::error_code ec;
    if (std::filesystem::is_symlink(*dest, ec)) std::filesystem::remove(*dest, ec);
    PIB_TRY(write_file_atomic(*dest, w.content, w.own.mode.value_or(0644)));
    return apply_ownership(ctx.root, *dest, default_root(w.own), true);
}

Status copy_step(BuildContext& ctx, const CopyStep& c) {
    std::filesystem::path src = c.src.location;
    auto dest = resolve_in_root(ctx.root, c.dest, true);
    if (!dest) return dest.error();
    std::error_code ec;
    auto own = default_root(c.own);
    if (std::filesystem::is_directory(src, ec)) {
        std::filesystem::create_directories(*dest, ec);
        PIB_TRY(run_checked(Command{{"cp", "-a", "--no-preserve=ownership", "--",
                                     (src / ".").string(), dest->string()}}));
        // Owner and group apply to everything copied; modes stay as on the host
        // except the top directory when the recipe gives one.
        for (auto it = std::filesystem::recursive_directory_iterator(*dest, ec);
             it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            PIB_TRY(apply_ownership(ctx.root, it->path(), own, false));
        }
        PIB_TRY(apply_ownership(ctx.root, *dest, own, true));
        ctx.inputs.push_back(BuildInput{"directory", src.string(), ""});
        return {};
    }
    auto data = read_file(src);
    if (!data) return data.error();
    struct stat st{};
    unsigned mode = (::stat(src.c_str(), &st) == 0) ? (st.st_mode & 07777) : 0644;
    if (std::filesystem::is_symlink(*dest, ec)) std::filesystem::remove(*dest, ec);
    PIB_TRY(write_file_atomic(*dest, *data, own.mode.value_or(mode)));
    PIB_TRY(apply_ownership(ctx.root, *dest, own, true));
    ctx.inputs.push_back(BuildInput{"file", src.string(), sha256_hex(*data)});
    return {};
}

Status remove_step(BuildContext& ctx, const RemoveStep& r) {
    for (const auto& pattern : r.paths) {
        auto matches = glob_in_root(ctx.root, pattern);
        if (!matches) return matches.error();
        for (const auto& m : *matches) {
            ctx.log.event(Level::info, "build", "remove").kv("path", image_path(ctx.root, m));
            PIB_TRY(remove_tree(m));
        }
    }
    return {};
}

Status install_step(BuildContext& ctx, const InstallStep& in) {
    if (!std::filesystem::exists(ctx.root / "usr/bin/apt-get")) {
        return fail(Errc::unsupported, "the image has no apt-get; install steps need a Debian-based root");
    }
    if (!ctx.apt_updated) {
        PIB_TRY(ctx.run_in_root({"apt-get", "update"}, "apt-get update"));
        ctx.apt_updated = true;
    }
    std::vector<std::string> argv = {"apt-get", "install", "-y", "--no-install-recommends",
                                     "-o", "Dpkg::Options::=--force-confold"};
    argv.insert(argv.end(), in.packages.begin(), in.packages.end());
    return ctx.run_in_root(argv, "install");
}

// Masking is one symlink to /dev/null in /etc/systemd/system, exactly what
// `systemctl mask` writes; done here so that it needs no systemctl (or
// emulation) and works for units the image may not have.
Status mask_units(BuildContext& ctx, const UnitsStep& u) {
    for (const auto& unit : u.units) {
        auto link = resolve_in_root(ctx.root, "/etc/systemd/system/" + unit, true);
        if (!link) return link.error();
        std::error_code ec;
        auto st = std::filesystem::symlink_status(*link, ec);
        if (std::filesystem::is_symlink(st)) {
            std::filesystem::remove(*link, ec);
        } else if (std::filesystem::exists(st)) {
            return fail(Errc::exists, "cannot mask " + unit + ": /etc/systemd/system/" + unit +
                                          " is a unit file of the image, not a link");
        }
        std::filesystem::create_symlink("/dev/null", *link, ec);
        if (ec) return fail(Errc::io, "mask " + unit + ": " + ec.message());
        ctx.log.event(Level::info, "build", "unit_masked").kv("unit", unit);
    }
    return {};
}

Status units_step(BuildContext& ctx, const UnitsStep& u) {
    if (u.action == UnitsStep::Action::mask) return mask_units(ctx, u);
    const char* verb = u.action == UnitsStep::Action::enable    ? "enable"
                       : u.action == UnitsStep::Action::disable ? "disable"
                                                                 : "mask";
    std::vector<std::string> argv = {"systemctl", verb};
    argv.insert(argv.end(), u.units.begin(), u.units.end());
    return ctx.run_in_root(argv, std::string("systemctl ") + verb);
}

Status group_step(BuildContext& ctx, const GroupStep& g) {
    std::vector<std::string> argv = {"groupadd"};
    if (g.gid) argv.insert(argv.end(), {"--gid", std::to_string(*g.gid)});
    if (g.system) argv.push_back("--system");
    argv.push_back(g.name);
    return ctx.run_in_root(argv, "groupadd");
}

Status user_step(BuildContext& ctx, const UserStep& u) {
    std::vector<std::string> argv = {"useradd", "--create-home", "--shell", u.shell};
    if (u.uid) argv.insert(argv.end(), {"--uid", std::to_string(*u.uid)});
    if (u.group) argv.insert(argv.end(), {"--gid", *u.group});
    else argv.push_back("--user-group");
    if (!u.groups.empty()) {
        std::string gs;
        for (const auto& g : u.groups) gs += (gs.empty() ? "" : ",") + g;
        argv.insert(argv.end(), {"--groups", gs});
    }
    if (u.home) argv.insert(argv.end(), {"--home-dir", *u.home});
    if (u.system) argv.push_back("--system");
    if (u.password_hash) argv.insert(argv.end(), {"--password", *u.password_hash});
    argv.push_back(u.name);
    return ctx.run_in_root(argv, "useradd");
}

Status run_step(BuildContext& ctx, const Step& step) {
    return std::visit(
        [&](const auto& s) -> Status {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, InstallStep>) return install_step(ctx, s);
            else if constexpr (std::is_same_v<T, CopyStep>) return copy_step(ctx, s);
            else if constexpr (std::is_same_v<T, WriteStep>) return write_step(ctx, s);
            else if constexpr (std::is_same_v<T, RunStep>)
                return ctx.run_in_root({"/bin/sh", "-ec", s.script}, "run");
            else if constexpr (std::is_same_v<T, UnitsStep>) return units_step(ctx, s);
            else if constexpr (std::is_same_v<T, GroupStep>) return group_step(ctx, s);
            else if constexpr (std::is_same_v<T, UserStep>) return user_step(ctx, s);
            else return remove_step(ctx, s);
        },
        step.kind);
}

bool needs_chroot(const Step& step) {
    if (const auto* u = std::get_if<UnitsStep>(&step.kind)) return u->action != UnitsStep::Action::mask;
    return std::holds_alternative<InstallStep>(step.kind) || std::holds_alternative<RunStep>(step.kind) ||
           std::holds_alternative<GroupStep>(step.kind) || std::holds_alternative<UserStep>(step.kind);
}

// While steps run: no service may start inside the chroot (policy-rc.d, the
// Debian convention) and apt needs the host's resolver. Both are undone after.
struct ChrootGuard {
    BuildContext& ctx;
    std::filesystem::path policy, resolv, resolv_saved;
    bool active = false;

    Status enter() {
        auto p = resolve_in_root(ctx.root, "/usr/sbin/policy-rc.d", true);
        auto r = resolve_in_root(ctx.root, "/etc/resolv.conf", true);
        if (!p) return p.error();
        if (!r) return r.error();
        policy = *p;
        resolv = *r;
        resolv_saved = resolv.string() + ".pibuild-saved";
        std::error_code ec;
        if (std::filesystem::exists(resolv, ec) || std::filesystem::is_symlink(resolv, ec)) {
            std::filesystem::rename(resolv, resolv_saved, ec);
        }
        PIB_TRY(write_file_atomic(policy, "#!/bin/sh\nexit 101\n", 0755));
        auto host = read_file("/etc/resolv.conf");
        PIB_TRY(write_file_atomic(resolv, host ? *host : "", 0644));
        active = true;
        return {};
    }
    ~ChrootGuard() {
        if (!active) return;
        std::error_code ec;
        std::filesystem::remove(policy, ec);
        std::filesystem::remove(resolv, ec);
        if (std::filesystem::exists(resolv_saved, ec) || std::filesystem::is_symlink(resolv_saved, ec)) {
            std::filesystem::rename(resolv_saved, resolv, ec);
        }
    }
};

}  // namespace

Status apply_steps(BuildContext& ctx) {
    bool chroot_needed = false;
    for (const auto& s : ctx.recipe.steps) chroot_needed |= needs_chroot(s);
    ChrootGuard guard{ctx, {}, {}, {}};
    if (chroot_needed) {
        PIB_TRY(ensure_binfmt(ctx.recipe.arch, ctx.log));
        PIB_TRY(guard.enter());
    }
    int n = 0;
    for (const auto& step : ctx.recipe.steps) {
        ++n;
        auto st = run_step(ctx, step);
        if (!st) {
            return fail(st.error().code, where(ctx, step) + "step " + std::to_string(n) +
                                             " failed: " + st.error().message);
        }
    }
    if (ctx.apt_updated) PIB_TRY(ctx.run_in_root({"apt-get", "clean"}, "apt-get clean"));
    return {};
}

}  // namespace pib
