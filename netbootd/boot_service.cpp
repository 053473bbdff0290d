#include "netbootd/boot_service.hpp"

#include <arpa/inet.h>

#include <algorithm>

#include "common/fs.hpp"
#include "dhcp/pxe.hpp"
#include "netbootd/nfs_boot.hpp"
#include "netbootd/trusted_files.hpp"
#include "tftp/path.hpp"

namespace netbootd {

using pib::Level;
using pib::dhcp::ClientKind;
using pib::inventory::Node;

namespace {

constexpr auto kLogInterval = std::chrono::seconds(60);

std::string netmask_text(int prefix) {
    Ipv4 m = prefix == 0 ? 0 : ~Ipv4{0} << (32 - prefix);
    return pib::netbootd::ipv4_string(m);
}

std::string trim_trailing_newlines(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// A boot file of the release, small (cmdline.txt, config.txt): "" when absent.
std::string read_boot_text(const Release& r, const std::string& name) {
    auto text = pib::read_file(r.dir / "boot" / name);
    return text ? *text : std::string();
}

std::map<std::string, std::string> placeholders(const Snapshot& s, const BootTarget& t) {
    return {{"SERVER", s.base_url},
            {"NODE", t.node ? t.node->name : std::string()},
            {"HOSTNAME", t.node ? t.node->hostname : std::string()},
            {"RELEASE", t.release->id}};
}

}  // namespace

std::string substitute_placeholders(std::string text, const std::map<std::string, std::string>& values) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == '@') {
            auto end = text.find('@', i + 1);
            if (end != std::string::npos) {
                auto it = values.find(text.substr(i + 1, end - i - 1));
                if (it != values.end()) {
                    out += it->second;
                    i = end + 1;
                    continue;
                }
            }
        }
        out += text[i++];
    }
    return out;
}

BootService::BootService(pib::store::FleetState* state, const pib::Logger& log,
                         std::function<EventLoop::TimePoint()> now)
    : state_(state), log_(log), now_(now ? std::move(now) : [] { return EventLoop::Clock::now(); }) {}

void BootService::set_snapshot(std::shared_ptr<const Snapshot> snap) { snap_ = std::move(snap); }

bool BootService::should_log(const std::string& key) {
    auto now = now_();
    auto it = logged_.find(key);
    if (it != logged_.end() && now - it->second < kLogInterval) return false;
    if (logged_.size() > 4096) logged_.clear();  // bounded: a scan of random MACs cannot grow it
    logged_[key] = now;
    return true;
}

void BootService::refresh_fleet() {
    if (!state_) return;
    auto counter = state_->change_counter();
    if (!counter) {
        if (should_log("fleet-counter"))
            log_.event(Level::warn, "fleet", "state_unreadable").kv("error", counter.error().message);
        return;
    }
    if (fleet_ && fleet_->version == *counter) return;
    auto view = state_->view();
    if (!view) {
        if (should_log("fleet-view"))
            log_.event(Level::warn, "fleet", "state_unreadable").kv("error", view.error().message);
        return;
    }
    // view->version is the counter as of the read itself: a commit between the
    // two queries shows up as a change at the next request.
    fleet_ = std::make_shared<const pib::store::FleetView>(std::move(*view));
    ++fleet_reads_;
}

std::shared_ptr<const pib::store::FleetView> BootService::fleet() {
    if (!fleet_) refresh_fleet();
    if (!fleet_) fleet_ = std::make_shared<const pib::store::FleetView>();  // no state: inventory pins only
    return fleet_;
}

std::optional<BootTarget> BootService::target_for(const Snapshot& s, const Node& node) {
    BootTarget t;
    t.node = &node;
    auto view = fleet();
    auto desired = pib::store::desired_release(*view, node.name, node.channel, node.release);
    if (!desired) {
        if (should_log("channel/" + node.name))
            log_.event(Level::warn, "boot", "no_release")
                .kv("node", node.name)
                .kv("channel", node.channel)
                .kv("why", state_ ? "channel points at no release" : "no fleet state");
        return std::nullopt;
    }
    t.reason = std::move(desired->reason);
    const std::string& id = desired->release;
    t.release = s.catalog->find(id);
    if (!t.release) {
        if (should_log("missing/" + node.name + "/" + id))
            log_.event(Level::warn, "boot", "no_release")
                .kv("node", node.name)
                .kv("release", id)
                .kv("reason", t.reason)
                .kv("why", "release is not in the store or failed verification");
        return std::nullopt;
    }
    return t;
}

std::optional<BootTarget> BootService::fallback_target(const Snapshot& s) {
    const auto& id = s.config->tftp.default_release;
    if (!id) return std::nullopt;
    BootTarget t;
    t.reason = "root-fallback";
    t.release = s.catalog->find(*id);
    if (!t.release) {
        if (should_log("fallback/" + *id))
            log_.event(Level::warn, "boot", "no_release")
                .kv("release", *id)
                .kv("why", "tftp.root-fallback.default-release is not in the store or failed verification");
        return std::nullopt;
    }
    return t;
}

