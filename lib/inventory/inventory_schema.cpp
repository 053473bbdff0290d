// The key tables of nodes.yaml. Checks within one map or list are here; checks
// across nodes and the `defaults` merge are in inventory_check.cpp.
#include "inventory/inventory_schema.hpp"

#include <map>
#include <set>

#include "inventory/inventory_syntax.hpp"

namespace pib::inventory {

namespace {

using NodeKey = TableKey<YamlReader, Node>;

template <class T, class U>
void set(T& dst, std::optional<U>&& v) {
    if (v) dst = std::move(*v);
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
}

// Reads each item of a list with `read_item`; false (after an error) when `v` is no list.
template <class F>
bool each_item(YamlReader& r, const YamlValue& v, std::string_view what, F read_item) {
    if (!v.node.IsSequence()) {
        r.type_error(v, what);
        return false;
    }
    std::size_t i = 0;
    for (auto it = v.node.begin(); it != v.node.end(); ++it, ++i) {
        YamlValue item{*it, item_path(v.path, i)};
        r.note(item.path, Where{r.value_pos(item), r.value_pos(item)});
        read_item(item);
    }
    return true;
}

// ---- network ----------------------------------------------------------------

const TableKey<YamlReader, StaticNetwork> kNetworkKeys[] = {
    {{.name = "address",
      .type = "IPv4 address/prefix",
      .required = true,
      .doc = "The node's address and prefix length. Must not be the network or broadcast "
             "address; unique across the fleet.",
      .example = "192.168.1.50/24"},
     [](YamlReader& r, const YamlValue& v, StaticNetwork& o) {
         if (auto s = r.string(v, check_host_cidr)) {
             auto n = parse_host_cidr(*s);
             o.address = n->address;
             o.prefix = n->prefix;
         }
     }},
    {{.name = "gateway",
      .type = "IPv4 address",
      .default_note = "none",
      .doc = "Default route; must be inside the address's subnet.",
      .example = "192.168.1.1"},
     [](YamlReader& r, const YamlValue& v, StaticNetwork& o) {
         if (auto s = r.string(v, check_ipv4)) o.gateway = parse_ipv4(*s);
     }},
    {{.name = "dns",
      .type = "list of IPv4 addresses",
      .default_yaml = "[]",
      .doc = "Name servers.",
      .example = "[192.168.1.1]"},
     [](YamlReader& r, const YamlValue& v, StaticNetwork& o) {
         if (auto l = r.strings(v, false, false, check_ipv4)) {
             o.dns.clear();
             for (const auto& s : *l) o.dns.push_back(*parse_ipv4(s));
         }
     }},
};

void read_network(YamlReader& r, const YamlValue& v, Node& o) {
    StaticNetwork n;
    if (!read_table(r, v, kNetworkKeys, n)) return;
    const std::string gw = child_path(v.path, "gateway");
    if (n.gateway && r.clean(child_path(v.path, "address")) && r.clean(gw)) {
        const Ipv4 mask = ~Ipv4{0} << (32 - n.prefix);
        if (*n.gateway == n.address)
            r.error(r.where(gw)->value, gw, "is the node's own address");
        else if ((*n.gateway & mask) != (n.address & mask))
            r.error(r.where(gw)->value, gw,
                    ipv4_text(*n.gateway) + " is outside the node's subnet " +
                        ipv4_text(n.address & mask) + "/" + std::to_string(n.prefix));
    }
    o.network = std::move(n);
}

// ---- fstab ------------------------------------------------------------------

const TableKey<YamlReader, FstabEntry> kFstabKeys[] = {
    {{.name = "device",
      .type = "string",
      .required = true,
      .doc = "What to mount (fs_spec): `UUID=...`, `LABEL=...`, `/dev/sda1`, `server:/export`.",
      .example = "nas:/srv/data"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         set(o.device, r.string(v, check_fstab_field));
     }},
    {{.name = "mountpoint",
      .type = "absolute path or `none`",
      .required = true,
      .doc = "Where (fs_file); `none` for swap. Unique within a node.",
      .example = "/data"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         set(o.mountpoint, r.string(v, check_mountpoint));
     }},
    {{.name = "type",
      .type = "string",
      .required = true,
      .doc = "Filesystem type (fs_vfstype).",
      .example = "nfs4"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         set(o.type, r.string(v, check_fstab_field));
     }},
    {{.name = "options",
      .type = "string",
      .default_yaml = "defaults",
      .doc = "Mount options, comma separated (fs_mntops).",
      .example = "ro,noauto,x-systemd.automount"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         set(o.options, r.string(v, check_fstab_field));
     }},
    {{.name = "dump",
      .type = "integer 0..1",
      .default_yaml = "0",
      .doc = "dump(8) frequency (fs_freq).",
      .example = "0"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         if (auto n = r.integer(v, 0, 1)) o.dump = static_cast<int>(*n);
     }},
    {{.name = "pass",
      .type = "integer 0..2",
      .default_yaml = "0",
      .doc = "fsck order at boot (fs_passno): 0 none, 1 root, 2 others.",
      .example = "2"},
     [](YamlReader& r, const YamlValue& v, FstabEntry& o) {
         if (auto n = r.integer(v, 0, 2)) o.pass = static_cast<int>(*n);
     }},
};

void read_fstab(YamlReader& r, const YamlValue& v, Node& o) {
    std::vector<FstabEntry> out;
    std::map<std::string, SourcePos> seen;  // mountpoint -> where first given
    each_item(r, v, "a list of fstab entries", [&](const YamlValue& item) {
        FstabEntry e;
        if (!read_table(r, item, kFstabKeys, e)) return;
        const std::string mp = child_path(item.path, "mountpoint");
        if (r.clean(mp) && e.mountpoint != "none") {
            auto [first, fresh] = seen.emplace(e.mountpoint, r.where(mp)->value);
            if (!fresh)
                r.error(r.where(mp)->value, mp,
                        "duplicate mountpoint " + quote_value(e.mountpoint) + ": also at " +
                            place(r, first->second));
        }
        out.push_back(std::move(e));
    });
    o.fstab = std::move(out);
}

// ---- files ------------------------------------------------------------------

const TableKey<YamlReader, NodeFile> kFileKeys[] = {
    {{.name = "path",
      .type = "absolute path",
      .required = true,
      .doc = "Where the file goes on the node; made normal (`//`, `/./`), unique within a node. "
             "Not `/`, no `..`, not under /proc, /sys, /dev or /run, and none of the files the "
             "overlay writes itself (/etc/hostname, /etc/hosts, /etc/machine-id, /etc/fstab, "
             "/root/.ssh/authorized_keys, /etc/ssh/ssh_host_*).",
      .example = "/etc/motd"},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) {
         if (auto s = r.string(v)) {
             NormalPath p = normalise_file_path(*s);
             if (p.problem.empty())
                 o.path = std::move(p.path);
             else
                 r.error(v, p.problem);
         }
     }},
    {{.name = "content",
      .type = "string",
      .default_note = "none; give `content` or `source`",
      .doc = "The file's text, as is (use a YAML block scalar `|` for several lines).",
      .example = "\"hello\\n\""},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) { set(o.content, r.string(v)); }},
    {{.name = "source",
      .type = "path",
      .default_note = "none; give `content` or `source`",
      .doc = "A file on the server whose bytes are copied; relative to the inventory's "
             "directory. Must exist when the inventory is loaded.",
      .example = "files/app.conf"},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) {
         if (auto s = r.string(v, check_source)) o.source = std::filesystem::path(*s);
     }},
    {{.name = "mode",
      .type = "octal string",
      .default_note = "`0644`",
      .doc = "File mode as octal digits, `\"0644\"` or `\"644\"`, at most `07777`; an unquoted "
             "0644 or 644 is read the same way (as in recipes).",
      .example = "\"0600\""},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) {
         // Modes are octal whatever YAML thinks: `mode: 644` means 0644, not 01204.
         if (!v.node.IsScalar()) return r.type_error(v, "an octal mode like \"0644\"");
         if (auto m = parse_mode(v.node.Scalar()))
             o.mode = *m;
         else
             r.error(v, quote_value(v.node.Scalar()) + " is not an octal mode like \"0644\"");
     }},
    {{.name = "owner",
      .type = "string",
      .default_note = "`root`",
      .doc = "Numeric uid, or `root` (overlays do not depend on a release, so other names are refused when rendering).",
      .example = "\"1000\""},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) {
         set(o.owner, r.string(v, check_owner));
     }},
    {{.name = "group",
      .type = "string",
      .default_note = "`root`",
      .doc = "Numeric gid, or `root`.",
      .example = "\"1000\""},
     [](YamlReader& r, const YamlValue& v, NodeFile& o) {
         set(o.group, r.string(v, check_owner));
     }},
};

