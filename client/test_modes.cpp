// pib-init's test modes: each runs one step of the init on a normal system
// and prints what it found (stdout) and its console lines (stderr).
#include <sys/utsname.h>

#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "client/boot_report.hpp"
#include "client/cmdline.hpp"
#include "client/console.hpp"
#include "client/dhcp_client.hpp"
#include "client/init.hpp"
#include "client/mounts.hpp"
#include "client/net_setup.hpp"
#include "client/release_fetch.hpp"
#include "client/tcp_connector.hpp"
#include "client/verify.hpp"
#include "crypto/sha256.hpp"
#include "dhcp/packet.hpp"

namespace pib::client {

namespace {

const Console kErr(2);

// "--key value" pairs after the mode; flags without a value get "".
std::map<std::string, std::string> options(const std::vector<std::string>& args, std::size_t from) {
    std::map<std::string, std::string> o;
    for (std::size_t i = from; i < args.size(); ++i) {
        if (args[i].rfind("--", 0) != 0) continue;
        bool has_value = i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0;
        o[args[i]] = has_value ? args[i + 1] : "";
        if (has_value) ++i;
    }
    return o;
}

std::string machine_arch() {
    utsname u{};
    ::uname(&u);
    return debian_arch(u.machine);
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

int check_cmdline(const std::vector<std::string>& args) {
    std::string line = args.size() > 1 ? args[1] : read_all("/proc/cmdline");
    auto p = parse_cmdline(line);
    if (!p) {
        kErr.say("bad kernel command line: " + p.error().message);
        return 1;
    }
    std::cout << "server=" << p->server << "\nrelease=" << p->release << "\nnode=" << p->node
              << "\nroot=" << (p->root == RootSource::nfs ? "nfs" : "http") << "\nnfs=" << p->nfs
              << "\niface=" << p->iface << "\ndebug=" << (p->debug ? 1 : 0) << "\ninit=" << p->init
              << "\nmodules=";
    for (std::size_t i = 0; i < p->modules.size(); ++i)
        std::cout << (i ? "," : "") << p->modules[i];
    std::cout << "\nip=";
    if (p->ip)
        std::cout << dhcp::to_string(p->ip->address) << " gw=" << dhcp::to_string(p->ip->gateway)
                  << " netmask=" << dhcp::to_string(p->ip->netmask)
                  << " hostname=" << p->ip->hostname << " dev=" << p->ip->device;
    else
        std::cout << "dhcp";
    std::cout << "\narch=" << machine_arch() << "\n";
    return 0;
}

int test_dhcp(const std::vector<std::string>& args) {
    if (args.size() < 2) return 2;
    auto o = options(args, 2);
    const std::string iface = args[1];
    if (auto s = bring_up(iface, 2000); !s) {
        kErr.say(s.error().message);
        return 1;
    }
    auto mac = hardware_address(iface);
    auto transport =
        mac ? open_packet_transport(iface) : Result<std::unique_ptr<DhcpTransport>>(mac.error());
    if (!transport) {
        kErr.say(transport.error().message);
        return 1;
    }
    Backoff b;
    b.max_sends = o.count("--tries") ? std::stoi(o["--tries"]) : 6;
    DhcpClientMachine machine(*mac, static_cast<std::uint32_t>(monotonic_ms()) ^ 0x5eed, b);
    auto lease = run_dhcp(**transport, machine, [](const std::string& l) { kErr.say(l); });
    if (!lease) {
        kErr.say(lease.error().message);
        return 1;
    }
    if (o.count("--configure")) {
        if (auto s = configure_ipv4(iface, lease->address, lease->netmask, lease->router); !s) {
            kErr.say(s.error().message);
            return 1;
        }
    }
    std::cout << "lease " << describe(*lease) << "\n";
    return 0;
}

int verify_release_dir(const std::vector<std::string>& args) {
    auto o = options(args, 1);
    if (args.size() < 2 || !o.count("--pubkey")) return 2;
    const std::filesystem::path dir = args[1];
    auto key = PublicKey::load(o["--pubkey"]);
    if (!key) {
        kErr.say("cannot read " + o["--pubkey"] + ": " + key.error().message);
        return 1;
    }
    const std::string arch = o.count("--arch") ? o["--arch"] : machine_arch();
    auto m = verify_manifest(read_all(dir / "manifest.json"), read_all(dir / "manifest.json.sig"),
                             *key, arch);
    Status s = m ? Status() : Status(m.error());
    if (s) {
        auto art = find_artifact(m->artifacts, "root.squashfs");
        auto digest = sha256_file(dir / "root.squashfs");
        if (!art)
            s = fail(Errc::verification, art.error().message);
        else if (!digest)
            s = digest.error();
        else
            s = check_artifact(*art, digest->sha256, digest->size);
    }
    if (!s) {
        kErr.say(s.error().code == Errc::verification ? refusal_line(s.error())
                                                      : s.error().message);
        return 1;
    }
    std::cout << "verified " << m->name << " " << m->version << " arch=" << m->arch << "\n";
    return 0;
}

int fetch_mode(const std::vector<std::string>& args) {
    auto o = options(args, 1);
    for (const char* k : {"--server", "--release", "--pubkey", "--dir"})
        if (!o.count(k)) return 2;
    auto key = PublicKey::load(o["--pubkey"]);
    if (!key) {
        kErr.say("cannot read " + o["--pubkey"] + ": " + key.error().message);
        return 1;
    }
    FetchPlan plan{o["--server"], o["--release"], o.count("--node") ? o["--node"] : "",
                   o.count("--arch") ? o["--arch"] : machine_arch(), o["--dir"]};
    RetryPolicy retry;
    retry.max_attempts = o.count("--tries") ? std::stoi(o["--tries"]) : 5;
    retry.first_ms = o.count("--backoff-ms") ? std::stoi(o["--backoff-ms"]) : 1000;
    FetchEnv env;
    env.say = [](const std::string& l) { kErr.say(l); };
    env.sleep_ms = [](std::int64_t ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    };
    BootTimeline timeline;
    TcpConnector net(2000, 5000);
    auto got = fetch_release(net, plan, *key, retry, env, timeline, monotonic_ms);
    if (!got) {
        kErr.say(got.error().code == Errc::verification
                     ? refusal_line(got.error())
                     : "cannot fetch the release: " + got.error().message);
        return 1;
    }
    // --report posts as --node; --report-as NAME posts as NAME (a release-only fetch).
    const std::string reporter = o.count("--report-as") ? o["--report-as"]
                                 : o.count("--report")  ? plan.node
                                                        : "";
    if (!reporter.empty()) {
        auto url = parse_url(plan.server + "/api/v1/nodes/" + reporter + "/report");
        if (url)
            (void)post(net, *url, "application/json", report_json(plan.release, timeline), 2, 200,
                       env);
    }
    std::cout << boot_json(plan.node, plan.release, timeline);
    return 0;
}

int test_mount(const std::vector<std::string>& args) {
    auto o = options(args, 1);
    if (args.size() < 2 || !o.count("--base")) return 2;
    std::optional<std::filesystem::path> overlay;
    if (o.count("--overlay")) overlay = o["--overlay"];
    const RootLayout l = layout_under(o["--base"]);
    if (auto s = mount_root(l, args[1], overlay); !s) {
        kErr.say("mounting the root: " + s.error().message);
        return 1;
    }
    std::cout << "mounted " << l.sysroot.string() << "\n";
    return 0;
}

}  // namespace

int run_test_mode(const std::vector<std::string>& args) {
    const std::string& mode = args.front();
    if (mode == "--check-cmdline") return check_cmdline(args);
    if (mode == "--test-dhcp") return test_dhcp(args);
    if (mode == "--verify-release") return verify_release_dir(args);
    if (mode == "--fetch") return fetch_mode(args);
    if (mode == "--test-mount") return test_mount(args);
    std::cerr
        << "usage: pib-init (as PID 1, no arguments)\n"
           "       pib-init --check-cmdline [LINE]\n"
           "       pib-init --test-dhcp IFACE [--tries N] [--configure]\n"
           "       pib-init --verify-release DIR --pubkey PEM [--arch ARCH]\n"
           "       pib-init --fetch --server URL --release ID [--node NAME] --pubkey PEM --dir "
           "DIR\n"
           "                [--arch ARCH] [--tries N] [--backoff-ms MS] [--report | --report-as "
           "NODE]\n"
           "       pib-init --test-mount ROOT.squashfs [--overlay OVERLAY.squashfs] --base DIR\n";
    return 2;
}

}  // namespace pib::client