std::optional<BootTarget> BootService::target_or_fallback(const Snapshot& s, const Node* node) {
    return node ? target_for(s, *node) : fallback_target(s);
}

void BootService::learn(Ipv4 address, const Node& node) {
    auto old = learned_by_node_.find(node.name);
    if (old != learned_by_node_.end() && old->second == address) return;
    if (old != learned_by_node_.end()) learned_.erase(old->second);
    auto prev = learned_.find(address);
    if (prev != learned_.end()) learned_by_node_.erase(prev->second);
    learned_[address] = node.name;
    learned_by_node_[node.name] = address;
    log_.event(Level::info, "boot", "address_learned").kv("node", node.name).kv("address", pib::netbootd::ipv4_string(address));
}

const Node* BootService::node_at(const Snapshot& s, Ipv4 address) const {
    auto it = learned_.find(address);
    return it == learned_.end() ? nullptr : s.inventory->by_name(it->second);
}

std::optional<Ipv4> BootService::address_of(const std::string& node) const {
    auto it = learned_by_node_.find(node);
    if (it == learned_by_node_.end()) return std::nullopt;
    return it->second;
}

std::string BootService::kernel_cmdline(const Snapshot& s, const BootTarget& t) const {
    std::string line = trim_trailing_newlines(read_boot_text(*t.release, "cmdline.txt"));
    line = substitute_placeholders(std::move(line), placeholders(s, t));
    auto add = [&](const std::string& word) {
        if (!line.empty()) line += ' ';
        line += word;
    };
    // Parameters the client initramfs reads (docs/boot.md).
    add("pib.server=" + s.base_url);
    add("pib.release=" + t.release->id);
    if (t.node) {
        add("pib.node=" + t.node->name);
        if (const auto& n = t.node->network) {
            // ip=<client>::<gw>:<netmask>:<hostname>::off (the kernel's nfsroot.txt form)
            add("ip=" + pib::netbootd::ipv4_string(n->address) + "::" + (n->gateway ? pib::netbootd::ipv4_string(*n->gateway) : std::string()) + ":" +
                netmask_text(n->prefix) + ":" + t.node->hostname + "::off");
        }
        if (auto nfs = nfs_root_args(*s.config, *t.node, t.release->id, s.server_address, log_); !nfs.empty())
            add(nfs);
        if (!t.node->kernel_args.empty()) add(t.node->kernel_args);
    }
    return line;
}

std::string BootService::render_cmdline_txt(const Snapshot& s, const BootTarget& t) const {
    return kernel_cmdline(s, t) + "\n";
}

std::string BootService::render_config_txt(const Snapshot& s, const BootTarget& t) const {
    std::string body = substitute_placeholders(read_boot_text(*t.release, "config.txt"), placeholders(s, t));
    std::string head = "# netbootd: release " + t.release->id;
    if (t.node) head += ", node " + t.node->name;
    head += "\n";
    return head + body;
}

std::string BootService::ipxe_script(const Snapshot& s, const BootTarget& t) const {
    const auto& boot = t.release->manifest.boot;
    auto path_of = [&](const char* key) -> std::string {
        auto it = boot.find(key);
        return it != boot.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    const std::string base = s.base_url + "/releases/" + t.release->id + "/";
    const std::string kernel = path_of("kernel");
    const std::string initrd = path_of("initramfs");
    std::string out = "#!ipxe\n";
    out += "# netbootd: release " + t.release->id + (t.node ? ", node " + t.node->name : std::string()) + "\n";
    if (kernel.empty()) {
        out += "echo netbootd: release " + t.release->id + " has no kernel\nshell\n";
        return out;
    }
    std::string args = kernel_cmdline(s, t);
    if (!initrd.empty()) args = "initrd=initrd.img " + args;
    out += "kernel " + base + kernel + " " + args + "\n";
    if (!initrd.empty()) out += "initrd --name initrd.img " + base + initrd + "\n";
    out += "boot\n";
    return out;
}

// ---- DHCP: what each kind of firmware is told ------------------------------

std::optional<pib::dhcp::BootDecision> BootService::Policy::decide(const pib::dhcp::ClientInfo& client) {
    auto snap = svc_.snapshot();
    if (!snap) return std::nullopt;
    svc_.refresh_fleet();
    const auto& s = *snap;
    const Node* node = nullptr;
    std::optional<pib::inventory::MacAddress> mac;
    if (client.hwaddr.size() == 6) {
        pib::inventory::MacAddress m;
        std::copy(client.hwaddr.begin(), client.hwaddr.end(), m.bytes.begin());
        mac = m;
        node = s.inventory->by_mac(m);
    }
    // A Pi's option 97 carries its model, board revision and serial: read
    // it once, to find the node and to name an unknown Pi in the log, so an
    // admin can adopt it without an SD card (docs/guide.md).
    std::optional<pib::dhcp::PiGuid> pi;
    char serial[9] = "";
    if (client.kind == ClientKind::raspberry_pi && client.guid) {
        pi = pib::dhcp::pi_guid(*client.guid);
        if (pi) std::snprintf(serial, sizeof serial, "%08x", pi->serial);
    }
    if (!node && pi) node = s.inventory->by_serial(serial);
    auto target = svc_.target_or_fallback(s, node);
    const std::string who = mac ? mac->text() : std::string("?");
    if (!target) {
        if (svc_.should_log("dhcp/" + who)) {
            auto e = svc_.log_.event(Level::info, "dhcp", "client_ignored");
            e.kv("mac", who).kv("kind", pib::dhcp::kind_name(client.kind));
            if (pi) {
                char rev[11];
                std::snprintf(rev, sizeof rev, "0x%06x", pi->board_revision);
                // The model is four bytes from the wire: kept only when printable.
                const bool printable = std::all_of(pi->model.begin(), pi->model.end(),
                                                   [](char ch) { return ch > 0x20 && ch < 0x7f; });
                e.kv("serial", serial).kv("model", printable ? pi->model : std::string("?")).kv("board_revision", rev);
            }
            e.kv("why", node ? "its node has no release to boot" : "unknown client and no root-fallback");
        }
        return std::nullopt;
    }
    pib::dhcp::BootDecision d;
    switch (client.kind) {
        case ClientKind::raspberry_pi:
            d.pi_menu = true;
            break;
        case ClientKind::bios_pxe:
            d.boot_file = "undionly.kpxe";
            break;
        case ClientKind::uefi_x64:
            d.boot_file = "ipxe.efi";
            break;
        case ClientKind::ipxe:
            d.boot_file = s.base_url + "/ipxe/" + (mac ? mac->dashed() : std::string("default")) + ".ipxe";
            break;
        case ClientKind::uefi_http:
            d.boot_file = s.base_url + "/ipxe/ipxe.efi";
            break;
        case ClientKind::uefi_arm64:
        case ClientKind::other_pxe:
        case ClientKind::not_pxe:
            if (svc_.should_log("dhcp-arch/" + who))
                svc_.log_.event(Level::info, "dhcp", "client_ignored")
                    .kv("mac", who)
                    .kv("kind", pib::dhcp::kind_name(client.kind))
                    .kv("why", "no boot loader for this architecture");
            return std::nullopt;
    }
    return d;
}

}  // namespace netbootd

