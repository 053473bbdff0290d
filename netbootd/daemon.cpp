#include "netbootd/daemon.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <pwd.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "crypto/ed25519.hpp"
#include "inventory/inventory.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "netbootd/http_server.hpp"
#include "netbootd/nfs_publisher.hpp"
#include "netbootd/rollout_driver.hpp"
#include "netbootd/routes.hpp"
#include "netbootd/tftp_server.hpp"
#include "store/fleet_state.hpp"

namespace netbootd {

namespace fs = std::filesystem;
using pib::Errc;
using pib::fail;
using pib::Level;
using pib::netbootd::NetbootdConfig;

namespace {

pib::Status drop_to(const std::string& user, const std::string& group) {
    errno = 0;
    const passwd* pw = getpwnam(user.c_str());
    if (!pw) return fail(Errc::not_found, "user '" + user + "' does not exist (create it, or set `user:`)");
    const uid_t uid = pw->pw_uid;
    errno = 0;
    const struct group* gr = getgrnam(group.c_str());
    if (!gr) return fail(Errc::not_found, "group '" + group + "' does not exist (create it, or set `group:`)");
    const gid_t gid = gr->gr_gid;
    if (setgroups(0, nullptr) != 0) return fail(Errc::io, std::string("setgroups: ") + std::strerror(errno));
    if (setresgid(gid, gid, gid) != 0) return fail(Errc::io, std::string("setresgid: ") + std::strerror(errno));
    if (setresuid(uid, uid, uid) != 0) return fail(Errc::io, std::string("setresuid: ") + std::strerror(errno));
    // Paranoia: getting root back must be impossible now.
    if (uid != 0 && setuid(0) == 0) return fail(Errc::io, "privileges could be regained after dropping them");
    prctl(PR_SET_DUMPABLE, 1);
    return {};
}

}  // namespace

pib::Result<Ipv4> interface_ipv4(const std::string& name) {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return fail(Errc::io, std::string("getifaddrs: ") + std::strerror(errno));
    std::optional<Ipv4> found;
    for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || name != i->ifa_name) continue;
        found = ntohl(reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    }
    freeifaddrs(list);
    if (!found) return fail(Errc::not_found, "interface " + name + " has no IPv4 address");
    return *found;
}

struct Daemon::Impl {
    const pib::Logger& log;
    DaemonOptions options;
    fs::path config_file;
    std::shared_ptr<const NetbootdConfig> config;  ///< the one the sockets were made with
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<pib::store::FleetState> state;
    std::unique_ptr<CatalogLoader> catalog_loader;
    std::unique_ptr<BootService> service;
    std::unique_ptr<BootTftpResolver> tftp_resolver;
    std::unique_ptr<NetbootHttpHandler> http_handler;
    std::unique_ptr<TftpServer> tftp;
    std::unique_ptr<DhcpProxyServer> dhcp;
    std::unique_ptr<HttpServer> http;
    std::unique_ptr<NfsPublisher> nfs;
    std::unique_ptr<InventoryReservations> reservations;
    std::unique_ptr<LeaseStore> leases;
    std::unique_ptr<RolloutDriver> rollouts;
    Ipv4 server_address = 0;
    int signal_fd = -1;
    int inotify_fd = -1;
    int reload_fd = -1;  ///< eventfd: request_reload() from other threads
    EventLoop::TimerId reload_timer = 0;
    std::function<void()> do_reload;
    bool announced = false;  ///< `netbootd ready` logged and READY=1 sent

    void notify(const std::string& state) const {
        if (options.notify) options.notify(state);
    }
    /// STATUS= for the service manager: what is being served, in one line.
    std::string status_summary() const;
    void announce_ready();

    explicit Impl(const pib::Logger& l) : log(l) {}
    ~Impl() {
        if (signal_fd >= 0) close(signal_fd);
        if (inotify_fd >= 0) close(inotify_fd);
        if (reload_fd >= 0) close(reload_fd);
    }

    pib::Result<std::shared_ptr<const Snapshot>> build_snapshot(std::shared_ptr<const NetbootdConfig> cfg,
                                                                pib::Diagnostics& diags);
    void watch();
    void on_inotify();
    void schedule_reload();
    void publish_nfs(const Snapshot& s) {
        if (!nfs) return;
        std::vector<std::string> ids;
        for (const auto& [id, r] : s.catalog->releases()) ids.push_back(id);
        (void)nfs->publish(ids);
    }
};

