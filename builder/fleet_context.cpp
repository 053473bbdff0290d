#include "builder/fleet_context.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "common/diag.hpp"
#include "release/manifest.hpp"
#include "release/release_store.hpp"
#include "release/store_release.hpp"

namespace pib::cli::fleet {

namespace fs = std::filesystem;

int report(const Error& e) {
    std::fprintf(stderr, "pibuild: error: %s\n", e.message.c_str());
    return e.code == Errc::invalid || e.code == Errc::not_found ? kBadInput : kFailed;
}

std::string who() {
    for (const char* var : {"SUDO_USER", "USER"})
        if (const char* v = std::getenv(var); v && *v) return v;
    if (const passwd* pw = ::getpwuid(::getuid())) return pw->pw_name;
    return "uid " + std::to_string(::getuid());
}

Result<std::unique_ptr<store::FleetState>> open_state(const FleetArgs& a) {
    if (!fs::is_directory(a.store))
        return fail(Errc::invalid, "store " + a.store + " is not a directory (pass --store DIR" +
                                       (a.config_used.empty() ? "" : ", or fix store in " + a.config_used) + ")");
    return store::open_sqlite_state(a.state_db);
}

Result<PublicKey> load_pubkey(const FleetArgs& a) {
    const fs::path path = a.pubkey;
    if (!fs::exists(path))
        return fail(Errc::invalid, "no public key to verify releases with: " + path.string() +
                                       " does not exist (pass --pubkey fleet.pub" +
                                       (a.config_used.empty() ? "" : ", or set public-key in " + a.config_used) +
                                       ")");
    auto key = PublicKey::load(path);
    if (!key) return fail(Errc::invalid, "public key " + path.string() + ": " + key.error().message);
    return key;
}

Result<std::string> resolve_release(const FleetArgs& a, const std::string& text) {
    if (text.empty() || text[0] == '.' || text.find('/') != std::string::npos)
        return fail(Errc::invalid, "\"" + text + "\" is not a release id");
    if (fs::is_directory(fs::path(a.store) / "releases" / text)) return text;
    auto all = list_releases(a.store);
    if (!all) return all.error();
    // The short form tables print (name-version-3f2a9c) is a prefix of the id.
    std::vector<std::string> found;
    for (const auto& id : *all)
        if (id.starts_with(text)) found.push_back(id);
    if (found.size() == 1) return found.front();
    if (found.empty())
        return fail(Errc::not_found, "release " + text + " is not published in " + a.store +
                                         " (publish it first: pibuild publish DIR; pibuild release list shows "
                                         "what is there)");
    std::string msg = "release " + text + " is ambiguous: " + std::to_string(found.size()) +
                      " published releases start with it:";
    for (const auto& id : found) msg += "\n  " + id;
    return fail(Errc::invalid, msg);
}

Result<Manifest> check_published(const FleetArgs& a, const std::string& id) {
    const fs::path dir = fs::path(a.store) / "releases" / id;
    if (!fs::is_directory(dir))
        return fail(Errc::not_found, "release " + id + " is not published in " + a.store +
                                         " (publish it first: pibuild publish DIR --store " + a.store + ")");
    auto key = load_pubkey(a);
    if (!key) return key.error();
    auto check = check_store_release(dir, id, *key);
    if (!check.manifest) {
        std::string msg = "published release " + id + " does not verify";
        for (const auto& p : check.problems) msg += "\n  " + p;
        return fail(Errc::verification, msg);
    }
    return std::move(*check.manifest);
}

Result<std::optional<inventory::Inventory>> load_inventory(const FleetArgs& a, bool required) {
    const fs::path path = a.inventory;
    if (!a.inventory_named && !fs::exists(path)) {
        if (!required) return std::optional<inventory::Inventory>();
        return fail(Errc::invalid, "no inventory: " + path.string() + " does not exist (pass --inventory nodes.yaml)");
    }
    Diagnostics diags;
    auto inv = inventory::load_inventory(path, diags, {.check_files = false});
    if (!inv) {
        if (!diags.empty()) std::fputs(diags.str().c_str(), stderr);
        return fail(Errc::invalid, path.string() + ": " + std::to_string(std::max<std::size_t>(diags.size(), 1)) +
                                       " error(s) in the inventory" +
                                       (diags.empty() ? ": " + inv.error().message : std::string()));
    }
    return std::optional<inventory::Inventory>(std::move(*inv));
}

void print_json(const json& j) { std::cout << j.dump(2) << "\n"; }

json result_json(json fields) { return store::versioned(std::move(fields)); }

std::string progress_line(const store::Rollout& r) {
    const json w = store::wave_summary_json(r).at(static_cast<std::size_t>(r.current_wave));
    return "rollout " + std::to_string(r.id) + " " + store::rollout_state_name(r.state) + ", wave " +
           std::to_string(r.current_wave + 1) + "/" + std::to_string(r.wave_count) + ": " +
           std::to_string(w["healthy"].get<int>()) + "/" + std::to_string(w["nodes"].get<int>()) + " healthy, " +
           std::to_string(w["updating"].get<int>()) + " updating, " + std::to_string(w["failed"].get<int>()) +
           " failed, " + std::to_string(w["timed_out"].get<int>()) + " timed out";
}

}  // namespace pib::cli::fleet
