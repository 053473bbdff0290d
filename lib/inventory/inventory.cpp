// Entry points of the inventory: nodes.yaml text -> validated Inventory or
// every problem found; MAC addresses; the lookups netbootd makes per packet;
// the key reference of docs/inventory.md (tests/inventory fails when stale).
#include "inventory/inventory.hpp"

#include <algorithm>

#include "config/yaml_reader.hpp"
#include "inventory/inventory_schema.hpp"

namespace pib::inventory {

namespace {

std::string join_hex(const MacAddress& m, char sep) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t b : m.bytes) {
        if (!s.empty()) s += sep;
        s += kDigits[b >> 4];
        s += kDigits[b & 15];
    }
    return s;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

Result<Inventory> refused(const std::string& file, std::size_t count) {
    return fail(Errc::invalid, file + ": inventory refused (" + std::to_string(count) +
                                   (count == 1 ? " problem)" : " problems)"));
}

Result<Inventory> parse(std::string_view text, const std::filesystem::path& file,
                        Diagnostics& diags, bool check_files) {
    const std::string name = file.string();
    auto root = load_single_document(text, name, diags, "fleet inventory",
                                     "the inventory is empty (expected a map with nodes)");
    if (!root) return refused(name, 1);

    std::filesystem::path dir;
    if (!file.empty()) {
        std::error_code ec;
        dir = std::filesystem::absolute(file, ec).parent_path();
    }
    YamlReader r(text, name);
    InventoryText read;
    read_inventory(r, YamlValue{*root, "", YAML::Mark::null_mark()}, read);
    Inventory inv;
    inv.default_channel = read.defaults.release ? std::string() : read.defaults.channel;
    inv.nodes = check_inventory(r, std::move(read), dir, check_files);

    if (std::size_t found = r.report_to(diags)) return refused(name, found);
    inv.file = file;
    inv.reindex();
    return inv;
}

// The index entry when indexed (and still right), else a scan of `nodes`.
template <class Index, class Key, class Match>
const Node* find(const std::vector<Node>& nodes, bool indexed, const Index& index, const Key& key,
                 Match match) {
    if (!indexed) {
        auto it = std::find_if(nodes.begin(), nodes.end(), match);
        return it == nodes.end() ? nullptr : &*it;
    }
    auto it = index.find(key);
    if (it == index.end() || it->second >= nodes.size() || !match(nodes[it->second]))
        return nullptr;
    return &nodes[it->second];
}

}  // namespace

std::string MacAddress::text() const { return join_hex(*this, ':'); }
std::string MacAddress::dashed() const { return join_hex(*this, '-'); }

std::optional<MacAddress> parse_mac(std::string_view s) {
    // Six pairs of hex digits joined by one separator, used throughout.
    if (s.size() != 17) return std::nullopt;
    const char sep = s[2];
    if (sep != ':' && sep != '-') return std::nullopt;
    MacAddress m;
    for (std::size_t i = 0; i < 6; ++i) {
        int hi = hex_value(s[i * 3]), lo = hex_value(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != sep)) return std::nullopt;
        m.bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return m;
}

const Node* Inventory::by_name(std::string_view name) const {
    return find(nodes, !name_index.empty(), name_index, name,
                [&](const Node& n) { return n.name == name; });
}

const Node* Inventory::by_serial(std::string_view serial) const {
    return find(nodes, !name_index.empty(), serial_index, serial,
                [&](const Node& n) { return n.serial && *n.serial == serial; });
}

const Node* Inventory::by_mac(const MacAddress& mac) const {
    return find(nodes, !name_index.empty(), mac_index, mac, [&](const Node& n) {
        return std::find(n.macs.begin(), n.macs.end(), mac) != n.macs.end();
    });
}

void Inventory::reindex() {
    name_index.clear();
    serial_index.clear();
    mac_index.clear();
    // emplace keeps the first node for a key, as the scan would find it.
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        name_index.emplace(nodes[i].name, i);
        if (nodes[i].serial) serial_index.emplace(*nodes[i].serial, i);
        for (const auto& mac : nodes[i].macs) mac_index.emplace(mac, i);
    }
}

Result<Inventory> parse_inventory(std::string_view text, const std::filesystem::path& file,
                                  Diagnostics& diags) {
    return parse(text, file, diags, false);
}

Result<Inventory> load_inventory(const std::filesystem::path& file, Diagnostics& diags,
                                 const InventoryOptions& options) {
    auto text = read_text_for(file, diags, "inventory");
    if (!text) return text.error();
    return parse(*text, file, diags, options.check_files);
}

std::string inventory_reference_markdown() { return key_reference_markdown(inventory_maps()); }

}  // namespace pib::inventory