void read_files(YamlReader& r, const YamlValue& v, Node& o) {
    std::vector<NodeFile> out;
    std::map<std::string, SourcePos> seen;  // path -> where first given
    each_item(r, v, "a list of files", [&](const YamlValue& item) {
        NodeFile f;
        if (!read_table(r, item, kFileKeys, f)) return;
        const std::string content = child_path(item.path, "content");
        const std::string source = child_path(item.path, "source");
        if (r.where(content) && r.where(source))
            r.error(r.where(source)->key, source,
                    "cannot be combined with 'content' (give exactly one of content, source)");
        else if (!r.where(content) && !r.where(source))
            r.error(r.value_pos(item), item.path, "give content or source");
        const std::string path = child_path(item.path, "path");
        if (r.clean(path)) {
            auto [first, fresh] = seen.emplace(f.path, r.where(path)->value);
            if (!fresh)
                r.error(r.where(path)->value, path,
                        "duplicate path " + quote_value(f.path) + ": also at " +
                            place(r, first->second));
        }
        out.push_back(std::move(f));
    });
    o.files = std::move(out);
}

// ---- labels -----------------------------------------------------------------

// Free-form keys, so not a table: checked one by one, duplicates refused as entries() does.
void read_labels(YamlReader& r, const YamlValue& v, Node& o) {
    if (!v.node.IsMap()) return r.type_error(v, "a map of strings");
    std::map<std::string, std::string> out;
    std::map<std::string, int> seen;  // key -> line first given
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
        const YAML::Node key = it->first;
        YamlValue entry{YAML::Node(it->second),
                        child_path(v.path, key.IsScalar() ? key.Scalar() : "?"), key.Mark()};
        if (!key.IsScalar()) {
            r.error_at_key(entry, "keys must be strings");
            continue;
        }
        if (auto problem = check_label_key(key.Scalar()); !problem.empty()) {
            r.error_at_key(entry, problem);
            continue;
        }
        auto [first, fresh] = seen.emplace(key.Scalar(), r.pos(key.Mark()).line);
        if (!fresh) {
            r.error_at_key(
                entry, "duplicate key (first given at line " + std::to_string(first->second) + ")");
            continue;
        }
        r.note(entry.path, Where{r.pos(key.Mark()), r.value_pos(entry)});
        if (auto s = r.string(entry, check_single_line)) out[key.Scalar()] = *s;
    }
    o.labels = std::move(out);
}

