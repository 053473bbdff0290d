// pib-init as PID 1: a list of stages over one context (STYLE.md rule 9).
#include "client/init.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/boot_report.hpp"
#include "client/cmdline.hpp"
#include "client/console.hpp"
#include "client/dhcp_client.hpp"
#include "client/modules.hpp"
#include "client/mounts.hpp"
#include "client/net_setup.hpp"
#include "client/nfs_root.hpp"
#include "client/release_fetch.hpp"
#include "client/tcp_connector.hpp"
#include "client/verify.hpp"
#include "dhcp/describe.hpp"
#include "dhcp/packet.hpp"

namespace pib::client {

namespace {

constexpr const char* kModuleList = "/etc/pib-init/modules";
constexpr const char* kPublicKey = "/etc/pib-init/release.pub";
constexpr const char* kBakedCmdline = "/etc/pib-init/cmdline";
constexpr const char* kKernelVersion = "/etc/pib-init/kernel-version";

struct Context {
    Console con = Console(2);
    BootParams params;
    std::string kernel_release;
    std::string arch;
    std::string iface;
    BootTimeline timeline;
    std::string address;  ///< this machine's IPv4, dotted (the NFS client address)
    std::optional<FetchedRelease> fetched;
    std::optional<NfsRoot> nfs;  ///< pib.root=nfs: the verified dm-verity root
    PublicKey key;

