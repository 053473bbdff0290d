// What netbootd's TFTP paths and HTTP URLs mean, on top of BootService.
//
// TFTP: see BootService::resolve_boot_path.
// HTTP:
//   GET  /healthz                        "ok"
//   GET  /metrics                        Prometheus text (per protocol)
//   GET  /releases/<id>/<artifact>       a verified release's files (manifest.json, .sig, listed artifacts)
//   GET  /boot/<serial|mac|default>/<f>  boot files as TFTP serves them (rendered cmdline.txt/config.txt)
//   GET  /ipxe/<aa-bb-cc-dd-ee-ff>.ipxe  the iPXE script of the node with that MAC (or the fallback)
//   GET  /ipxe/<binary>                  iPXE binaries (ipxe.efi for UEFI HTTP boot)
//   GET  /overlays/<node>/<file>         a node's signed overlay, only to that node's learned address
//   GET  /api/v1/nodes[/<name>]          nodes: what each boots and why, rollout, last report
//   GET  /api/v1/rollouts[/<id>]         rollouts (active and recent) and their progress
//   GET  /api/v1/channels                channels, their release and maintenance window
//   GET  /api/v1/releases                releases: verified and rejected
//   POST /api/v1/nodes/<name>/report     a boot or health report (JSON); rollouts advance
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/log.hpp"
#include "netbootd/boot_service.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "netbootd/file_resolver.hpp"
#include "netbootd/http_server.hpp"
#include "netbootd/metrics.hpp"
#include "netbootd/tftp_server.hpp"

namespace netbootd {

/// TFTP paths resolved per client through BootService.
class BootTftpResolver : public TftpFileResolver {
public:
    BootTftpResolver(BootService& svc, const pib::Logger& log) : svc_(svc), log_(log) {}
    pib::Result<pib::tftp::FileInfo> open(const std::string& clean_path, const ClientAddress& client) override;

private:
    BootService& svc_;
    const pib::Logger& log_;
};

class NetbootHttpHandler : public HttpHandler {
public:
    NetbootHttpHandler(BootService& svc, pib::store::FleetState* state, const pib::Logger& log)
        : svc_(svc), state_(state), log_(log) {}
    void set_metrics(MetricsSources m) { metrics_ = std::move(m); }
    /// Called after each stored report (the daemon advances rollouts).
    void set_on_report(std::function<void()> f) { on_report_ = std::move(f); }

    HttpResponse handle(const HttpRequest& request) override;

private:
    HttpResponse releases_file(const Snapshot& s, const std::string& rest);
    HttpResponse boot_file(const Snapshot& s, const std::string& rest, Ipv4 peer);
    HttpResponse ipxe(const Snapshot& s, const std::string& rest, Ipv4 peer);
    HttpResponse overlay_file(const Snapshot& s, const std::string& rest, Ipv4 peer);
    HttpResponse api(const Snapshot& s, const HttpRequest& req, const std::string& rest);
    HttpResponse report(const HttpRequest& req, const std::string& node);
    HttpResponse rollouts(const std::string& id_text);
    HttpResponse channels();
    HttpResponse metrics(const Snapshot& s);

    BootService& svc_;
    pib::store::FleetState* state_;
    const pib::Logger& log_;
    MetricsSources metrics_;
    std::function<void()> on_report_;
};

}  // namespace netbootd