// ---- nodes ------------------------------------------------------------------

// Rows shared by the node table and the `defaults` table.
const NodeKey kChannel{
    {.name = "channel",
     .type = "channel name",
     .default_note = "`stable`",
     .doc = "The channel whose current release the node boots (a-z 0-9 -). Not with `release`.",
     .example = "canary"},
    [](YamlReader& r, const YamlValue& v, Node& o) { set(o.channel, r.string(v, check_channel)); }};
const NodeKey kRelease{
    {.name = "release",
     .type = "release id",
     .default_note = "none (follow `channel`)",
     .doc = "Pins the node to this release (below `<store>/releases/`), whatever its channel "
            "points at. Not with `channel`.",
     .example = "demo-rpi4-1.0-20260101T000000Z"},
    [](YamlReader& r, const YamlValue& v, Node& o) {
        if (auto s = r.string(v, check_release_id)) o.release = *s;
    }};
const NodeKey kFstab{{.name = "fstab",
                      .type = "list of maps",
                      .default_yaml = "[]",
                      .doc = "Extra /etc/fstab lines: see `fstab[]` below.",
                      .example = "[{device: \"nas:/srv/data\", mountpoint: /data, type: nfs4}]"},
                     read_fstab};
const NodeKey kAuthorizedKeys{
    {.name = "authorized-keys",
     .type = "list of strings",
     .default_yaml = "[]",
     .doc = "OpenSSH public key lines (`type base64 comment`, optionally with options first) "
            "for root's authorized_keys.",
     .example = "[\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB... ops@lab\"]"},
    [](YamlReader& r, const YamlValue& v, Node& o) {
        set(o.authorized_keys, r.strings(v, false, false, check_authorized_key));
    }};
