// sanitize_root: a release is shared by every node and rebuilt bit for bit,
// so it must not carry one machine's identity or the time it was built.
// Node identity (machine-id, SSH host keys, hostname) comes from each node's
// overlay instead. The list is documented in docs/recipe.md ("What pibuild removes").
#include <unistd.h>

#include "builder/build_context.hpp"
#include "builder/root_paths.hpp"
#include "common/fs.hpp"

namespace pib {

namespace {

// Removed when present (globs inside the image).
constexpr const char* kRemove[] = {
    // Identity: per node, from the overlay.
    "/etc/ssh/ssh_host_*_key",
    "/etc/ssh/ssh_host_*_key.pub",
    "/var/lib/systemd/random-seed",
    "/var/lib/systemd/credential.secret",
    // Caches and logs stamped with the build time.
    "/var/cache/apt/*.bin",
    "/var/cache/apt/archives/*.deb",
    "/var/cache/ldconfig/aux-cache",
    "/var/cache/debconf/*-old",
    "/var/lib/dpkg/*-old",
    "/var/log/dpkg.log",
    "/var/log/alternatives.log",
    "/var/log/bootstrap.log",
    "/var/log/apt/eipp.log.xz",
    "/var/log/apt/history.log",
    "/var/log/apt/term.log",
    "/tmp/*",
    "/var/tmp/*",
};

}  // namespace

Status sanitize_root(BuildContext& ctx) {
    std::size_t removed = 0;
    for (const char* pattern : kRemove) {
        auto matches = glob_in_root(ctx.root, pattern);
        if (!matches) return matches.error();
        for (const auto& m : *matches) {
            PIB_TRY(remove_tree(m));
            ++removed;
        }
    }
    // apt's package lists record when they were fetched; keep the directory.
    auto lists = glob_in_root(ctx.root, "/var/lib/apt/lists/*");
    if (!lists) return lists.error();
    for (const auto& m : *lists) {
        auto name = m.filename().string();
        if (name == "lock" || name == "partial" || name == "auxfiles") continue;
        PIB_TRY(remove_tree(m));
        ++removed;
    }
    // An empty machine-id makes systemd treat every boot as a first boot of a
    // fresh machine until the node overlay supplies the node's own id.
    auto mid = resolve_in_root(ctx.root, "/etc/machine-id", false);
    if (mid && std::filesystem::is_regular_file(*mid)) {
        PIB_TRY(write_file_atomic(*mid, "", 0444));
    }
    auto dbus_mid = resolve_in_root(ctx.root, "/var/lib/dbus/machine-id", false);
    if (dbus_mid && std::filesystem::is_regular_file(*dbus_mid) &&
        !std::filesystem::is_symlink(*dbus_mid)) {
        PIB_TRY(remove_tree(*dbus_mid));
        ++removed;
    }
    ctx.log.event(Level::info, "build", "sanitized").kv("removed", removed);
    return {};
}

}  // namespace pib