pib::Result<std::shared_ptr<const Snapshot>> Daemon::Impl::build_snapshot(std::shared_ptr<const NetbootdConfig> cfg,
                                                                          pib::Diagnostics& diags) {
    auto snap = std::make_shared<Snapshot>();
    snap->config = cfg;
    snap->server_address = server_address;
    snap->base_url = cfg->listen.http_base_url.empty()
                         ? "http://" + pib::netbootd::ipv4_string(server_address) + ":" + std::to_string(config->listen.http_port)
                         : cfg->listen.http_base_url;
    if (cfg->inventory) {
        auto inv = pib::inventory::load_inventory(*cfg->inventory, diags);
        if (!inv) return inv.error();
        for (const auto& n : inv->nodes)
            if (n.network) snap->reserved_addresses.insert(n.network->address);
        snap->inventory = std::make_shared<const pib::inventory::Inventory>(std::move(*inv));
    } else {
        snap->inventory = std::make_shared<const pib::inventory::Inventory>();
    }
    auto cat = catalog_loader->scan();
    if (!cat) return cat.error();
    snap->catalog = std::move(*cat);
    // The iPXE binaries as the config loader resolved and checked them (trusted_files.hpp).
    if (!cfg->ipxe_files.empty()) {
        snap->ipxe = std::make_shared<PinnedFilesResolver>(cfg->ipxe_files,
                                                           pib::netbootd::lookup_account(cfg->user, cfg->group));
        auto ev = log.event(Level::info, "netbootd", "ipxe_files");
        ev.kv("dir", cfg->ipxe_dir.string());
        for (const auto& [name, path] : cfg->ipxe_files) ev.kv(name, path.string());
    } else {
        log.event(Level::warn, "netbootd", "no_ipxe")
            .kv("dir", cfg->ipxe_dir.string())
            .kv("error", "no iPXE binary there (Debian package ipxe): PXE and UEFI clients cannot boot");
    }
    snap->overlays_dir = cfg->store / "overlays";
    return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::string Daemon::Impl::status_summary() const {
    auto s = service->snapshot();
    return "serving " + std::to_string(s->catalog->releases().size()) + " releases (" +
           std::to_string(s->catalog->rejected().size()) + " rejected) to " +
           std::to_string(s->inventory->nodes.size()) + " nodes; tftp " + std::to_string(tftp->port()) + ", http " +
           std::to_string(http->port()) + ", dhcp " +
           (dhcp ? pib::netbootd::dhcp_mode_name(config->dhcp.mode) : std::string("off"));
}

void Daemon::Impl::announce_ready() {
    auto s = service->snapshot();
    log.event(Level::info, "netbootd", "ready")
        .kv("address", pib::netbootd::ipv4_string(server_address))
        .kv("tftp_port", static_cast<unsigned>(tftp->port()))
        .kv("http_port", static_cast<unsigned>(http->port()))
        .kv("dhcp", dhcp ? pib::netbootd::dhcp_mode_name(config->dhcp.mode) : "off")
        .kv("releases", static_cast<std::uint64_t>(s->catalog->releases().size()))
        .kv("rejected", static_cast<std::uint64_t>(s->catalog->rejected().size()))
        .kv("nodes", static_cast<std::uint64_t>(s->inventory->nodes.size()))
        .kv("base_url", s->base_url);
    notify("READY=1\nSTATUS=" + status_summary());
}

void Daemon::Impl::schedule_reload() {
    // Debounce: a publish or an editor's save is several events in a row.
    if (reload_timer) return;
    reload_timer = loop->add_timer(loop->now() + std::chrono::milliseconds(250), [this] {
        reload_timer = 0;
        do_reload();
    });
}

void Daemon::Impl::on_inotify() {
    alignas(inotify_event) char buf[4096];
    ssize_t n = read(inotify_fd, buf, sizeof buf);
    if (n > 0) schedule_reload();
}

void Daemon::Impl::watch() {
    inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd < 0) {
        log.event(Level::warn, "netbootd", "no_watch").kv("error", std::strerror(errno));
        return;
    }
    const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB;
    auto add = [&](const fs::path& p) {
        if (inotify_add_watch(inotify_fd, p.c_str(), mask) < 0)
            log.event(Level::warn, "netbootd", "no_watch").kv("path", p.string()).kv("error", std::strerror(errno));
    };
    add(config->releases_dir());
    // Editors and tools replace the inventory by rename: watch its directory.
    if (config->inventory) add(config->inventory->parent_path());
    (void)loop->add_fd(inotify_fd, [this] { on_inotify(); });
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
    impl_->do_reload = [this] { (void)reload(); };
}
Daemon::~Daemon() = default;