const NodeKey kFiles{{.name = "files",
                      .type = "list of maps",
                      .default_yaml = "[]",
                      .doc = "Extra files in the node's overlay: see `files[]` below.",
                      .example = "[{path: /etc/motd, content: \"hello\\n\"}]"},
                     read_files};
const NodeKey kLabels{{.name = "labels",
                       .type = "map of strings",
                       .default_yaml = "{}",
                       .doc = "Free-form key/value pairs for selecting nodes (rollout waves, "
                              "listings). Keys: letters, digits, `-_./`; values: one line.",
                       .example = "{rack: \"3\", role: worker}"},
                      read_labels};
const NodeKey kKernelArgs{{.name = "kernel-args",
                           .type = "string",
                           .default_yaml = "\"\"",
                           .doc = "Words appended to the kernel command line of this node.",
                           .example = "console=ttyAMA0,115200"},
                          [](YamlReader& r, const YamlValue& v, Node& o) {
                              set(o.kernel_args, r.string(v, check_single_line));
                          }};
constexpr std::string_view kRootTransports[] = {"http", "nfs"};
const NodeKey kRoot{{.name = "root",
                     .type = "`http` or `nfs`",
                     .default_yaml = "http",
                     .doc = "How the node's initramfs reads the release's root image: `http` "
                            "downloads it into RAM, `nfs` mounts the release's NFS export "
                            "read-only (dm-verity checks each block as it is read; needs "
                            "`nfs.enabled` in the netbootd config, else the node boots over HTTP).",
                     .example = "nfs"},
                    [](YamlReader& r, const YamlValue& v, Node& o) {
                        if (auto s = r.choice(v, kRootTransports))
                            o.root = *s == "nfs" ? RootTransport::nfs : RootTransport::http;
                    }};

const NodeKey kNodeKeys[] = {
    {{.name = "name",
      .type = "string",
      .required = true,
      .doc = "The node's name in the API, logs and overlay: 1-63 of a-z 0-9 -, not starting or "
             "ending with `-`. Unique.",
      .example = "pi-01"},
     [](YamlReader& r, const YamlValue& v, Node& o) { set(o.name, r.string(v, check_node_name)); }},
    {{.name = "hostname",
      .type = "host name",
      .default_note = "the node's `name`",
      .doc = "Written to /etc/hostname and /etc/hosts; a short name or a FQDN (RFC 1123), "
             "stored in lower case. Unique.",
      .example = "pi-01.lab.example.net"},
     [](YamlReader& r, const YamlValue& v, Node& o) {
         if (auto s = r.string(v, check_hostname)) o.hostname = lower(*s);
     }},
    {{.name = "serial",
      .type = "string",
      .default_note = "none; give `serial`, `mac` or both",
      .doc = "Raspberry Pi board serial: 8 hex digits, or all 16 as `/proc/cpuinfo` prints "
             "them; any case, `0x` allowed. Kept as the last 8 digits in lower case, the name "
             "of the node's TFTP directory. Unique.",
      .example = "\"1a2b3c4d\""},
     [](YamlReader& r, const YamlValue& v, Node& o) {
         if (auto s = r.string(v, check_serial)) o.serial = normalise_serial(*s);
     }},
    {{.name = "mac",
      .type = "string or list of strings",
      .default_note = "none; give `serial`, `mac` or both",
      .doc = "The node's MAC address(es), `:` or `-` separated, any case. Each unique across the "
             "fleet.",
      .example = "dc:a6:32:01:02:03"},
     [](YamlReader& r, const YamlValue& v, Node& o) {
         auto l = r.strings(v, true, true, check_mac);
         if (!l) return;
         o.macs.clear();
         std::map<MacAddress, SourcePos> seen;
         for (std::size_t i = 0; i < l->size(); ++i) {
             const MacAddress mac = *parse_mac((*l)[i]);
             const std::string path = v.node.IsSequence() ? item_path(v.path, i) : v.path;
             const SourcePos at = r.where(path) ? r.where(path)->value : r.value_pos(v);
             auto [first, fresh] = seen.emplace(mac, at);
             if (fresh)
                 o.macs.push_back(mac);
             else
                 r.error(at, path,
                         "duplicate MAC " + quote_value(mac.text()) + ": also at " +
                             place(r, first->second));
         }
     }},
    kChannel,
    kRelease,
    {{.name = "network",
      .type = "map",
      .default_note = "none (DHCP)",
      .doc = "Static address settings: see `network` below.",
      .example = "{address: 192.168.1.50/24, gateway: 192.168.1.1}"},
     read_network},
    kFstab,
    kAuthorizedKeys,
    kFiles,
    kLabels,
    kKernelArgs,
    kRoot,
};

