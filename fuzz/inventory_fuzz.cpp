// libFuzzer target for the inventory parser (lib/inventory, STYLE.md rules 3
// and 7). Any text must come back as a validated Inventory or as
// Errc::invalid with at least one `file:line:col` diagnostic inside the text.
// An accepted inventory must keep the promises netbootd relies on per packet:
// names, serials and MACs are unique and each node is found by every one of
// them; serials are the 8 lower-case hex digits of a TFTP directory; extra
// files name one absolute, normalised path and exactly one of content and
// source. parse_inventory never looks at the disk (only load_inventory
// checks `source:` files), and the file name is absolute so that not even
// getcwd() is asked.
// Seed corpus: fuzz/corpus/inventory (docs/examples/nodes.yaml and the small
// inventories of docs/inventory.md).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "diag_check.hpp"
#include "inventory/inventory.hpp"

using namespace pib;
using namespace pib::inventory;

namespace {

using pib::fuzz::check;

constexpr const char* kFile = "/fuzz/nodes.yaml";

bool is_serial(const std::string& s) {
    return s.size() == 8 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

void check_file(const NodeFile& f) {
    check(!f.path.empty() && f.path.front() == '/' && f.path != "/");
    check(f.path.find("/../") == std::string::npos && !f.path.ends_with("/.."));
    check(f.content.has_value() != f.source.has_value());
    if (f.source) check(f.source->is_absolute());
    check(f.mode <= 07777);
}

void check_inventory(const Inventory& inv) {
    std::set<std::string> names, serials;
    std::set<MacAddress> macs;
    for (const Node& n : inv.nodes) {
        check(!n.name.empty() && n.name.size() <= 63);
        check(names.insert(n.name).second);
        check(inv.by_name(n.name) == &n);
        check(!n.hostname.empty());
        if (n.serial) {
            check(is_serial(*n.serial));
            check(serials.insert(*n.serial).second);
            check(inv.by_serial(*n.serial) == &n);
            check(normalise_serial(*n.serial) == n.serial);
        }
        for (const MacAddress& m : n.macs) {
            check(macs.insert(m).second);
            check(inv.by_mac(m) == &n);
            check(parse_mac(m.text()) == m && parse_mac(m.dashed()) == m);
        }
        if (n.network) check(n.network->prefix >= 0 && n.network->prefix <= 32);
        for (const NodeFile& f : n.files) check_file(f);
    }
    check(!inv.by_name(""));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // The free-standing parsers see the raw bytes too.
    if (auto s = normalise_serial(text.substr(0, 24))) check(is_serial(*s));
    if (auto m = parse_mac(text.substr(0, 20))) check(parse_mac(m->text()) == m);

    Diagnostics diags;
    auto inv = parse_inventory(text, kFile, diags);
    if (!pib::fuzz::check_outcome(inv, diags, text, kFile)) return 0;
    check_inventory(*inv);
    return 0;
}