pib::Result<std::unique_ptr<Daemon>> Daemon::create(const fs::path& config_file, const pib::Logger& log,
                                                    pib::Diagnostics& diags, DaemonOptions options) {
    auto cfg = pib::netbootd::load_netbootd_config(config_file, diags);
    if (!cfg) return cfg.error();
    auto impl = std::make_unique<Impl>(log);
    impl->options = options;
    impl->config_file = config_file;
    impl->config = std::make_shared<const NetbootdConfig>(std::move(*cfg));
    const NetbootdConfig& c = *impl->config;

    if (c.listen.address) {
        impl->server_address = *c.listen.address;
    } else {
        auto a = interface_ipv4(c.listen.interface);
        if (!a) return a.error();
        impl->server_address = *a;
    }
    auto key = pib::PublicKey::load(c.public_key);
    if (!key) return fail(key.error().code, "public-key " + c.public_key.string() + ": " + key.error().message);

    auto loop = EventLoop::create();
    if (!loop) return loop.error();
    impl->loop = std::move(*loop);

    // A CLI write holds the lock for milliseconds; should one hold it longer,
    // the event loop stalls at most a second and the API answers 503.
    auto state = pib::store::open_sqlite_state(c.state_db, std::chrono::seconds(1));
    if (!state) return fail(state.error().code, "state " + c.state_db.string() + ": " + state.error().message);
    impl->state = std::move(*state);

    impl->catalog_loader = std::make_unique<CatalogLoader>(c.releases_dir(), *key, log);
    impl->service = std::make_unique<BootService>(impl->state.get(), log);
    auto snap = impl->build_snapshot(impl->config, diags);
    if (!snap) return snap.error();
    impl->service->set_snapshot(*snap);

    // ---- sockets (as root: ports below 1024)
    const std::string bind_addr = c.listen.address ? pib::netbootd::ipv4_string(*c.listen.address) : "0.0.0.0";
    impl->tftp_resolver = std::make_unique<BootTftpResolver>(*impl->service, log);
    TftpServerConfig tc;
    tc.address = bind_addr;
    tc.port = c.listen.tftp_port;
    tc.limits.max_blksize = static_cast<std::uint16_t>(c.tftp.max_blksize);
    tc.limits.default_timeout = std::chrono::seconds(c.tftp.timeout_s);
    tc.limits.max_retransmits = c.tftp.retries;
    if (!c.listen.interface.empty()) {
        unsigned mtu = 0;
        // Clamp blksize to the link's MTU like dnsmasq does.
        if (int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); s >= 0) {
            ifreq ifr{};
            std::strncpy(ifr.ifr_name, c.listen.interface.c_str(), IFNAMSIZ - 1);
            if (ioctl(s, SIOCGIFMTU, &ifr) == 0) mtu = static_cast<unsigned>(ifr.ifr_mtu);
            close(s);
        }
        if (mtu) tc.mtu = mtu;
    }
    auto tftp = TftpServer::create(*impl->loop, tc, *impl->tftp_resolver, log);
    if (!tftp) return fail(tftp.error().code, "tftp: " + tftp.error().message);
    impl->tftp = std::move(*tftp);

    impl->http_handler = std::make_unique<NetbootHttpHandler>(*impl->service, impl->state.get(), log);
    // Reports move rollouts forward (health gates); a timer does it too, for timeouts.
    impl->rollouts = std::make_unique<RolloutDriver>(*impl->loop, *impl->state, log);
    impl->http_handler->set_on_report([r = impl->rollouts.get()] { r->poke(); });
    HttpServerConfig hc;
    hc.address = bind_addr;
    hc.port = c.listen.http_port;
    auto http = HttpServer::create(*impl->loop, hc, *impl->http_handler, log);
    if (!http) return fail(http.error().code, "http: " + http.error().message);
    impl->http = std::move(*http);

    if (options.dhcp) {
        DhcpProxyConfig dc;
        dc.interface = c.listen.interface;
        dc.server_address = pib::netbootd::ipv4_string(impl->server_address);
        if (c.dhcp.mode == pib::netbootd::DhcpMode::full && c.dhcp.pool) {
            impl->reservations = std::make_unique<InventoryReservations>(*impl->service);
            auto lo = lease_store_options(*c.dhcp.pool, impl->server_address);
            lo.file = c.dhcp.pool->leases_file;
            auto leases = LeaseStore::open(lo, *impl->reservations, log);
            if (!leases) return fail(leases.error().code, "dhcp leases: " + leases.error().message);
            impl->leases = std::move(*leases);
            dc.mode = pib::netbootd::DhcpMode::full;
            dc.leases = impl->leases.get();
            dc.network = network_config(*c.dhcp.pool);
        }
        auto dhcp = DhcpProxyServer::create(*impl->loop, dc, impl->service->policy(), log);
        if (!dhcp) return fail(dhcp.error().code, "dhcp: " + dhcp.error().message);
        impl->dhcp = std::move(*dhcp);
    }

    MetricsSources ms;
    ms.tftp = &impl->tftp->metrics();
    ms.http = &impl->http->metrics();
    if (impl->dhcp) ms.dhcp = &impl->dhcp->metrics();
    auto daemon = std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
    Impl* ip = daemon->impl_.get();
    ms.reloads = [d = daemon.get()] { return d->reloads(); };
    ms.reloads_refused = [d = daemon.get()] { return d->reloads_refused(); };
    ms.build = options.build;
    ms.fleet_reads = [svc = ip->service.get()] { return svc->fleet_reads(); };
    ms.rollout_advances = [r = ip->rollouts.get()] { return r->advances(); };
    ip->http_handler->set_metrics(std::move(ms));

    if (c.nfs.enabled && c.nfs.subnet) {
        NfsExportSet set;
        set.export_dir = c.nfs.export_dir;
        set.subnet = *c.nfs.subnet;
        auto o = NfsApplyOptions::defaults(c.nfs.server);
        if (!c.nfs.exports_file.empty()) o.exports_file = c.nfs.exports_file;
        if (c.nfs.reload_command) o.reload_command = *c.nfs.reload_command;
        const bool helper = options.drop_privileges && geteuid() == 0;
        auto pub = NfsPublisher::start(std::move(set), std::move(o), helper, log);
        if (!pub) return fail(pub.error().code, "nfs: " + pub.error().message);
        ip->nfs = std::move(*pub);
        ip->publish_nfs(*daemon->snapshot());
    }

    // ---- privileges: everything that needs root is done
    if (options.drop_privileges && geteuid() == 0) {
        // The state database is written by reports after the switch.
        if (const passwd* pw = getpwnam(c.user.c_str())) {
            for (const char* suffix : {"", "-wal", "-shm"}) {
                fs::path p = c.state_db.string() + suffix;
                if (fs::exists(p) && chown(p.c_str(), pw->pw_uid, static_cast<gid_t>(-1)) != 0)
                    log.event(Level::warn, "netbootd", "chown_failed").kv("path", p.string()).kv("error", std::strerror(errno));
            }
        }
        PIB_TRY(drop_to(c.user, c.group));
        log.event(Level::info, "netbootd", "privileges_dropped").kv("user", c.user).kv("group", c.group);
    }
    ip->watch();
    ip->rollouts->start();
    ip->reload_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ip->reload_fd >= 0)
        (void)ip->loop->add_fd(ip->reload_fd, [ip] {
            std::uint64_t v;
            if (read(ip->reload_fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) ip->do_reload();
        });
    // `netbootd ready` and READY=1 come from run(), once signals are handled.
    return daemon;
}

