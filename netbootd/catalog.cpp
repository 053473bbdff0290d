#include "netbootd/catalog.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.hpp"
#include "release/store_release.hpp"

namespace netbootd {

namespace fs = std::filesystem;
using pib::Errc;
using pib::fail;
using pib::Level;

const pib::Artifact* Release::artifact(const std::string& path) const {
    auto it = artifacts.find(path);
    return it == artifacts.end() ? nullptr : &it->second;
}

const Release* Catalog::find(const std::string& id) const {
    auto it = releases_.find(id);
    return it == releases_.end() ? nullptr : it->second.get();
}

namespace {

// In-progress copies (pibuild publish writes "<id>.tmp-*" or ".<id>.*") are not releases.
bool looks_like_release_dir(const std::string& name) {
    return !name.empty() && name.front() != '.' && name.find(".tmp") == std::string::npos;
}

}  // namespace

CatalogLoader::Known CatalogLoader::verify_one(const std::string& id, const struct stat& st) {
    Known k;
    k.dev = st.st_dev;
    k.ino = st.st_ino;
    k.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    const fs::path dir = dir_ / id;
    auto t0 = std::chrono::steady_clock::now();
    auto check = pib::check_store_release(dir, id, key_);
    if (!check.manifest) {
        k.problems = std::move(check.problems);
        return k;
    }
    auto m = std::move(check.manifest);
    auto rel = std::make_shared<Release>();
    rel->id = id;
    rel->dir = dir;
    rel->manifest = std::move(*m);
    for (const auto& a : rel->manifest.artifacts) rel->artifacts.emplace(a.path, a);
    auto files = DirectoryResolver::create(dir.string());
    if (!files) {
        k.problems.push_back(files.error().message);
        return k;
    }
    rel->files = std::move(*files);
    if (fs::is_directory(dir / "boot")) {
        auto boot = DirectoryResolver::create((dir / "boot").string());
        if (boot) rel->boot = std::move(*boot);
    }
    rel->warnings = std::move(check.warnings);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    log_.event(Level::info, "catalog", "release_verified")
        .kv("release", id)
        .kv("board", rel->manifest.board)
        .kv("artifacts", static_cast<std::uint64_t>(rel->artifacts.size()))
        .kv("ms", static_cast<std::int64_t>(ms.count()));
    for (const auto& w : rel->warnings)
        log_.event(Level::warn, "catalog", "pi_boot_file_too_large").kv("release", id).kv("detail", w);
    k.release = std::move(rel);
    return k;
}

pib::Result<std::shared_ptr<const Catalog>> CatalogLoader::scan() {
    auto cat = std::make_shared<Catalog>();
    DIR* d = opendir(dir_.c_str());
    if (!d) {
        if (errno == ENOENT) {
            known_.clear();
            return std::shared_ptr<const Catalog>(cat);
        }
        return fail(Errc::io, "open " + dir_.string() + ": " + std::strerror(errno));
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || !looks_like_release_dir(name)) continue;
        names.push_back(std::move(name));
    }
    closedir(d);

    std::map<std::string, Known> next;
    for (const auto& id : names) {
        struct stat dst{};
        if (stat((dir_ / id).c_str(), &dst) != 0 || !S_ISDIR(dst.st_mode)) continue;
        struct stat st{};
        if (stat((dir_ / id / "manifest.json").c_str(), &st) != 0) {
            cat->rejected_.push_back({id, {"manifest.json: missing"}});
            continue;
        }
        const std::int64_t mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
        auto it = known_.find(id);
        Known k;
        if (it != known_.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino &&
            it->second.mtime_ns == mtime_ns) {
            k = it->second;
        } else {
            k = verify_one(id, st);
            if (!k.release) {
                auto ev = log_.event(Level::error, "catalog", "release_rejected");
                ev.kv("release", id);
                for (std::size_t i = 0; i < k.problems.size() && i < 5; ++i) ev.kv("problem", k.problems[i]);
            }
        }
        if (k.release)
            cat->releases_.emplace(id, k.release);
        else
            cat->rejected_.push_back({id, k.problems});
        next.emplace(id, std::move(k));
    }
    known_ = std::move(next);
    return std::shared_ptr<const Catalog>(cat);
}

}  // namespace netbootd
