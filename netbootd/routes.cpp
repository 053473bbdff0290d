#include "netbootd/routes.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "netbootd/fleet_api.hpp"
#include "store/fleet_json.hpp"
#include "tftp/path.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;
using nlohmann::json;

namespace {

/// Bytes rendered for one client (cmdline.txt, config.txt).
class MemorySource : public pib::tftp::BlockSource {
public:
    explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
    pib::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> out) const override {
        if (offset >= bytes_.size()) return std::size_t{0};
        std::size_t n = std::min<std::size_t>(out.size(), bytes_.size() - offset);
        std::memcpy(out.data(), bytes_.data() + offset, n);
        return n;
    }

private:
    std::string bytes_;
};

Ipv4 peer_ip(const HttpRequest& r) { return ntohl(r.peer.sin_addr.s_addr); }

HttpResponse not_found(const std::string& what) { return HttpResponse::text(404, what + "\n"); }

HttpResponse from_error(const pib::Error& e) {
    if (e.code == Errc::not_found) return not_found(e.message);
    if (e.code == Errc::invalid) return HttpResponse::text(403, e.message + "\n");
    return HttpResponse::text(500, e.message + "\n");
}

std::string weak_free_etag(const struct stat& st) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "\"%llx-%llx-%llx\"", static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec));
    return buf;
}

/// Opens `path` below `dir` for sending; the artifact's sha256 is the ETag when known.
HttpResponse file_response(const DirectoryResolver& dir, const std::string& path, const pib::Artifact* artifact,
                           std::string content_type = "application/octet-stream") {
    struct stat st{};
    auto fd = dir.open_fd(path, st);
    if (!fd) return from_error(fd.error());
    HttpResponse r;
    r.content_type = std::move(content_type);
    HttpFile f;
    f.fd = *fd;
    f.size = static_cast<std::uint64_t>(st.st_size);
    f.mtime = st.st_mtim.tv_sec;
    f.etag = artifact && artifact->size == f.size ? "\"" + artifact->sha256 + "\"" : weak_free_etag(st);
    r.file = f;
    return r;
}

std::string content_type_for(const std::string& path) {
    auto ends = [&](const char* suf) { return path.ends_with(suf); };
    if (ends(".json")) return "application/json";
    if (ends(".txt")) return "text/plain; charset=utf-8";
    if (ends(".ipxe")) return "text/plain; charset=utf-8";
    return "application/octet-stream";
}

/// Splits "a/b/c" into "a" and "b/c".
std::pair<std::string, std::string> head_rest(const std::string& p) {
    auto slash = p.find('/');
    if (slash == std::string::npos) return {p, ""};
    return {p.substr(0, slash), p.substr(slash + 1)};
}

}  // namespace

// ---- TFTP ------------------------------------------------------------------

pib::Result<pib::tftp::FileInfo> BootTftpResolver::open(const std::string& clean_path, const ClientAddress& client) {
    auto snap = svc_.snapshot();
    if (!snap) return fail(Errc::not_found, "not ready");
    auto r = svc_.resolve_boot_path(*snap, clean_path, ntohl(client.addr.sin_addr.s_addr));
    if (!r) return r.error();
    const std::string node = r->target.node ? r->target.node->name : std::string();
    const std::string release = r->target.release ? r->target.release->id : std::string();
    if (r->rendered) {
        auto size = r->rendered->size();
        return pib::tftp::FileInfo{size, std::make_shared<MemorySource>(std::move(*r->rendered)), node, release};
    }
    auto info = r->dir->open_exact(r->path);
    if (!info) return info.error();
    info->node = node;
    info->release = release;
    if (r->pi && info->size > kPiTftpSafeSize && r->target.release &&
        svc_.should_log("pi-big/" + r->target.release->id + "/" + r->path))
        log_.event(Level::warn, "tftp", "pi_boot_file_too_large")
            .kv("release", r->target.release->id)
            .kv("file", r->path)
            .kv("bytes", info->size)
            .kv("detail", "above 65535 x 1024: bootloaders that cannot roll the block counter over fail");
    return info;
}

// ---- HTTP ------------------------------------------------------------------

