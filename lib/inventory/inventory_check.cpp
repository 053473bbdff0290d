// Checks across keys and nodes, after the tables have read each value:
// `defaults` applied, channel with release, duplicates across the fleet, and
// `source:` files. Each check looks only at keys read without problems, so that
// one typo does not cause a cascade of errors.
#include <filesystem>
#include <map>
#include <set>

#include "inventory/inventory_schema.hpp"
#include "inventory/inventory_syntax.hpp"

namespace pib::inventory {

namespace {

namespace fs = std::filesystem;

void check_channel_or_release(YamlReader& r, const std::string& path) {
    const std::string release = child_path(path, "release");
    if (r.where(child_path(path, "channel")) && r.where(release))
        r.error(r.where(release)->key, release,
                "cannot be combined with 'channel' (a node follows a channel or is pinned to a "
                "release)");
}

// Node::origins: the node's own keys, else the `defaults` keys it took.
void record_origins(const YamlReader& r, const std::string& path, Node& n) {
    static const char* const kKeys[] = {"name",   "hostname", "serial",          "mac",   "channel",
                                        "release", "network", "fstab",           "files", "authorized-keys",
                                        "labels", "kernel-args", "root"};
    const bool own_choice = r.where(child_path(path, "channel")) || r.where(child_path(path, "release"));
    for (const char* key : kKeys) {
        if (const Where* w = r.where(child_path(path, key))) {
            n.origins[key] = {w->key, false};
            continue;
        }
        const bool choice = std::string_view(key) == "channel" || std::string_view(key) == "release";
        if (choice && own_choice) continue;
        if (const Where* w = r.where(child_path("defaults", key))) n.origins[key] = {w->key, true};
    }
}

// Node keys that `defaults` may set; a node that gives the key keeps its own.
void apply_defaults(const YamlReader& r, const std::string& path, const Node& d, Node& n) {
    auto given = [&](const char* key) { return r.where(child_path(path, key)) != nullptr; };
    if (!given("channel") && !given("release")) {
        n.channel = d.channel;
        n.release = d.release;
    }
    if (!given("fstab")) n.fstab = d.fstab;
    if (!given("authorized-keys")) n.authorized_keys = d.authorized_keys;
    if (!given("files")) n.files = d.files;
    if (!given("kernel-args")) n.kernel_args = d.kernel_args;
    if (!given("root")) n.root = d.root;
    std::map<std::string, std::string> labels = d.labels;
    for (auto& [k, v] : n.labels) labels[k] = v;  // the node wins
    n.labels = std::move(labels);
    if (!given("hostname")) n.hostname = n.name;
    record_origins(r, path, n);
}

// Relative sources against the inventory's directory; with `check`, each must be a file.
void resolve_sources(YamlReader& r, const std::string& path, std::vector<NodeFile>& files,
                     const fs::path& dir, bool check) {
    for (std::size_t i = 0; i < files.size(); ++i) {
        auto& src = files[i].source;
        if (!src) continue;
        if (!dir.empty() && src->is_relative()) *src = (dir / *src).lexically_normal();
        const std::string key = child_path(item_path(child_path(path, "files"), i), "source");
        if (!check || !r.clean(key)) continue;
        std::error_code ec;
        if (!fs::exists(*src, ec))
            r.error(r.where(key)->value, key, "no such file: " + src->string());
        else if (!fs::is_regular_file(*src, ec))
            r.error(r.where(key)->value, key, "is not a regular file: " + src->string());
    }
}

// Refuses a second node with the same value of one identifying key, naming both places.
class Unique {
  public:
    Unique(YamlReader& r, std::string what) : r_(r), what_(std::move(what)) {}

    /// False when `value` was taken by an earlier node (the error is then reported).
    bool add(const std::string& value, const Node& n, const std::string& path, SourcePos at) {
        auto [first, fresh] = seen_.emplace(value, std::pair(n.name, at));
        if (fresh) return true;
        const auto& [other, other_at] = first->second;
        r_.error(at, path,
                 "duplicate " + what_ + " " + quote_value(value) + ": also " +
                     (other == n.name ? std::string() : "node '" + other + "' ") + "at " +
                     place(r_, other_at));
        return false;
    }

  private:
    YamlReader& r_;
    std::string what_;
    std::map<std::string, std::pair<std::string, SourcePos>> seen_;
};

void check_unique(YamlReader& r, const std::vector<Node>& nodes,
                  const std::vector<std::string>& paths) {
    Unique names(r, "name"), hostnames(r, "hostname"), serials(r, "serial"), macs(r, "MAC"),
        addresses(r, "address");
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const Node& n = nodes[i];
        const std::string& p = paths[i];
        auto value_at = [&](const std::string& key) { return r.where(key)->value; };
        const std::string name = child_path(p, "name");
        bool named = r.clean(name) && names.add(n.name, n, name, value_at(name));
        // A hostname taken from a duplicate name was reported as the name.
        const std::string host = child_path(p, "hostname");
        if (r.clean(host))
            hostnames.add(n.hostname, n, host, value_at(host));
        else if (named && !r.where(host))
            hostnames.add(n.hostname, n, name, value_at(name));
        const std::string serial = child_path(p, "serial");
        if (n.serial && r.clean(serial)) serials.add(*n.serial, n, serial, value_at(serial));
        const std::string mac = child_path(p, "mac");
        if (r.clean(mac)) {
            const bool list = r.where(item_path(mac, 0)) != nullptr;
            for (std::size_t m = 0; m < n.macs.size(); ++m) {
                const std::string at = list ? item_path(mac, m) : mac;
                macs.add(n.macs[m].text(), n, at, value_at(at));
            }
        }
        const std::string address = child_path(child_path(p, "network"), "address");
        if (n.network && r.clean(address))
            addresses.add(ipv4_text(n.network->address), n, address, value_at(address));
    }
}

}  // namespace

std::vector<Node> check_inventory(YamlReader& r, InventoryText&& text, const fs::path& dir,
                                  bool check_files) {
    check_channel_or_release(r, "defaults");
    resolve_sources(r, "defaults", text.defaults.files, dir, check_files);
    std::vector<Node> nodes = std::move(text.nodes);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        Node& n = nodes[i];
        const std::string& p = text.paths[i];
        check_channel_or_release(r, p);
        if (r.where(child_path(p, "files"))) resolve_sources(r, p, n.files, dir, check_files);
        apply_defaults(r, p, text.defaults, n);
    }
    check_unique(r, nodes, text.paths);
    return nodes;
}

}  // namespace pib::inventory
