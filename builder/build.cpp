// build_release: runs the stages (build.hpp) over one context and publishes
// the result with a single rename.
#include "builder/build.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <algorithm>
#include <functional>

#include "builder/build_context.hpp"
#include "builder/verity_tree.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"
#include "crypto/sha256.hpp"

#ifndef PIB_TOOL_VERSION
#define PIB_TOOL_VERSION "0.0.0"
#endif

namespace pib {

namespace {

// Temporary directories carry their owner's pid: `.pibuild-<pid>-XXXXXX`.
const std::string kTempPrefix = ".pibuild-";

std::string temp_stem() { return "pibuild-" + std::to_string(::getpid()); }

class NullObserver final : public BuildObserver {};

Status make_squashfs_stage(BuildContext& ctx) {
    SquashfsOptions so;
    so.block_size = ctx.recipe.output.block_size;
    so.zstd_level = ctx.recipe.output.zstd_level;
    so.workers = ctx.opts.workers;
    so.mtime_clamp = ctx.epoch;
    auto stats = write_squashfs(ctx.root, ctx.release_tmp / "root.squashfs", so, ctx.log,
                                [&](const SquashfsProgress& p) { ctx.observer.squashfs_progress(p); });
    if (!stats) return stats.error();
    ctx.squashfs = *stats;
    for (const auto& w : stats->warnings) ctx.warnings.push_back(w);
    return {};
}

// The dm-verity tree of root.squashfs (builder/verity_tree.hpp), so a client
// reading the image over NFS has the kernel check each block as it is read.
// The salt is the image's own digest: reproducible, and different per image.
Status make_verity_stage(BuildContext& ctx) {
    auto info = write_verity_tree(ctx.release_tmp / "root.squashfs", ctx.release_tmp / "root.verity");
    if (!info) return info.error();
    ctx.log.event(Level::info, "build", "verity").kv("data_blocks", info->data_blocks)
        .kv("root_hash", info->root_hash);
    ctx.verity = *info;
    return {};
}

Result<Manifest> write_manifest_stage(BuildContext& ctx, const SigningKey& key) {
    Manifest m;
    m.name = ctx.recipe.name;
    m.version = ctx.recipe.version;
    m.arch = arch_name(ctx.recipe.arch);
    m.board = board_name(ctx.recipe.board);
    m.description = ctx.recipe.description;
    m.tool_version = PIB_TOOL_VERSION;
    m.recipe_sha256 = ctx.recipe.digest;
    m.source_date_epoch = ctx.epoch;
    m.inputs.push_back(BuildInput{"recipe", ctx.recipe.file.filename().string(), ctx.recipe.digest});
    m.inputs.insert(m.inputs.end(), ctx.inputs.begin(), ctx.inputs.end());
    auto arts = hash_artifacts(ctx.release_tmp);
    if (!arts) return arts.error();
    m.artifacts = std::move(*arts);
    m.boot = ctx.boot_facts;
    const auto& s = ctx.squashfs;
    m.root = {{"path", "root.squashfs"},
              {"compression", "zstd"},
              {"level", ctx.recipe.output.zstd_level},
              {"block_size", ctx.recipe.output.block_size},
              {"inodes", s.inodes},
              {"files", s.files},
              {"directories", s.directories},
              {"symlinks", s.symlinks},
              {"devices", s.devices},
              {"hard_links", s.hard_links},
              {"content_bytes", s.bytes_in}};
    m.verity = ctx.verity;
    PIB_TRY(write_signed_manifest(ctx.release_tmp, m, key));
    // Check what we wrote the way a client will: catches a broken signer or a
    // file changed under us before anything is published.
    VerifyReport report;
    auto verified = verify_release(ctx.release_tmp, key.public_key(), report);
    if (!verified) {
        std::string all;
        for (const auto& p : report.problems) all += "\n  " + p;
        return fail(Errc::verification, "the release does not verify after signing:" + all);
    }
    return m;
}

Status publish_stage(BuildContext& ctx, const Manifest& m, BuildResult& result) {
    auto bytes = read_file(ctx.release_tmp / "manifest.json");
    if (!bytes) return bytes.error();
    result.release_id = release_id(m, *bytes);
    result.release_dir = ctx.opts.output_dir / result.release_id;
    // mkdtemp made it 0700; a release is public, signed content that NFS
    // serves with root squashed (docs/nfs.md) and any web server may serve.
    if (::chmod(ctx.release_tmp.c_str(), 0755) != 0)
        return fail(Errc::io, "chmod " + ctx.release_tmp.string() + ": " + std::strerror(errno));
    auto st = rename_noreplace(ctx.release_tmp, result.release_dir);
    if (!st && st.error().code == Errc::exists) {
        // The id is derived from the manifest, so the same id means the same
        // release, unless the directory there was tampered with.
        auto existing = read_file(result.release_dir / "manifest.json");
        if (existing && *existing == *bytes) {
            result.already_present = true;
            return remove_tree(ctx.release_tmp);
        }
        return fail(Errc::exists, result.release_dir.string() +
                                      " exists with a different manifest; remove it or check the store");
    }
    return st;
}

struct Cleanup {
    std::vector<std::filesystem::path> paths;
    ~Cleanup() {
        for (const auto& p : paths) (void)remove_tree(p);
    }
};

}  // namespace

std::map<std::string, std::string> BuildContext::tool_env() const {
    return {{"SOURCE_DATE_EPOCH", std::to_string(epoch)},
            {"DEBIAN_FRONTEND", "noninteractive"},
            {"DEBCONF_NONINTERACTIVE_SEEN", "true"},
            {"LC_ALL", "C.UTF-8"},
            {"LANG", "C.UTF-8"},
            {"TZ", "UTC"},
            {"HOME", "/root"},
            {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}};
}

Status BuildContext::run_in_root(std::vector<std::string> argv, const std::string& what) const {
    Command cmd{std::move(argv)};
    cmd.chroot = root;
    cmd.chroot_mounts = true;
    cmd.env_set = tool_env();
    cmd.env_unset = {"LD_PRELOAD", "LD_LIBRARY_PATH", "TMPDIR"};
    cmd.on_line = [this](const std::string& l) { observer.tool_output(l); };
    log.event(Level::info, "build", "chroot_run").kv("what", what).kv("argv", shell_quote(cmd.argv));
    auto r = run_checked(cmd);
    if (!r) return r.error();
    return {};
}

std::size_t remove_stale_temporaries(const std::filesystem::path& dir, const Logger& log) {
    std::size_t removed = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind(kTempPrefix, 0) != 0) continue;
        long pid = std::strtol(name.c_str() + kTempPrefix.size(), nullptr, 10);
        if (pid <= 0 || pid == ::getpid()) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM) continue;  // owner alive
        log.event(Level::info, "build", "stale_removed").kv("path", e.path().string()).kv("pid", pid);
        if (remove_tree(e.path())) ++removed;
    }
    return removed;
}