    /// A line only with pib.debug.
    void debug(const std::string& line) const {
        if (params.debug) con.say("debug: " + line);
    }
};

// No shell in the initramfs: say why, then wait forever (PID 1 must not exit).
[[noreturn]] void halt(const Context& c, const std::string& why) {
    c.con.say(why);
    c.con.say(
        "rescue: boot stopped here; fix the cause on the server and power-cycle this machine");
    for (;;) ::pause();
}

void halt_on_error(Context& c, const Status& s, const std::string& what) {
    if (!s) halt(c, what + ": " + s.error().message);
}

std::string read_file(const char* path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void stage_mount_early(Context& c) {
    auto s = mount_early();
    c.con = Console::open_console();
    halt_on_error(c, s, "mounting /proc /sys /dev /run");
    utsname u{};
    ::uname(&u);
    c.kernel_release = u.release;
    c.arch = debian_arch(u.machine);
}

void stage_parse_cmdline(Context& c) {
    std::string line = effective_cmdline(read_file(kBakedCmdline), read_file("/proc/cmdline"));
    auto p = parse_cmdline(line);
    if (!p) halt(c, "bad kernel command line: " + p.error().message);
    c.params = *p;
    c.debug("command line: " + line);
    c.con.say("release=" + c.params.release +
              " node=" + (c.params.node.empty() ? "-" : c.params.node) +
              " server=" + c.params.server + " arch=" + c.arch + " kernel=" + c.kernel_release);
}

void stage_load_modules(Context& c) {
    std::int64_t t0 = monotonic_ms();
    // The builder names the module tree after the image's kernel
    // (/etc/pib-init/kernel-version); uname -r is the same kernel, but trust
    // the file the tree was built from when they differ.
    std::string tree = "/lib/modules/" + c.kernel_release;
    std::string baked = read_file(kKernelVersion);
    while (!baked.empty() && (baked.back() == '\n' || baked.back() == ' ')) baked.pop_back();
    if (!baked.empty() && !std::filesystem::exists(tree)) tree = "/lib/modules/" + baked;
    std::vector<std::string> list;
    for (const auto& name : c.params.modules) {
        auto rel = find_module(tree, name);
        if (rel)
            list.push_back(*rel);
        else
            c.con.say(rel.error().message);
    }
    for (auto& m : read_module_list(kModuleList)) list.push_back(std::move(m));
    for (const auto& m : list) c.debug("module " + tree + "/" + m);
    c.con.say("loading " + std::to_string(list.size()) + " kernel modules");
    int failed = load_modules(tree, list, [&](const std::string& l) { c.con.say(l); });
    if (failed > 0) c.con.say(std::to_string(failed) + " modules failed to load; going on");
    c.timeline.add("modules", monotonic_ms() - t0);
}

void stage_network(Context& c) {
    std::int64_t t0 = monotonic_ms();
    std::string wanted = c.params.iface;
    if (c.params.ip && !c.params.ip->device.empty()) wanted = c.params.ip->device;
    auto iface = choose_interface(wanted, 30000, [&](const std::string& l) { c.con.say(l); });
    if (!iface) halt(c, iface.error().message);
    c.iface = *iface;
    halt_on_error(c, bring_up(c.iface, 5000), "bringing up " + c.iface);
    if (c.params.ip) {
        const StaticIp& ip = *c.params.ip;
        c.con.say("static address " + dhcp::to_string(ip.address) + " on " + c.iface +
                  " (ip= on the command line)");
        halt_on_error(c, configure_ipv4(c.iface, ip.address, ip.netmask, ip.gateway),
                      "configuring " + c.iface);
        c.address = dhcp::to_string(ip.address);
    } else {
        auto mac = hardware_address(c.iface);
        if (!mac) halt(c, mac.error().message);
        c.debug("interface " + c.iface + " mac " + dhcp::colon_hex(*mac));
        auto transport = open_packet_transport(c.iface);
        if (!transport) halt(c, transport.error().message);
        std::uint32_t xid = 0;
        for (auto b : *mac) xid = xid * 31 + b;
        xid ^= static_cast<std::uint32_t>(monotonic_ms());
        c.con.say("dhcp on " + c.iface + ": waiting for a lease");
        DhcpClientMachine machine(*mac, xid);
        auto lease = run_dhcp(**transport, machine, [&](const std::string& l) { c.con.say(l); });
        if (!lease) halt(c, lease.error().message);
        halt_on_error(c, configure_ipv4(c.iface, lease->address, lease->netmask, lease->router),
                      "configuring " + c.iface);
        c.address = dhcp::to_string(lease->address);
    }
    c.timeline.add("dhcp", monotonic_ms() - t0);
}

// pib.root=nfs: the release from its NFS export through dm-verity
// (client/nfs_root.hpp), the node overlay over HTTP as on the HTTP path.
void fetch_nfs(Context& c, Connector& net, const FetchPlan& plan, const FetchEnv& env) {
    c.timeline.root = "nfs";
    NfsPlan nfs{c.params.nfs, c.address, c.params.release, c.arch, "/run/pib/nfs"};
    auto root = open_nfs_root(nfs, c.key, env.say, c.timeline, monotonic_ms);
    if (!root && root.error().code == Errc::verification) halt(c, refusal_line(root.error()));
    if (!root) halt(c, "cannot use the NFS root: " + root.error().message);
    c.nfs = std::move(*root);
    FetchedRelease fr;
    fr.manifest = c.nfs->manifest;
    auto s = fetch_overlay(net, plan, c.key, RetryPolicy{}, env, c.timeline, monotonic_ms, fr);
    if (!s && s.error().code == Errc::verification) halt(c, refusal_line(s.error()));
    if (!s) halt(c, "cannot fetch the node overlay: " + s.error().message);
    c.fetched = std::move(fr);
}

void stage_fetch(Context& c) {
    auto key = PublicKey::load(kPublicKey);
    if (!key)
        halt(c,
             "cannot read the release key " + std::string(kPublicKey) + ": " + key.error().message);
    c.key = *key;
    const std::filesystem::path dir = "/run/pib";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    TcpConnector net;
    FetchEnv env;
    env.say = [&](const std::string& l) { c.con.say(l); };
    env.sleep_ms = [](std::int64_t ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    };
    FetchPlan plan{c.params.server, c.params.release, c.params.node, c.arch, dir};
    if (c.params.root == RootSource::nfs) return fetch_nfs(c, net, plan, env);
    auto got = fetch_release(net, plan, c.key, RetryPolicy{}, env, c.timeline, monotonic_ms);
    if (!got && got.error().code == Errc::verification) halt(c, refusal_line(got.error()));
    if (!got) halt(c, "cannot fetch the release: " + got.error().message);
    c.fetched = std::move(*got);
}

void stage_mount_root(Context& c) {
    std::int64_t t0 = monotonic_ms();
    const RootLayout l = layout_under("/");
    std::optional<std::filesystem::path> overlay;
    if (c.fetched->overlay) overlay = c.fetched->overlay_image;
    c.con.say("mounting the verified root" + std::string(overlay ? " and node overlay" : "") +
              " at /sysroot");
    if (c.nfs)
        halt_on_error(c, mount_root_device(l, c.nfs->device.node, overlay),
                      "mounting the root from " + c.nfs->device.node);
    else
        halt_on_error(c, mount_root(l, c.fetched->root, overlay), "mounting the root");
    halt_on_error(c, move_api_mounts(l.sysroot), "moving /run /dev /proc /sys");
    c.timeline.add("mount", monotonic_ms() - t0);
    std::ofstream out(l.sysroot / "run/pib/boot.json");
    out << boot_json(c.params.node, c.params.release, c.timeline);
    if (!out.flush()) c.con.say("could not write /run/pib/boot.json; going on");
}

void stage_report(Context& c) {
    if (c.params.node.empty()) return;
    auto url = parse_url(c.params.server + "/api/v1/nodes/" + c.params.node + "/report");
    if (!url) return;
    TcpConnector net(2000, 3000);
    FetchEnv env;
    env.say = [&](const std::string& l) { c.con.say(l); };
    env.sleep_ms = [](std::int64_t ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    };
    auto s =
        post(net, *url, "application/json", report_json(c.params.release, c.timeline), 2, 500, env);
    c.con.say(s ? "boot reported to " + url->text() : "boot report not delivered; going on");
}

}  // namespace

int run_init() {
    Context c;
    stage_mount_early(c);
    stage_parse_cmdline(c);
    stage_load_modules(c);
    stage_network(c);
    stage_fetch(c);
    stage_mount_root(c);
    stage_report(c);
    c.con.say("switching root to " + c.params.init);
    Error e = switch_root("/sysroot", c.params.init);
    halt(c, "switch_root: " + e.message);
}

}  // namespace pib::client