pib::Status Daemon::handle_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return fail(Errc::io, "sigprocmask failed");
    impl_->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (impl_->signal_fd < 0) return fail(Errc::io, std::string("signalfd: ") + std::strerror(errno));
    return impl_->loop->add_fd(impl_->signal_fd, [this] {
        signalfd_siginfo si{};
        while (read(impl_->signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            if (si.ssi_signo == SIGHUP) {
                impl_->log.event(Level::info, "netbootd", "sighup");
                (void)reload();
            } else {
                impl_->log.event(Level::info, "netbootd", "stopping").kv("signal", static_cast<int>(si.ssi_signo));
                impl_->loop->stop();
            }
        }
    });
}

pib::Status Daemon::run() {
    // Ready here, not at the end of create(): a SIGHUP sent on READY=1 (systemctl
    // reload right after start) must find handle_signals() done, not kill us.
    if (!impl_->announced) {
        impl_->announced = true;
        impl_->announce_ready();
    }
    auto st = impl_->loop->run();
    impl_->notify("STOPPING=1\nSTATUS=stopping");
    return st;
}

void Daemon::stop() { impl_->loop->stop(); }

void Daemon::request_reload() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = write(impl_->reload_fd, &one, sizeof one);
}

std::uint16_t Daemon::tftp_port() const { return impl_->tftp->port(); }
std::uint16_t Daemon::http_port() const { return impl_->http->port(); }
std::shared_ptr<const Snapshot> Daemon::snapshot() const { return impl_->service->snapshot(); }