const NodeKey kDefaultsKeys[] = {kChannel, kRelease, kFstab,      kAuthorizedKeys,
                                 kFiles,   kLabels,  kKernelArgs, kRoot};

// A node needs serial or mac; not said again when a misspelt one was reported.
void check_recognisable(YamlReader& r, const YamlValue& node) {
    if (r.where(child_path(node.path, "serial")) || r.where(child_path(node.path, "mac"))) return;
    constexpr std::string_view kIds[] = {"serial", "mac"};
    for (auto it = node.node.begin(); it != node.node.end(); ++it)
        if (it->first.IsScalar() && closest(it->first.Scalar(), kIds)) return;
    r.error(r.value_pos(node), node.path,
            "give serial, mac or both (a node nobody can recognise cannot boot)");
}

// ---- top level ----------------------------------------------------------------

const TableKey<YamlReader, InventoryText> kTopKeys[] = {
    {{.name = "defaults",
      .type = "map",
      .default_note = "none",
      .doc = "Settings every node gets unless it sets the key itself: see `defaults` below.",
      .example = "{channel: stable, labels: {site: lab}}"},
     [](YamlReader& r, const YamlValue& v, InventoryText& o) {
         read_table(r, v, kDefaultsKeys, o.defaults);
     }},
    {{.name = "nodes",
      .type = "list of maps",
      .required = true,
      .doc = "The machines, in any order: see `nodes[]` below. `[]` is an empty fleet.",
      .example = "[{name: pi-01, serial: \"1a2b3c4d\"}]"},
     [](YamlReader& r, const YamlValue& v, InventoryText& o) {
         each_item(r, v, "a list of nodes", [&](const YamlValue& item) {
             Node n;
             n.pos = r.value_pos(item);
             if (!read_table(r, item, kNodeKeys, n)) return;
             check_recognisable(r, item);
             o.nodes.push_back(std::move(n));
             o.paths.push_back(item.path);
         });
     }},
};

}  // namespace

std::string place(const YamlReader& r, SourcePos p) {
    return (r.file().empty() ? "line " : r.file() + ":") + std::to_string(p.line) + ":" +
           std::to_string(p.col);
}

void read_inventory(YamlReader& r, const YamlValue& root, InventoryText& out) {
    read_table(r, root, kTopKeys, out);
}

std::vector<MapDoc> inventory_maps() {
    return {
        table_doc("", "", kTopKeys),
        table_doc("defaults",
                  "Each key means what it means in `nodes[]`. A node that sets a key keeps its "
                  "own value (lists are not joined); `labels` are merged, the node's value "
                  "winning for the same label. A node that sets `channel` or `release` takes "
                  "neither from here.",
                  kDefaultsKeys),
        table_doc("nodes[]",
                  "One machine. It needs `serial`, `mac` or both: a node nobody can recognise "
                  "cannot boot.",
                  kNodeKeys),
        table_doc("nodes[].network",
                  "Given to the node on its kernel command line (`ip=`) and, in netbootd's "
                  "`full` DHCP mode, as its reservation.",
                  kNetworkKeys),
        table_doc("nodes[].fstab[]", "One /etc/fstab line (fstab(5)).", kFstabKeys),
        table_doc("nodes[].files[]",
                  "One extra file in the node's overlay. Exactly one of `content` and `source`.",
                  kFileKeys),
    };
}

}  // namespace pib::inventory
