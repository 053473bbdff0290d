#include "overlays/verify.hpp"

#include <sys/stat.h>

#include <map>
#include <set>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"

namespace pib::overlays {

namespace {

// Entries of the overlay directory (it has no subdirectories) and their types.
std::map<std::string, mode_t> list_dir(const fs::path& dir, VerifyReport& report) {
    std::map<std::string, mode_t> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        struct stat st {};
        if (::lstat(e.path().c_str(), &st) != 0) {
            report.problems.push_back(errno_message("stat " + e.path().string()));
            continue;
        }
        out[e.path().filename().string()] = st.st_mode;
    }
    if (ec) report.problems.push_back(dir.string() + ": " + ec.message());
    return out;
}

std::optional<std::string> read_regular(const fs::path& dir,
                                        const std::map<std::string, mode_t>& present,
                                        const char* name, VerifyReport& report) {
    auto it = present.find(name);
    if (it == present.end()) {
        report.problems.push_back(std::string(name) + ": missing");
        return std::nullopt;
    }
    if (!S_ISREG(it->second)) {
        report.problems.push_back(std::string(name) + ": not a regular file");
        return std::nullopt;
    }
    auto data = read_file(dir / name);
    if (!data) {
        report.problems.push_back(data.error().message);
        return std::nullopt;
    }
    return std::move(*data);
}

}  // namespace

Result<OverlayManifest> verify_overlay(const fs::path& dir, const PublicKey& key,
                                       std::string_view expected_node, VerifyReport& report) {
    auto failed = [&]() {
        return fail(Errc::verification, dir.string() + ": overlay does not verify");
    };
    auto present = list_dir(dir, report);
    if (!report.ok()) return failed();
    auto bytes = read_regular(dir, present, kOverlayManifest, report);
    auto sig = read_regular(dir, present, kOverlaySignature, report);
    if (!bytes || !sig) return failed();
    if (!key.verify(*bytes, *sig)) {
        report.problems.push_back(std::string(kOverlaySignature) +
                                  ": signature does not verify with key " + key.fingerprint());
        return failed();
    }
    auto m = OverlayManifest::parse(*bytes);
    if (!m) {
        report.problems.push_back(m.error().message);
        return failed();
    }
    // A validly signed overlay of another node must not be taken for this one.
    if (m->node != expected_node) {
        report.problems.push_back("overlay.json: node is '" + m->node + "', expected '" +
                                  std::string(expected_node) + "'");
    }
    bool has_image = false;
    for (const auto& a : m->artifacts) has_image |= a.path == kOverlayImage;
    if (!has_image)
        report.problems.push_back(std::string("overlay.json: lists no ") + kOverlayImage);
    std::set<std::string> listed = {kOverlayManifest, kOverlaySignature};
    for (const auto& a : m->artifacts) {
        listed.insert(a.path);
        auto it = present.find(a.path);
        if (it == present.end()) {
            report.problems.push_back(a.path + ": missing");
            continue;
        }
        if (!S_ISREG(it->second)) {
            report.problems.push_back(a.path + ": not a regular file");
            continue;
        }
        auto d = sha256_file(dir / a.path);
        if (!d) {
            report.problems.push_back(d.error().message);
        } else if (d->size != a.size) {
            report.problems.push_back(a.path + ": size " + std::to_string(d->size) +
                                      ", overlay.json says " + std::to_string(a.size));
        } else if (d->sha256 != a.sha256) {
            report.problems.push_back(a.path + ": sha256 does not match overlay.json");
        }
    }
    for (const auto& [name, mode] : present) {
        if (!listed.count(name)) report.problems.push_back(name + ": not listed in overlay.json");
    }
    if (!report.ok()) return failed();
    return std::move(*m);
}

Result<OverlayManifest> verify_overlay(const fs::path& dir, const PublicKey& key,
                                       std::string_view expected_node) {
    VerifyReport report;
    auto m = verify_overlay(dir, key, expected_node, report);
    if (m) return m;
    std::string msg = m.error().message;
    for (const auto& p : report.problems) msg += "\n  " + p;
    return fail(Errc::verification, msg);
}

}  // namespace pib::overlays