Result<BuildResult> build_release(const Recipe& recipe, const SigningKey& key,
                                  const BuildOptions& opts, const Logger& log,
                                  BuildObserver* observer) {
    NullObserver null_observer;
    BuildObserver& obs = observer ? *observer : null_observer;
    std::error_code ec;
    for (const auto& d : {opts.output_dir, opts.work_root, opts.cache_dir}) {
        std::filesystem::create_directories(d, ec);
        if (ec) return fail(Errc::io, "create " + d.string() + ": " + ec.message());
    }
    remove_stale_temporaries(opts.output_dir, log);
    remove_stale_temporaries(opts.work_root, log);

    Cleanup cleanup;
    auto work = make_temp_dir(opts.work_root, temp_stem());
    if (!work) return work.error();
    if (!opts.keep_work) cleanup.paths.push_back(*work);
    auto release_tmp = make_temp_dir(opts.output_dir, temp_stem());
    if (!release_tmp) return release_tmp.error();
    cleanup.paths.push_back(*release_tmp);

    BuildContext ctx{recipe, opts, log, obs};
    ctx.epoch = opts.source_date_epoch.value_or(recipe.source_date_epoch.value_or(
        std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::system_clock::now().time_since_epoch()).count()));
    ctx.work = *work;
    ctx.root = *work / "root";
    ctx.image_boot = *work / "image-boot";
    ctx.release_tmp = *release_tmp;
    ctx.release_key = key.public_key();

    BuildResult result;
    Manifest manifest;
    struct Stage {
        const char* name;
        std::function<Status()> run;
    };
    const std::vector<Stage> stages = {
        {"fetch_base", [&] { return fetch_base(ctx); }},
        {"apply_steps", [&] { return apply_steps(ctx); }},
        {"sanitize_root", [&] { return sanitize_root(ctx); }},
        {"configure_boot", [&] { return configure_boot(ctx); }},
        {"make_squashfs", [&] { return make_squashfs_stage(ctx); }},
        {"make_verity", [&] { return make_verity_stage(ctx); }},
        {"write_manifest", [&]() -> Status {
             auto m = write_manifest_stage(ctx, key);
             if (!m) return m.error();
             manifest = std::move(*m);
             return {};
         }},
        {"publish", [&] { return publish_stage(ctx, manifest, result); }},
    };
    log.event(Level::info, "build", "start").kv("recipe", recipe.file.string()).kv("name", recipe.name)
        .kv("version", recipe.version).kv("epoch", ctx.epoch).kv("work", ctx.work.string());
    int index = 0;
    for (const auto& stage : stages) {
        obs.stage_started(stage.name, ++index, static_cast<int>(stages.size()));
        auto t0 = std::chrono::steady_clock::now();
        auto st = stage.run();
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        if (!st) {
            log.event(Level::error, "build", "stage_failed").kv("stage", stage.name).kv("ms", ms.count());
            return fail(st.error().code, std::string(stage.name) + ": " + st.error().message);
        }
        log.event(Level::info, "build", "stage_done").kv("stage", stage.name).kv("ms", ms.count());
        obs.stage_finished(stage.name, ms);
        result.stages.push_back(StageTiming{stage.name, ms});
    }
    cleanup.paths.erase(std::remove(cleanup.paths.begin(), cleanup.paths.end(), *release_tmp),
                        cleanup.paths.end());
    result.manifest = std::move(manifest);
    result.squashfs = ctx.squashfs;
    result.warnings = ctx.warnings;
    if (opts.keep_work) log.event(Level::info, "build", "work_kept").kv("path", ctx.work.string());
    return result;
}

}  // namespace pib
