// A release directory on disk: hashing its files, signing its manifest and
// verifying all of it against a public key.
#include <algorithm>
#include <map>

#include "common/fs.hpp"
#include "crypto/sha256.hpp"
#include "release/manifest.hpp"

namespace pib {

namespace {

constexpr const char* kManifestFile = "manifest.json";
constexpr const char* kSignatureFile = "manifest.json.sig";
constexpr std::size_t kSignatureSize = 64;

/// One non-directory entry of a release directory.
struct Entry {
    std::string rel;  ///< relative to the release directory, '/'-separated
    fs::file_type type;
};

bool is_manifest_file(std::string_view rel) {
    return rel == kManifestFile || rel == kSignatureFile;
}

std::string type_name(fs::file_type t) {
    switch (t) {
        case fs::file_type::symlink:
            return "a symlink";
        case fs::file_type::block:
            return "a block device";
        case fs::file_type::character:
            return "a character device";
        case fs::file_type::fifo:
            return "a fifo";
        case fs::file_type::socket:
            return "a socket";
        default:
            return "not a regular file";
    }
}

std::string not_regular(const Entry& e) {
    return e.rel + ": " + type_name(e.type) +
           " (a release holds regular files and directories only)";
}

// Every entry below `dir` except directories, sorted by relative path (byte
// order, the order of Manifest::artifacts). Symlinks are listed, not followed.
Result<std::vector<Entry>> list_entries(const fs::path& dir) {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, ec);
    if (ec) {
        return fail(ec == std::errc::no_such_file_or_directory ? Errc::not_found : Errc::io,
                    dir.string() + ": " + ec.message());
    }
    std::vector<Entry> out;
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        fs::file_type type = it->symlink_status(ec).type();
        if (ec) break;
        if (type == fs::file_type::directory) continue;
        out.push_back(Entry{it->path().lexically_relative(dir).generic_string(), type});
    }
    if (ec) return fail(Errc::io, dir.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.rel < b.rel; });
    return out;
}

std::string short_hex(const std::string& digest) { return digest.substr(0, 12) + "…"; }

// Reads manifest.json or its signature, which must be a regular file.
std::optional<std::string> read_manifest_file(const fs::path& dir,
                                              const std::map<std::string, fs::file_type>& present,
                                              const char* name, VerifyReport& report) {
    auto it = present.find(name);
    if (it == present.end()) {
        report.problems.push_back(std::string(name) + ": missing");
        return std::nullopt;
    }
    if (it->second != fs::file_type::regular) {
        report.problems.push_back(not_regular(Entry{name, it->second}));
        return std::nullopt;
    }
    auto data = read_file(dir / name);
    if (!data) {
        report.problems.push_back(data.error().message);
        return std::nullopt;
    }
    return std::move(*data);
}

// Size first (cheap), then the digest.
void check_artifact(const fs::path& dir, const Artifact& a, fs::file_type type,
                    VerifyReport& report) {
    if (type != fs::file_type::regular) {
        report.problems.push_back(not_regular(Entry{a.path, type}));
        return;
    }
    std::error_code ec;
    std::uint64_t size = fs::file_size(dir / a.path, ec);
    if (!ec && size != a.size) {
        report.problems.push_back(a.path + ": size mismatch (manifest " + std::to_string(a.size) +
                                  " bytes, file " + std::to_string(size) + " bytes)");
        return;
    }
    auto d = sha256_file(dir / a.path);
    if (!d) {
        report.problems.push_back(d.error().message);
    } else if (d->size != a.size) {
        report.problems.push_back(a.path + ": size mismatch (manifest " + std::to_string(a.size) +
                                  " bytes, file " + std::to_string(d->size) + " bytes)");
    } else if (d->sha256 != a.sha256) {
        report.problems.push_back(a.path + ": sha256 mismatch (manifest " + short_hex(a.sha256) +
                                  ", file " + short_hex(d->sha256) + ")");
    }
}

}  // namespace

std::string release_id(const Manifest& m, std::string_view manifest_bytes) {
    return m.name + "-" + m.version + "-" + sha256_hex(manifest_bytes).substr(0, 12);
}

Result<std::vector<Artifact>> hash_artifacts(const fs::path& dir) {
    auto entries = list_entries(dir);
    if (!entries) return entries.error();
    std::vector<Artifact> out;
    for (const Entry& e : *entries) {
        if (e.type != fs::file_type::regular) return fail(Errc::unsupported, not_regular(e));
        if (is_manifest_file(e.rel)) continue;
        auto d = sha256_file(dir / e.rel);
        if (!d) return d.error();
        out.push_back(Artifact{e.rel, d->sha256, d->size});
    }
    return out;
}

Status write_signed_manifest(const fs::path& dir, const Manifest& m, const SigningKey& key) {
    // Never sign what parse() would refuse: a client could not use it.
    if (auto st = m.validate(); !st) {
        return fail(Errc::invalid, "refusing to sign an invalid manifest: " + st.error().message);
    }
    std::string bytes = m.to_json();
    auto sig = key.sign(bytes);
    if (!sig) return sig.error();
    // manifest.json first: a crash between the two writes leaves a signature
    // that does not match, which verification reports, never a silent mix.
    PIB_TRY(write_file_atomic(dir / kManifestFile, bytes, 0644));
    return write_file_atomic(dir / kSignatureFile, *sig, 0644);
}

Result<Manifest> verify_release(const fs::path& dir, const PublicKey& key, VerifyReport& report) {
    report.problems.clear();
    auto failed = [&]() -> Error {
        std::string msg = dir.string() + ": release does not verify";
        for (const auto& p : report.problems) msg += "\n  " + p;
        return fail(Errc::verification, msg);
    };
    auto entries = list_entries(dir);
    if (!entries) {
        report.problems.push_back(entries.error().message);
        return failed();
    }
    std::map<std::string, fs::file_type> present;
    for (const Entry& e : *entries) present.emplace(e.rel, e.type);

    // The signature comes first: until it holds, nothing in manifest.json can
    // be trusted, so nothing else is reported about it.
    auto bytes = read_manifest_file(dir, present, kManifestFile, report);
    auto sig = read_manifest_file(dir, present, kSignatureFile, report);
    if (sig && sig->size() != kSignatureSize) {
        report.problems.push_back(std::string(kSignatureFile) + ": " + std::to_string(sig->size()) +
                                  " bytes, expected " + std::to_string(kSignatureSize));
    } else if (bytes && sig && !key.verify(*bytes, *sig)) {
        report.problems.push_back(std::string(kSignatureFile) +
                                  ": signature does not verify with key " + key.fingerprint());
    }
    if (!report.ok()) return failed();

    auto m = Manifest::parse(*bytes);
    if (!m) {
        report.problems.push_back(std::string(kManifestFile) + ": " + m.error().message);
        return failed();
    }
    present.erase(kManifestFile);
    present.erase(kSignatureFile);
    for (const Artifact& a : m->artifacts) {
        auto it = present.find(a.path);
        if (it == present.end()) {
            report.problems.push_back(a.path + ": missing");
            continue;
        }
        check_artifact(dir, a, it->second, report);
        present.erase(it);
    }
    for (const auto& [rel, type] : present) {
        std::string what = type == fs::file_type::regular ? "" : " (" + type_name(type) + ")";
        report.problems.push_back(rel + what + ": not listed in the manifest");
    }
    if (!report.ok()) return failed();
    return m;
}

}  // namespace pib