HttpResponse NetbootHttpHandler::handle(const HttpRequest& req) {
    auto snap = svc_.snapshot();
    if (!snap) return HttpResponse::text(503, "not ready\n");
    const Snapshot& s = *snap;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.path.starts_with("/api/")) {
        svc_.refresh_fleet();
        auto clean = pib::tftp::normalize_path(req.path);
        if (!clean) return HttpResponse::text(400, clean.error().message + "\n");
        return api(s, req, *clean);
    }
    if (!get) {
        auto r = HttpResponse::text(405, "method not allowed\n");
        r.headers.emplace_back("Allow", "GET, HEAD");
        return r;
    }
    if (req.path == "/healthz") return HttpResponse::text(200, "ok\n");
    if (req.path == "/metrics") return metrics(s);
    auto clean = pib::tftp::normalize_path(req.path);
    if (!clean) return HttpResponse::text(403, clean.error().message + "\n");
    auto [top, rest] = head_rest(*clean);
    if (top == "releases") return releases_file(s, rest);
    if (top == "boot") return boot_file(s, rest, peer_ip(req));
    if (top == "ipxe") return ipxe(s, rest, peer_ip(req));
    if (top == "overlays") return overlay_file(s, rest, peer_ip(req));
    return not_found("no such path: " + req.path);
}

HttpResponse NetbootHttpHandler::releases_file(const Snapshot& s, const std::string& rest) {
    auto [id, path] = head_rest(rest);
    const Release* rel = s.catalog->find(id);
    if (!rel) return not_found("no verified release " + id);
    if (path.empty()) return not_found("name a file of release " + id);
    const pib::Artifact* art = rel->artifact(path);
    // Only what the signed manifest lists, plus the manifest and its signature.
    if (!art && path != "manifest.json" && path != "manifest.json.sig")
        return not_found("release " + id + " has no file " + path);
    return file_response(*rel->files, path, art, content_type_for(path));
}

HttpResponse NetbootHttpHandler::boot_file(const Snapshot& s, const std::string& rest, Ipv4 peer) {
    auto [key, file] = head_rest(rest);
    // /boot/default/<f> asks as an unknown client would (the root of the TFTP tree).
    const std::string path = key == "default" ? file : rest;
    if (path.empty()) return not_found("name a file");
    auto r = svc_.resolve_boot_path(s, path, key == "default" ? 0 : peer);
    if (!r) return from_error(r.error());
    if (r->rendered) return HttpResponse::text(200, std::move(*r->rendered));
    return file_response(*r->dir, r->path, r->artifact);
}

HttpResponse NetbootHttpHandler::ipxe(const Snapshot& s, const std::string& rest, Ipv4 peer) {
    if (rest.ends_with(".ipxe") && rest.find('/') == std::string::npos) {
        svc_.refresh_fleet();
        const std::string who = rest.substr(0, rest.size() - 5);
        const pib::inventory::Node* node = nullptr;
        if (who != "default") {
            auto mac = pib::inventory::parse_mac(who);
            if (!mac) return not_found("not a MAC address: " + who);
            node = s.inventory->by_mac(*mac);
        }
        auto t = svc_.target_or_fallback(s, node);
        if (!t) return not_found(node ? "node " + node->name + " has no release to boot"
                                      : "unknown client and no root-fallback release");
        if (node) svc_.learn(peer, *node);
        log_.event(Level::info, "http", "ipxe_script")
            .kv("client", pib::netbootd::ipv4_string(peer))
            .kv("node", node ? node->name : std::string("-"))
            .kv("release", t->release->id)
            .kv("reason", t->reason);
        return HttpResponse::text(200, svc_.ipxe_script(s, *t), "text/plain; charset=utf-8");
    }
    if (!s.ipxe || rest.find('/') != std::string::npos) return not_found("no iPXE file " + rest);
    return file_response(*s.ipxe, rest, nullptr);
}