pib::Status Daemon::reload() {
    Impl& d = *impl_;
    // sd_notify(3): RELOADING=1 with the monotonic time of the reload's start
    // (systemd >= 253 wants it; older ones ignore it), READY=1 when done.
    if (d.announced) {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC, &ts);
        const auto usec = static_cast<std::uint64_t>(ts.tv_sec) * 1000000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
        d.notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec) + "\nSTATUS=reloading");
    }
    auto st = reload_now();
    if (!st) ++reloads_refused_;
    if (d.announced)
        d.notify("READY=1\nSTATUS=" + std::string(st ? "" : "reload refused, kept the previous configuration; ") +
                 d.status_summary());
    return st;
}

pib::Status Daemon::reload_now() {
    Impl& d = *impl_;
    auto t0 = std::chrono::steady_clock::now();
    pib::Diagnostics diags;
    auto report = [&](const std::string& what, const pib::Error& e) {
        auto ev = d.log.event(Level::error, "netbootd", "reload_failed");
        ev.kv("what", what).kv("error", e.message);
        for (const auto& item : diags.items()) ev.kv("problem", item.str());
        return e;
    };
    auto cfg = pib::netbootd::load_netbootd_config(d.config_file, diags);
    if (!cfg) return report("config", cfg.error());
    // Settings bound to sockets stay as they were until a restart.
    const auto& old = *d.config;
    if (cfg->listen.interface != old.listen.interface || cfg->listen.address != old.listen.address ||
        cfg->listen.tftp_port != old.listen.tftp_port || cfg->listen.http_port != old.listen.http_port ||
        cfg->dhcp.mode != old.dhcp.mode || cfg->tftp.max_blksize != old.tftp.max_blksize ||
        cfg->store != old.store || cfg->public_key != old.public_key || cfg->state_db != old.state_db ||
        cfg->user != old.user || cfg->group != old.group) {
        d.log.event(Level::warn, "netbootd", "restart_needed")
            .kv("detail", "listen, dhcp.mode, tftp.max-blksize, store, public-key, state, user and group "
                          "changes take effect at the next start");
        cfg->listen = old.listen;
        cfg->dhcp.mode = old.dhcp.mode;
        cfg->tftp.max_blksize = old.tftp.max_blksize;
        cfg->store = old.store;
        cfg->public_key = old.public_key;
        cfg->state_db = old.state_db;
        cfg->user = old.user;
        cfg->group = old.group;
    }
    auto snap = d.build_snapshot(std::make_shared<const NetbootdConfig>(std::move(*cfg)), diags);
    if (!snap) return report("inventory or store", snap.error());
    d.service->set_snapshot(*snap);
    d.publish_nfs(**snap);
    ++reloads_;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    d.log.event(Level::info, "netbootd", "reloaded")
        .kv("releases", static_cast<std::uint64_t>((*snap)->catalog->releases().size()))
        .kv("rejected", static_cast<std::uint64_t>((*snap)->catalog->rejected().size()))
        .kv("nodes", static_cast<std::uint64_t>((*snap)->inventory->nodes.size()))
        .kv("ms", static_cast<std::int64_t>(ms.count()));
    return {};
}

}  // namespace netbootd
