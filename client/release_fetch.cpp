// Fetch + verify of a release and a node overlay for pib-init.
#include "client/release_fetch.hpp"

#include <system_error>

#include "client/file_sink.hpp"
#include "client/verify.hpp"

namespace pib::client {

namespace {

Result<std::string> get_small(Connector& net, const std::string& url_text, const RetryPolicy& retry,
                              const FetchEnv& env) {
    auto url = parse_url(url_text);
    if (!url) return url.error();
    StringSink sink;
    PIB_TRY(fetch(net, *url, sink, retry, env));
    return sink.body();
}

// GETs `url_text` into `path` while hashing, then checks it against `want`;
// on any failure the file is removed (never leave unverified bytes behind).
Status get_verified_file(Connector& net, const std::string& url_text,
                         const std::filesystem::path& path, const Artifact& want,
                         const RetryPolicy& retry, const FetchEnv& env) {
    auto url = parse_url(url_text);
    if (!url) return url.error();
    HashingFileSink sink(path);
    auto remove = [&] {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    };
    if (auto s = fetch(net, *url, sink, retry, env); !s) {
        remove();
        return s;
    }
    auto digest = sink.finish();
    if (!digest) {
        remove();
        return digest.error();
    }
    if (auto s = check_artifact(want, *digest, sink.size()); !s) {
        remove();
        return s;
    }
    env.say("verified " + want.path + " size=" + std::to_string(sink.size()) +
            " sha256=" + *digest);
    return {};
}

// The root is held in RAM (tmpfs): say so plainly before downloading rather
// than failing with ENOSPC half-way.
Status check_space(const std::filesystem::path& dir, std::uint64_t need) {
    std::error_code ec;
    auto info = std::filesystem::space(dir, ec);
    if (ec || info.available >= need) return {};
    constexpr std::uint64_t MiB = 1024 * 1024;
    return fail(Errc::io, "root.squashfs needs " + std::to_string(need / MiB + 1) + " MiB in " +
                              dir.string() + " (RAM), only " +
                              std::to_string(info.available / MiB) + " MiB free");
}

}  // namespace

Result<FetchedRelease> fetch_release(Connector& net, const FetchPlan& plan, const PublicKey& key,
                                     const RetryPolicy& retry, const FetchEnv& env,
                                     BootTimeline& timeline,
                                     const std::function<std::int64_t()>& now_ms) {
    FetchedRelease out;
    std::int64_t t0 = now_ms();
    const std::string base = plan.server + "/releases/" + plan.release + "/";
    auto manifest = get_small(net, base + "manifest.json", retry, env);
    if (!manifest) return manifest.error();
    auto sig = get_small(net, base + "manifest.json.sig", retry, env);
    if (!sig) return sig.error();
    auto m = verify_manifest(*manifest, *sig, key, plan.arch);
    if (!m) return m.error();
    PIB_TRY(check_release_id(*m, *manifest, plan.release));
    out.manifest = *m;
    env.say("manifest verified: " + m->name + " " + m->version + " arch=" + m->arch +
            " key=" + key.fingerprint());
    auto root_art = find_artifact(m->artifacts, "root.squashfs");
    if (!root_art) return fail(Errc::verification, root_art.error().message);
    std::int64_t t1 = now_ms();
    timeline.add("manifest", t1 - t0);

    out.root = plan.dir / "root.squashfs";
    PIB_TRY(check_space(plan.dir, root_art->size));
    PIB_TRY(get_verified_file(net, base + "root.squashfs", out.root, *root_art, retry, env));
    timeline.add("root_fetch", now_ms() - t1);

    PIB_TRY(fetch_overlay(net, plan, key, retry, env, timeline, now_ms, out));
    return out;
}

Status fetch_overlay(Connector& net, const FetchPlan& plan, const PublicKey& key,
                     const RetryPolicy& retry, const FetchEnv& env, BootTimeline& timeline,
                     const std::function<std::int64_t()>& now_ms, FetchedRelease& out) {
    if (plan.node.empty()) return {};
    std::int64_t t0 = now_ms();
    const std::string obase = plan.server + "/overlays/" + plan.node + "/";
    auto doc = get_small(net, obase + "overlay.json", retry, env);
    if (!doc) return doc.error();
    auto osig = get_small(net, obase + "overlay.json.sig", retry, env);
    if (!osig) return osig.error();
    auto overlay = verify_overlay(*doc, *osig, key, plan.node);
    if (!overlay) return overlay.error();
    auto art = find_artifact(overlay->artifacts, "overlay.squashfs");
    if (!art) return fail(Errc::verification, art.error().message);
    out.overlay_image = plan.dir / "overlay.squashfs";
    PIB_TRY(
        get_verified_file(net, obase + "overlay.squashfs", out.overlay_image, *art, retry, env));
    out.overlay = *overlay;
    timeline.add("overlay", now_ms() - t0);
    return {};
}

}  // namespace pib::client