HttpResponse NetbootHttpHandler::overlay_file(const Snapshot& s, const std::string& rest, Ipv4 peer) {
    auto [name, file] = head_rest(rest);
    const auto* node = s.inventory->by_name(name);
    if (!node || file.empty()) return not_found("no overlay " + rest);
    // A node's overlay holds its SSH host keys: only the address that node
    // booted from (as learned in its boot exchange) may fetch it. docs/security.md.
    auto at = svc_.address_of(node->name);
    if (!at || *at != peer) {
        if (svc_.should_log("overlay-denied/" + name + "/" + pib::netbootd::ipv4_string(peer)))
            log_.event(Level::warn, "http", "overlay_refused")
                .kv("node", name)
                .kv("client", pib::netbootd::ipv4_string(peer))
                .kv("node_address", at ? pib::netbootd::ipv4_string(*at) : std::string("unknown"));
        return HttpResponse::text(403, "overlay of " + name + " is served only to that node's address\n");
    }
    auto dir = DirectoryResolver::create((s.overlays_dir / name).string());
    if (!dir) return not_found("no overlay for node " + name);
    return file_response(**dir, file, nullptr, content_type_for(file));
}

HttpResponse NetbootHttpHandler::api(const Snapshot& s, const HttpRequest& req, const std::string& clean) {
    // clean: "api/v1/..."
    if (!clean.starts_with("api/v1/")) return not_found("unknown API version");
    const std::string rest = clean.substr(7);
    const bool get = req.method == "GET" || req.method == "HEAD";
    auto only = [](const char* allow) {
        auto r = HttpResponse::json(405, R"({"error":"method not allowed"})");
        r.headers.emplace_back("Allow", allow);
        return r;
    };
    auto fleet_error = [](const pib::Error& e) {
        return HttpResponse::json(500, json({{"error", "fleet state: " + e.message}}).dump() + "\n");
    };
    if (rest == "nodes") {
        if (!get) return only("GET, HEAD");
        auto f = read_fleet(svc_, state_);
        if (!f) return fleet_error(f.error());
        json out = json::array();
        for (const auto& n : s.inventory->nodes) out.push_back(node_json(svc_, s, n, *f));
        return HttpResponse::json(200, out.dump(2) + "\n");
    }
    if (rest == "rollouts" || rest.starts_with("rollouts/")) {
        if (!get) return only("GET, HEAD");
        return rollouts(rest == "rollouts" ? std::string() : rest.substr(9));
    }
    if (rest == "channels") {
        if (!get) return only("GET, HEAD");
        return channels();
    }
    if (rest == "releases") {
        if (!get) return only("GET, HEAD");
        auto out = releases_json(s, state_);
        if (!out) return fleet_error(out.error());
        return HttpResponse::json(200, out->dump(2) + "\n");
    }
    if (rest.starts_with("nodes/")) {
        auto [name, tail] = head_rest(rest.substr(6));
        const auto* node = s.inventory->by_name(name);
        if (!node) return HttpResponse::json(404, json({{"error", "no node " + name}}).dump() + "\n");
        if (tail.empty()) {
            if (!get) return only("GET, HEAD");
            auto f = read_fleet(svc_, state_);
            if (!f) return fleet_error(f.error());
            return HttpResponse::json(200, node_json(svc_, s, *node, *f).dump(2) + "\n");
        }
        if (tail == "report") {
            if (req.method != "POST") return only("POST");
            return report(req, name);
        }
    }
    return HttpResponse::json(404, R"({"error":"no such API path"})"
                                   "\n");
}

