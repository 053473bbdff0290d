#include "overlays/render.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"
#include "overlays/secrets.hpp"
#include "overlays/stage.hpp"
#include "squashfs/writer.hpp"

namespace pib::overlays {

namespace {

/// Where the overlays are, locked for the whole render, and the group their
/// files get (so that netbootd, running as its own user, can read them).
struct OverlayRoot {
    fs::path dir;
    gid_t group = 0;
    int lock_fd = -1;
    ~OverlayRoot() {
        if (lock_fd >= 0) ::close(lock_fd);
    }
};

Result<gid_t> group_of(const fs::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return fail(Errc::io, errno_message("stat " + p.string()));
    return st.st_gid;
}

// <store>/overlays, created 0750 with the group `netbootd` when this host has
// one (the daemon's default group), else the store's; an existing directory
// keeps the group it has, and everything below it gets that group.
Status open_overlay_root(const fs::path& store, OverlayRoot& root) {
    struct stat st {};
    if (::stat(store.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return fail(Errc::not_found, "store " + store.string() + " is not a directory");
    }
    root.dir = store / "overlays";
    if (::mkdir(root.dir.c_str(), 0750) == 0) {
        gid_t gid = st.st_gid;
        if (const struct group* g = ::getgrnam("netbootd")) gid = g->gr_gid;
        if (::chown(root.dir.c_str(), static_cast<uid_t>(-1), gid) != 0 ||
            ::chmod(root.dir.c_str(), 0750) != 0) {
            return fail(Errc::io, errno_message("chown/chmod " + root.dir.string()));
        }
    } else if (errno != EEXIST) {
        return fail(Errc::io, errno_message("mkdir " + root.dir.string()));
    }
    auto gid = group_of(root.dir);
    if (!gid) return gid.error();
    root.group = *gid;
    const fs::path lock = root.dir / ".render.lock";
    root.lock_fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (root.lock_fd < 0) return fail(Errc::io, errno_message("open " + lock.string()));
    // Renders of one store take turns: each may remove the other's temporaries.
    while (::flock(root.lock_fd, LOCK_EX) != 0) {
        if (errno != EINTR) return fail(Errc::io, errno_message("lock " + lock.string()));
    }
    return {};
}

bool is_temporary(const std::string& name) {
    return name.starts_with(".") && name.find(".tmp-") != std::string::npos;
}

// What a killed render leaves: hidden temporary directories (a half-built
// overlay, or an old one swapped out and not yet removed).
Status remove_leftovers(const fs::path& dir, const Logger& log) {
    std::error_code ec;
    std::vector<fs::path> stale;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        if (is_temporary(e.path().filename().string())) stale.push_back(e.path());
    }
    if (ec) return fail(Errc::io, "list " + dir.string() + ": " + ec.message());
    for (const auto& p : stale) {
        PIB_TRY(remove_tree(p));
        log.event(Level::info, "overlays", "leftover_removed").kv("path", p.string());
    }
    return {};
}

Status set_group(const fs::path& p, gid_t gid, unsigned mode) {
    if (::chown(p.c_str(), static_cast<uid_t>(-1), gid) != 0 || ::chmod(p.c_str(), mode) != 0) {
        return fail(Errc::io, errno_message("chown/chmod " + p.string()));
    }
    return {};
}

// The same bytes in every file, and nothing else there.
bool same_overlay(const fs::path& have, const fs::path& want) {
    std::error_code ec;
    std::set<std::string> names_have, names_want;
    for (const auto& e : fs::directory_iterator(have, ec))
        names_have.insert(e.path().filename().string());
    if (ec) return false;
    for (const auto& e : fs::directory_iterator(want, ec))
        names_want.insert(e.path().filename().string());
    if (ec || names_have != names_want) return false;
    for (const auto& n : names_want) {
        auto a = sha256_file(have / n);
        auto b = sha256_file(want / n);
        if (!a || !b || a->sha256 != b->sha256 || a->size != b->size) return false;
    }
    return true;
}

// renameat2(RENAME_EXCHANGE): `dir` holds the new overlay at once, and `tmp`
// the old one, to be removed.
Status exchange(const fs::path& tmp, const fs::path& dir) {
    if (::syscall(SYS_renameat2, AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) !=
        0) {
        return fail(Errc::io, errno_message("exchange " + tmp.string() + " with " + dir.string()));
    }
    return fsync_dir(dir.parent_path());
}

Status sync_file(const fs::path& p) {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(Errc::io, errno_message("open " + p.string()));
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return fail(Errc::io, errno_message("fsync " + p.string()));
    return {};
}

SquashfsOptions image_options() {
    SquashfsOptions o;
    o.mtime_clamp = kOverlayEpoch;
    o.exportable = false;  // mounted as an overlayfs lower layer, never exported by NFS
    return o;
}

// Builds the overlay in `tmp`: the tree, its image, overlay.json and the signature.
Result<OverlayManifest> build_overlay(const inventory::Node& node, const NodeSecrets& secrets,
                                      const fs::path& tmp, gid_t group, const SigningKey& key,
                                      const Logger& log) {
    auto entries = overlay_entries(node, secrets);
    if (!entries) return entries.error();
    const fs::path tree = tmp / "tree";
    const fs::path image = tmp / kOverlayImage;
    PIB_TRY(stage_tree(tree, *entries));
    auto stats = write_squashfs(tree, image, image_options(), log);
    if (!stats) return stats.error();
    PIB_TRY(remove_tree(tree));
    PIB_TRY(set_group(image, group, 0640));
    PIB_TRY(sync_file(image));  // durable before the exchange makes it the overlay
    auto digest = sha256_file(image);
    if (!digest) return digest.error();

    OverlayManifest m;
    m.node = node.name;
    m.hostname = node.hostname;
    m.artifacts.push_back({kOverlayImage, digest->sha256, digest->size});
    for (auto [type, pub] :
         {std::pair<const char*, const std::string*>{"ed25519", &secrets.ed25519_pub},
          {"rsa", &secrets.rsa_pub}}) {
        auto fp = ssh_fingerprint(*pub);
        if (!fp) return fp.error();
        m.ssh_host_keys[type] = *fp;
    }
    const std::string bytes = m.to_json();
    auto sig = key.sign(bytes);
    if (!sig) return sig.error();
    PIB_TRY(write_file_atomic(tmp / kOverlayManifest, bytes, 0640));
    PIB_TRY(write_file_atomic(tmp / kOverlaySignature, *sig, 0640));
    PIB_TRY(set_group(tmp / kOverlayManifest, group, 0640));
    PIB_TRY(set_group(tmp / kOverlaySignature, group, 0640));
    PIB_TRY(set_group(tmp, group, 0750));
    PIB_TRY(fsync_dir(tmp));
    return m;
}

Result<NodeRender> render_node(const inventory::Node& node, const OverlayRoot& root,
                               const SigningKey& key, const RenderOptions& opts,
                               const Logger& log) {
    NodeRender r{.node = node.name, .dir = root.dir / node.name};
    auto secrets = load_or_create_secrets(opts.secrets, node.name, log, r.secrets_created);
    if (!secrets)
        return fail(secrets.error().code,
                    "node " + node.name + ": secrets: " + secrets.error().message);
    auto tmp = make_temp_dir(root.dir, node.name);
    if (!tmp) return tmp.error();
    auto m = build_overlay(node, *secrets, *tmp, root.group, key, log);
    if (!m) {
        (void)remove_tree(*tmp);
        return fail(m.error().code, "node " + node.name + ": " + m.error().message);
    }
    r.manifest = std::move(*m);

    struct stat st {};
    const bool present = ::lstat(r.dir.c_str(), &st) == 0;
    if (present && S_ISDIR(st.st_mode) && same_overlay(r.dir, *tmp)) {
        r.outcome = RenderOutcome::unchanged;
        PIB_TRY(remove_tree(*tmp));
    } else if (present) {
        r.outcome = RenderOutcome::updated;
        PIB_TRY(exchange(*tmp, r.dir));
        PIB_TRY(remove_tree(*tmp));  // now the old overlay
    } else {
        r.outcome = RenderOutcome::created;
        PIB_TRY(rename_noreplace(*tmp, r.dir));
    }
    log.event(Level::info, "overlays", "node_rendered")
        .kv("node", node.name)
        .kv("result", outcome_name(r.outcome))
        .kv("sha256", r.manifest.artifacts.front().sha256);
    return r;
}

// Overlay directories of nodes that are no longer in the inventory. They are
// renamed to a temporary name first, so netbootd sees them vanish at once.
Result<std::vector<NodeRender>> remove_orphans(const inventory::Inventory& inv,
                                               const OverlayRoot& root, const Logger& log) {
    std::vector<NodeRender> out;
    std::error_code ec;
    std::vector<fs::path> orphans;
    for (const auto& e : fs::directory_iterator(root.dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(".") || !e.is_directory() || inv.by_name(name)) continue;
        if (!fs::exists(e.path() / kOverlayManifest)) continue;  // not ours
        orphans.push_back(e.path());
    }
    if (ec) return fail(Errc::io, "list " + root.dir.string() + ": " + ec.message());
    for (const auto& p : orphans) {
        auto tmp = make_temp_dir(root.dir, p.filename().string());
        if (!tmp) return tmp.error();
        if (::rename(p.c_str(), tmp->c_str()) != 0)
            return fail(Errc::io, errno_message("rename " + p.string()));
        PIB_TRY(fsync_dir(root.dir));
        PIB_TRY(remove_tree(*tmp));
        log.event(Level::info, "overlays", "node_removed").kv("node", p.filename().string());
        out.push_back(
            NodeRender{.node = p.filename().string(), .outcome = RenderOutcome::removed, .dir = p});
    }
    return out;
}

}  // namespace

const char* outcome_name(RenderOutcome o) {
    switch (o) {
        case RenderOutcome::created:
            return "created";
        case RenderOutcome::updated:
            return "updated";
        case RenderOutcome::unchanged:
            return "unchanged";
        case RenderOutcome::removed:
            return "removed";
    }
    return "?";
}

Result<std::vector<NodeRender>> render_overlays(const inventory::Inventory& inv,
                                                const SigningKey& key, const RenderOptions& opts,
                                                const Logger& log, Diagnostics& diags) {
    const std::string file = inv.file.string();
    std::vector<const inventory::Node*> nodes;
    for (const auto& n : inv.nodes) {
        if (!opts.only_node || n.name == *opts.only_node) nodes.push_back(&n);
    }
    if (opts.only_node && nodes.empty()) {
        diags.add(file, 0, 0, "no node named '" + *opts.only_node + "'");
    }
    for (const auto* n : nodes) check_node(*n, file, diags);
    if (!diags.empty())
        return fail(Errc::invalid, file + ": " + std::to_string(diags.size()) + " problem(s)");

    // netbootd serves the store: secrets inside it would be served too.
    std::error_code ec;
    const fs::path store = fs::weakly_canonical(opts.store, ec);
    const fs::path secrets = fs::weakly_canonical(opts.secrets, ec);
    const auto rel = secrets.lexically_relative(store);
    if (!rel.empty() && *rel.begin() != "..") {
        return fail(Errc::invalid, "secrets directory " + opts.secrets.string() +
                                       " is inside the store " + opts.store.string() +
                                       ", which netbootd serves: put it elsewhere");
    }

    OverlayRoot root;
    PIB_TRY(open_overlay_root(opts.store, root));
    PIB_TRY(remove_leftovers(root.dir, log));
    std::vector<NodeRender> out;
    for (const auto* n : nodes) {
        auto r = render_node(*n, root, key, opts, log);
        if (!r) return r.error();
        out.push_back(std::move(*r));
    }
    if (!opts.only_node) {
        auto removed = remove_orphans(inv, root, log);
        if (!removed) return removed.error();
        for (auto& r : *removed) out.push_back(std::move(r));
    }
    return out;
}

}  // namespace pib::overlays