namespace netbootd {

pib::Result<ResolvedBootFile> BootService::resolve_boot_path(const Snapshot& s, const std::string& clean_path,
                                                             Ipv4 client) {
    using pib::Errc;
    using pib::fail;
    refresh_fleet();
    ResolvedBootFile out;
    std::string rest = clean_path;
    const Node* node = nullptr;
    if (auto pp = pib::tftp::parse_pi_path(clean_path)) {
        out.pi = true;
        if (pp->kind == pib::tftp::PiPrefix::serial) {
            node = s.inventory->by_serial(pp->id);
        } else if (auto mac = pib::inventory::parse_mac(pp->id)) {
            node = s.inventory->by_mac(*mac);
        }
        if (!node) {
            // The Pi asks <serial>/start4.elf first and falls back to the root when it is missing.
            return fail(Errc::not_found, "no node with " +
                                             std::string(pp->kind == pib::tftp::PiPrefix::serial ? "serial " : "MAC ") +
                                             pp->id);
        }
        learn(client, *node);
        rest = pp->rest;
    } else {
        if (s.ipxe && std::find(pib::netbootd::kIpxeBinaries.begin(), pib::netbootd::kIpxeBinaries.end(),
                                rest) != pib::netbootd::kIpxeBinaries.end()) {
            out.dir = s.ipxe;
            out.path = rest;
            return out;
        }
        node = node_at(s, client);
    }
    auto target = target_or_fallback(s, node);
    if (!target)
        return fail(Errc::not_found, node ? "node " + node->name + " has no release to boot"
                                          : "unknown client and no root-fallback release");
    out.target = *target;
    const Release& rel = *target->release;
    if (rest == "cmdline.txt") {
        out.rendered = render_cmdline_txt(s, out.target);
        return out;
    }
    if (rest == "config.txt" && rel.is_pi()) {
        out.rendered = render_config_txt(s, out.target);
        return out;
    }
    if (!rel.boot) return fail(Errc::not_found, "release " + rel.id + " has no boot files");
    out.dir = rel.boot;
    out.path = rest;
    out.artifact = rel.artifact("boot/" + rest);
    return out;
}

}  // namespace netbootd

namespace netbootd {

std::optional<Reservation> InventoryReservations::reservation_for(std::span<const std::uint8_t> hwaddr) const {
    auto snap = svc_.snapshot();
    if (!snap || hwaddr.size() != 6) return std::nullopt;
    pib::inventory::MacAddress mac;
    std::copy(hwaddr.begin(), hwaddr.end(), mac.bytes.begin());
    const Node* node = snap->inventory->by_mac(mac);
    if (!node || !node->network) return std::nullopt;
    return Reservation{node->network->address, node->hostname, node->name};
}

bool InventoryReservations::is_reserved(std::uint32_t address) const {
    auto snap = svc_.snapshot();
    return snap && snap->reserved_addresses.count(address) != 0;
}

}  // namespace netbootd