HttpResponse NetbootHttpHandler::report(const HttpRequest& req, const std::string& name) {
    auto bad = [](const std::string& why) { return HttpResponse::json(400, json({{"error", why}}).dump() + "\n"); };
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return bad("the body must be a JSON object");
    if (!body.contains("release") || !body["release"].is_string()) return bad("\"release\" (a string) is required");
    pib::store::BootReport r;
    r.node = name;
    r.release = body["release"].get<std::string>();
    if (r.release.empty() || r.release.size() > 128) return bad("\"release\" must be a release id");
    if (body.contains("kind")) {
        if (!body["kind"].is_string() || (body["kind"] != "boot" && body["kind"] != "health"))
            return bad("\"kind\" must be \"boot\" or \"health\"");
        r.kind = body["kind"].get<std::string>();
    }
    if (body.contains("healthy")) {
        if (!body["healthy"].is_boolean()) return bad("\"healthy\" must be true or false");
        r.healthy = body["healthy"].get<bool>();
    }
    r.address = pib::netbootd::ipv4_string(peer_ip(req));
    r.detail_json = body.dump();
    // A report does not teach netbootd the node's address: anyone can send one,
    // and the address gates the node's overlay (docs/security.md).
    if (!state_) return HttpResponse::json(503, R"({"error":"no fleet state"})""\n");
    auto st = state_->add_report(r);
    if (!st) {
        log_.event(Level::error, "api", "report_failed").kv("node", name).kv("error", st.error().message);
        if (st.error().code == pib::Errc::busy) {  // pib-init and pib-agent retry
            auto resp = HttpResponse::json(503, json({{"error", st.error().message}}).dump() + "\n");
            resp.headers.emplace_back("Retry-After", "1");
            return resp;
        }
        return HttpResponse::json(500, json({{"error", st.error().message}}).dump() + "\n");
    }
    auto ev = log_.event(Level::info, "api", "report");
    ev.kv("node", name).kv("release", r.release).kv("kind", r.kind).kv("healthy", r.healthy ? "true" : "false");
    ev.kv("client", r.address);
    if (body.contains("phases") && body["phases"].is_object())
        for (auto& [phase, ms] : body["phases"].items())
            if (ms.is_number_integer()) ev.kv(phase + "_ms", ms.get<std::int64_t>());
    // A report may pass a wave's health gate (or fail it): rollouts move on now.
    if (on_report_) on_report_();
    return HttpResponse::json(200, R"({"ok":true})""\n");
}

HttpResponse NetbootHttpHandler::rollouts(const std::string& id_text) {
    if (!state_) return HttpResponse::json(503, R"({"error":"no fleet state"})""\n");
    auto error = [](const pib::Error& e) {
        return HttpResponse::json(500, json({{"error", "fleet state: " + e.message}}).dump() + "\n");
    };
    if (!id_text.empty()) {
        std::int64_t id = 0;
        auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0)
            return HttpResponse::json(404, json({{"error", "no rollout " + id_text}}).dump() + "\n");
        auto r = state_->rollout(id);
        if (!r) return error(r.error());
        if (!*r) return HttpResponse::json(404, json({{"error", "no rollout " + id_text}}).dump() + "\n");
        return HttpResponse::json(200, pib::store::rollout_json(**r, true).dump(2) + "\n");
    }
    // Active ones first (whatever their age), then the newest finished ones.
    constexpr std::size_t kRecent = 20;
    auto recent = state_->rollouts(kRecent);
    if (!recent) return error(recent.error());
    json out = json::array();
    std::set<std::int64_t> listed;
    for (const auto& [node, at] : svc_.fleet()->rollout_wave) {
        if (listed.count(at.first)) continue;
        listed.insert(at.first);
        auto r = state_->rollout(at.first);
        if (!r) return error(r.error());
        if (*r) out.push_back(pib::store::rollout_json(**r, false));
    }
    for (const auto& r : *recent)
        if (listed.insert(r.id).second) out.push_back(pib::store::rollout_json(r, false));
    return HttpResponse::json(200, out.dump(2) + "\n");
}

HttpResponse NetbootHttpHandler::channels() {
    if (!state_) return HttpResponse::json(503, R"({"error":"no fleet state"})""\n");
    auto list = state_->channel_list();
    if (!list) return HttpResponse::json(500, json({{"error", "fleet state: " + list.error().message}}).dump() + "\n");
    std::map<std::string, std::int64_t> active;
    auto recent = state_->rollouts(20);
    if (recent)
        for (const auto& r : *recent)
            if (pib::store::is_active(r.state)) active[r.channel] = r.id;
    json out = json::array();
    for (const auto& c : *list) {
        auto a = active.find(c.name);
        out.push_back(pib::store::channel_json(c, a == active.end() ? std::nullopt
                                                                   : std::optional<std::int64_t>(a->second)));
    }
    return HttpResponse::json(200, out.dump(2) + "\n");
}

HttpResponse NetbootHttpHandler::metrics(const Snapshot& s) {
    return HttpResponse::text(200, render_metrics(metrics_, s, read_process_stats()), kMetricsContentType);
}

}  // namespace netbootd
