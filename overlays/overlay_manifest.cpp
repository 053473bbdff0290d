#include "overlays/overlay_manifest.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace pib::overlays {

namespace {

using nlohmann::json;

bool is_sha256_hex(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// v1 overlays hold files directly in the overlay directory.
bool plain_file_name(const std::string& s) {
    return !s.empty() && s[0] != '.' && s.find('/') == std::string::npos && s != kOverlayManifest &&
           s != kOverlaySignature;
}

std::string comma_list(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
    return out;
}

}  // namespace

std::string OverlayManifest::to_json() const {
    json j = json::object();  // std::map underneath: keys come out sorted
    j["format_version"] = format_version;
    j["node"] = node;
    j["hostname"] = hostname;
    std::vector<Artifact> sorted = artifacts;
    std::sort(sorted.begin(), sorted.end(),
              [](const Artifact& a, const Artifact& b) { return a.path < b.path; });
    json arts = json::array();
    for (const auto& a : sorted)
        arts.push_back({{"path", a.path}, {"sha256", a.sha256}, {"size", a.size}});
    j["artifacts"] = arts;
    j["ssh_host_keys"] = ssh_host_keys;
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<OverlayManifest> OverlayManifest::parse(std::string_view bytes) {
    json j;
    try {
        j = json::parse(bytes.begin(), bytes.end());
    } catch (const json::exception& e) {
        return fail(Errc::corrupted, std::string("overlay.json: not valid JSON: ") + e.what());
    }
    std::vector<std::string> problems;
    auto bad = [&](const std::string& field, const std::string& what) {
        problems.push_back(field + ": " + what);
    };
    if (!j.is_object()) return fail(Errc::corrupted, "overlay.json: expected an object");
    for (const auto& [k, v] : j.items()) {
        if (k != "format_version" && k != "node" && k != "hostname" && k != "artifacts" &&
            k != "ssh_host_keys")
            bad(k, "unknown key");
    }
    OverlayManifest m;
    auto get_string = [&](const char* key, std::string& out) {
        if (!j.contains(key)) return bad(key, "missing");
        if (!j[key].is_string())
            return bad(key, std::string("expected a string, found ") + j[key].type_name());
        out = j[key].get<std::string>();
        if (out.empty()) bad(key, "must not be empty");
    };
    if (!j.contains("format_version") || !j["format_version"].is_number_integer()) {
        bad("format_version", "missing or not an integer");
    } else if (j["format_version"].get<std::int64_t>() != kOverlayFormatVersion) {
        bad("format_version", j["format_version"].dump() + " is not supported (expected " +
                                  std::to_string(kOverlayFormatVersion) + ")");
    } else {
        m.format_version = kOverlayFormatVersion;
    }
    get_string("node", m.node);
    get_string("hostname", m.hostname);
    if (!j.contains("artifacts") || !j["artifacts"].is_array()) {
        bad("artifacts", "missing or not a list");
    } else {
        for (std::size_t i = 0; i < j["artifacts"].size(); ++i) {
            const json& a = j["artifacts"][i];
            const std::string field = "artifacts[" + std::to_string(i) + "]";
            if (!a.is_object() || a.size() != 3 || !a.contains("path") || !a["path"].is_string() ||
                !a.contains("sha256") || !a["sha256"].is_string() || !a.contains("size") ||
                !a["size"].is_number_unsigned()) {
                bad(field, "expected {path: string, sha256: string, size: unsigned integer}");
                continue;
            }
            Artifact art{a["path"].get<std::string>(), a["sha256"].get<std::string>(),
                         a["size"].get<std::uint64_t>()};
            if (!plain_file_name(art.path))
                bad(field + ".path", "must be a file name in the overlay directory");
            if (!is_sha256_hex(art.sha256))
                bad(field + ".sha256", "expected 64 lower-case hex digits");
            if (!m.artifacts.empty() && !(m.artifacts.back().path < art.path))
                bad(field + ".path", "out of order or duplicate");
            m.artifacts.push_back(std::move(art));
        }
    }
    if (!j.contains("ssh_host_keys") || !j["ssh_host_keys"].is_object()) {
        bad("ssh_host_keys", "missing or not an object");
    } else {
        for (const auto& [k, v] : j["ssh_host_keys"].items()) {
            if (!v.is_string() || !v.get<std::string>().starts_with("SHA256:")) {
                bad("ssh_host_keys." + k, "expected \"SHA256:...\"");
            } else {
                m.ssh_host_keys[k] = v.get<std::string>();
            }
        }
    }
    // Only the one serialisation is accepted: this also refuses duplicate
    // keys, which a JSON parser would otherwise resolve silently (the signed
    // bytes must mean exactly one thing).
    if (problems.empty() && m.to_json() != bytes) problems.push_back("not in canonical form");
    if (!problems.empty()) return fail(Errc::corrupted, "overlay.json: " + comma_list(problems));
    return m;
}

}  // namespace pib::overlays
