#include "netbootd/fleet_api.hpp"

#include "store/fleet_json.hpp"

namespace netbootd {

using nlohmann::json;

pib::Result<FleetReadout> read_fleet(BootService& svc, pib::store::FleetState* state) {
    FleetReadout f;
    f.view = svc.fleet();
    if (!state) return f;
    auto nodes = pib::store::read_node_readout(*state, *f.view);
    if (!nodes) return nodes.error();
    f.nodes = std::move(*nodes);
    return f;
}

json node_json(BootService& svc, const Snapshot& s, const pib::inventory::Node& n, const FleetReadout& f) {
    auto facts = f.nodes.facts(n.name);
    if (auto t = svc.target_for(s, n)) facts.served = t->release->id;
    if (auto at = svc.address_of(n.name)) facts.address = pib::netbootd::ipv4_string(*at);
    return pib::store::node_json(pib::store::identity_of(n), *f.view, facts);
}

pib::Result<json> releases_json(const Snapshot& s, pib::store::FleetState* state) {
    std::map<std::string, pib::store::ReleaseUse> uses;
    if (state) {
        auto u = pib::store::release_uses(*state);
        if (!u) return u.error();
        uses = std::move(*u);
    }
    for (const auto& n : s.inventory->nodes)
        if (n.release) uses[*n.release].inventory_pins.push_back(n.name);
    std::map<std::string, json> by_id;  // one list sorted by id, as `pibuild release list`
    for (const auto& [id, r] : s.catalog->releases()) {
        std::uint64_t bytes = 0;
        for (const auto& a : r->manifest.artifacts) bytes += a.size;
        by_id[id] = pib::store::release_json({.id = id,
                                              .verified = true,
                                              .name = r->manifest.name,
                                              .version = r->manifest.version,
                                              .arch = r->manifest.arch,
                                              .board = r->manifest.board,
                                              .bytes = bytes,
                                              .artifacts = r->manifest.artifacts.size(),
                                              .problems = {},
                                              .warnings = r->warnings,
                                              .used_by = uses[id]});
    }
    for (const auto& rj : s.catalog->rejected())
        by_id[rj.id] = pib::store::release_json({.id = rj.id, .problems = rj.problems, .used_by = uses[rj.id]});
    json out = json::array();
    for (auto& [id, j] : by_id) out.push_back(std::move(j));
    return out;
}

}  // namespace netbootd
