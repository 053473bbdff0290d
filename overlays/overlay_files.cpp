#include "overlays/overlay_files.hpp"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace pib::overlays {

namespace {

// Parents that Debian 12 makes symlinks (merged /usr; /var/run -> /run,
// /var/lock -> /run/lock). overlayfs shows the topmost layer's entry, so a
// directory of that name in the overlay would replace the symlink and hide
// everything below it in the release.
constexpr std::string_view kSymlinkParents[] = {"/bin",   "/sbin",   "/lib",     "/lib32",
                                                "/lib64", "/libx32", "/var/run", "/var/lock"};

// overlayfs takes a merged directory's owner and mode from the topmost layer
// that has it, so a directory the overlay holds must carry the release's
// attributes, not a blanket 0755: Debian's /root is 0700, /tmp and /var/tmp 1777.
unsigned directory_mode(std::string_view path) {
    if (path == "/root" || path == "/root/.ssh") return 0700;
    if (path == "/tmp" || path == "/var/tmp") return 01777;
    return 0755;
}

bool under(std::string_view path, std::string_view dir) {
    return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

// The files every overlay has (authorized_keys only with keys, but its
// directory is still not free for a file of the same name).
constexpr std::string_view kGeneratedFiles[] = {"/etc/hostname",
                                                "/etc/hosts",
                                                "/etc/machine-id",
                                                "/etc/fstab",
                                                "/etc/ssh/ssh_host_ed25519_key",
                                                "/etc/ssh/ssh_host_ed25519_key.pub",
                                                "/etc/ssh/ssh_host_rsa_key",
                                                "/etc/ssh/ssh_host_rsa_key.pub",
                                                "/root/.ssh/authorized_keys"};

std::string short_name(std::string_view hostname) {
    return std::string(hostname.substr(0, hostname.find('.')));
}

}  // namespace

std::string hostname_file(std::string_view hostname) { return std::string(hostname) + "\n"; }

std::string hosts_file(std::string_view hostname) {
    // As Debian's installer and netcfg write it: the host's own name on
    // 127.0.1.1 (not 127.0.0.1, so that `hostname --fqdn` works without DNS),
    // FQDN first, then the IPv6 lines.
    std::string own = std::string(hostname);
    if (hostname.find('.') != std::string_view::npos) own += "\t" + short_name(hostname);
    return "127.0.0.1\tlocalhost\n"
           "127.0.1.1\t" +
           own +
           "\n"
           "\n"
           "# The following lines are desirable for IPv6 capable hosts\n"
           "::1     localhost ip6-localhost ip6-loopback\n"
           "ff02::1 ip6-allnodes\n"
           "ff02::2 ip6-allrouters\n";
}

std::string fstab_file(std::string_view node, const std::vector<inventory::FstabEntry>& entries) {
    std::string out = "# /etc/fstab of node " + std::string(node) +
                      ", rendered by `pibuild nodes render` from nodes.yaml.\n"
                      "# The root file system is the overlayfs the initramfs sets up (the\n"
                      "# release's squashfs and this node's overlay under a tmpfs upper layer),\n"
                      "# so there is no line for \"/\".\n"
                      "# <file system> <mount point> <type> <options> <dump> <pass>\n";
    for (const auto& e : entries) {
        out += e.device + "\t" + e.mountpoint + "\t" + e.type + "\t" + e.options + "\t" +
               std::to_string(e.dump) + "\t" + std::to_string(e.pass) + "\n";
    }
    return out;
}

std::string authorized_keys_file(const std::vector<std::string>& keys) {
    std::string out;
    for (const auto& k : keys) out += k + "\n";
    return out;
}

std::optional<std::uint32_t> numeric_id(std::string_view owner) {
    if (owner == "root") return 0;
    if (owner.empty() || owner.size() > 10) return std::nullopt;
    std::uint32_t v = 0;
    auto [end, ec] = std::from_chars(owner.data(), owner.data() + owner.size(), v);
    if (ec != std::errc() || end != owner.data() + owner.size()) return std::nullopt;
    return v;
}

std::string check_extra_path(std::string_view path) {
    for (auto dir : kSymlinkParents) {
        if (under(path, dir)) {
            return "is below " + std::string(dir) +
                   ", a symlink in Debian's root; the overlay's directory would hide it (use /usr" +
                   (dir.starts_with("/var/") ? std::string("/... or /run") : std::string(dir)) +
                   " instead)";
        }
    }
    return "";
}

bool check_node(const inventory::Node& node, const std::string& inventory_file,
                Diagnostics& diags) {
    const std::size_t before = diags.size();
    auto report = [&](const inventory::NodeFile& f, const std::string& what) {
        diags.add(inventory_file, node.pos.line, node.pos.col,
                  "node '" + node.name + "': file " + f.path + ": " + what);
    };
    for (const auto& f : node.files) {
        for (auto [key, value] :
             {std::pair<const char*, const std::string*>{"owner", &f.owner}, {"group", &f.group}}) {
            if (!numeric_id(*value)) {
                report(
                    f,
                    std::string(key) + " '" + *value +
                        "' is a name: an overlay carries numeric ids and does not know the "
                        "release's /etc/passwd or /etc/group; give the number (root may be named)");
            }
        }
        if (auto p = check_extra_path(f.path); !p.empty()) report(f, p);
        if (f.source && ::access(f.source->c_str(), R_OK) != 0) {
            report(f, "source " + f.source->string() + " cannot be read");
        }
        // A path cannot be a file and a directory of the overlay at once.
        for (const auto& p : kGeneratedFiles) {
            if (under(p, f.path)) {
                report(f, "is a directory of the overlay (it holds " + std::string(p) + ")");
                break;
            }
        }
        for (const auto& g : node.files) {
            if (under(g.path, f.path)) report(f, "is also the directory of " + g.path);
        }
    }
    return diags.size() == before;
}

Result<std::vector<OverlayEntry>> overlay_entries(const inventory::Node& node,
                                                  const NodeSecrets& secrets) {
    std::map<std::string, OverlayEntry> tree;
    auto add_file = [&](OverlayEntry e) { tree[e.path] = std::move(e); };
    add_file({.path = "/etc/hostname", .data = hostname_file(node.hostname)});
    add_file({.path = "/etc/hosts", .data = hosts_file(node.hostname)});
    // machine-id(5): 0444 in Debian's base-files.
    add_file({.path = "/etc/machine-id", .data = secrets.machine_id, .mode = 0444});
    add_file({.path = "/etc/fstab", .data = fstab_file(node.name, node.fstab)});
    add_file({.path = "/etc/ssh/ssh_host_ed25519_key", .data = secrets.ed25519_key, .mode = 0600});
    add_file({.path = "/etc/ssh/ssh_host_ed25519_key.pub", .data = secrets.ed25519_pub});
    add_file({.path = "/etc/ssh/ssh_host_rsa_key", .data = secrets.rsa_key, .mode = 0600});
    add_file({.path = "/etc/ssh/ssh_host_rsa_key.pub", .data = secrets.rsa_pub});
    if (!node.authorized_keys.empty()) {
        add_file({.path = "/root/.ssh/authorized_keys",
                  .data = authorized_keys_file(node.authorized_keys),
                  .mode = 0600});
    }
    for (const auto& f : node.files) {
        auto uid = numeric_id(f.owner), gid = numeric_id(f.group);
        if (!uid || !gid) {
            return fail(Errc::invalid,
                        "node " + node.name + ": " + f.path + ": owner/group not numeric");
        }
        OverlayEntry e{.path = f.path, .mode = f.mode & 07777u, .uid = *uid, .gid = *gid};
        if (f.content) e.data = *f.content;
        if (f.source) e.source = f.source->string();
        add_file(std::move(e));
    }
    // The directories leading to each file (check_node has refused a path
    // that is both a file and a directory; this guards direct callers).
    std::vector<OverlayEntry> dirs;
    for (const auto& [path, e] : tree) {
        for (auto slash = path.find('/', 1); slash != std::string::npos;
             slash = path.find('/', slash + 1)) {
            std::string dir = path.substr(0, slash);
            if (tree.count(dir)) {
                return fail(Errc::invalid, "node " + node.name + ": " + dir +
                                               " is a file and also the directory of " + path);
            }
            dirs.push_back({.path = dir, .directory = true, .mode = directory_mode(dir)});
        }
    }
    for (auto& d : dirs) tree.emplace(d.path, d);
    std::vector<OverlayEntry> out;
    out.reserve(tree.size());
    for (auto& [path, e] : tree) out.push_back(std::move(e));
    return out;
}

}  // namespace pib::overlays
