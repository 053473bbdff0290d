// overlay.json parsing and verification for pib-init.
#include "client/overlay_doc.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace pib::client {

namespace {

using nlohmann::json;

// nlohmann keeps the last of duplicate keys; a reader that kept the first
// would see a different document under the same signature.
Result<json> parse_unique(std::string_view bytes) {
    std::vector<std::set<std::string>> open;
    std::string dup;
    auto track = [&](int, json::parse_event_t ev, json& parsed) {
        if (ev == json::parse_event_t::object_start)
            open.emplace_back();
        else if (ev == json::parse_event_t::object_end)
            open.pop_back();
        else if (ev == json::parse_event_t::key && !open.empty() &&
                 !open.back().insert(parsed.get<std::string>()).second && dup.empty())
            dup = parsed.get<std::string>();
        return true;
    };
    try {
        json j = json::parse(bytes.begin(), bytes.end(), track);
        if (!dup.empty())
            return fail(Errc::corrupted, "overlay.json: duplicate key \"" + dup + "\"");
        return j;
    } catch (const json::exception& e) {
        return fail(Errc::corrupted, std::string("overlay.json: not valid JSON: ") + e.what());
    }
}

bool is_hex64(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool is_plain_name(const std::string& s) {
    return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
           s.find('\0') == std::string::npos;
}

}  // namespace

Result<OverlayDoc> parse_overlay(std::string_view bytes) {
    auto parsed = parse_unique(bytes);
    if (!parsed) return parsed.error();
    const json& j = *parsed;
    if (!j.is_object()) return fail(Errc::corrupted, "overlay.json: expected an object");
    std::vector<std::string> problems;
    OverlayDoc d;
    auto str = [&](const char* key, std::string& out) {
        auto it = j.find(key);
        if (it == j.end())
            problems.push_back(std::string(key) + ": missing");
        else if (!it->is_string())
            problems.push_back(std::string(key) + ": expected a string");
        else
            out = it->get<std::string>();
    };
    if (auto it = j.find("format_version"); it == j.end() || !it->is_number_integer())
        problems.push_back("format_version: missing or not an integer");
    else if (it->get<std::int64_t>() != kOverlayFormatVersion)
        problems.push_back("format_version: " + it->dump() + " is not supported (expected 1)");
    str("node", d.node);
    if (d.node.empty()) problems.push_back("node: must not be empty");
    str("hostname", d.hostname);
    if (auto it = j.find("artifacts"); it == j.end() || !it->is_array()) {
        problems.push_back("artifacts: missing or not an array");
    } else {
        for (std::size_t i = 0; i < it->size(); ++i) {
            const json& a = (*it)[i];
            const std::string at = "artifacts[" + std::to_string(i) + "]";
            if (!a.is_object() || !a.contains("path") || !a["path"].is_string() ||
                !a.contains("sha256") || !a["sha256"].is_string() || !a.contains("size") ||
                !a["size"].is_number_unsigned()) {
                problems.push_back(
                    at + ": expected {\"path\": string, \"sha256\": string, \"size\": integer}");
                continue;
            }
            Artifact art{a["path"].get<std::string>(), a["sha256"].get<std::string>(),
                         a["size"].get<std::uint64_t>()};
            if (!is_plain_name(art.path))
                problems.push_back(at + ".path: must be a plain file name");
            if (!is_hex64(art.sha256))
                problems.push_back(at + ".sha256: expected 64 lower-case hex digits");
            d.artifacts.push_back(std::move(art));
        }
        if (std::none_of(d.artifacts.begin(), d.artifacts.end(),
                         [](const Artifact& a) { return a.path == "overlay.squashfs"; }))
            problems.push_back("artifacts: overlay.squashfs is not listed");
    }
    if (auto it = j.find("ssh_host_keys"); it != j.end()) {
        if (!it->is_object()) {
            problems.push_back("ssh_host_keys: expected an object");
        } else {
            for (const auto& [k, v] : it->items()) {
                if (!v.is_string())
                    problems.push_back("ssh_host_keys." + k + ": expected a string");
                else
                    d.ssh_host_keys[k] = v.get<std::string>();
            }
        }
    }
    if (!problems.empty()) {
        std::string msg = "overlay.json: ";
        for (std::size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
        return fail(Errc::corrupted, msg);
    }
    return d;
}

Result<OverlayDoc> verify_overlay(std::string_view bytes, std::string_view signature,
                                  const PublicKey& key, std::string_view node) {
    if (!key.verify(bytes, signature))
        return fail(Errc::verification,
                    "overlay.json signature does not verify with " + key.fingerprint());
    auto d = parse_overlay(bytes);
    if (!d)
        return fail(Errc::verification,
                    "overlay.json is signed but does not parse: " + d.error().message);
    if (d->node != node)
        return fail(Errc::verification,
                    "overlay.json is for node " + d->node + ", not " + std::string(node));
    return d;
}

}  // namespace pib::client
