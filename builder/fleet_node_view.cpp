#include "builder/fleet_node_view.hpp"

#include <set>

#include "release/store_release.hpp"

namespace pib::cli::fleet {

namespace fs = std::filesystem;

namespace {

// Whether netbootd would serve `id`: published, verifying, named by its id.
class Served {
  public:
    explicit Served(const FleetArgs& a) : a_(a) {}
    std::optional<std::string> operator()(const std::optional<std::string>& id) {
        if (!id) return std::nullopt;
        auto it = ok_.find(*id);
        if (it == ok_.end()) it = ok_.emplace(*id, check(*id)).first;
        return it->second ? id : std::nullopt;
    }

  private:
    bool check(const std::string& id) {
        if (!key_) {
            key_ = load_pubkey(a_);
            if (!*key_) return false;
        }
        if (!*key_) return false;
        const fs::path dir = fs::path(a_.store) / "releases" / id;
        return fs::is_directory(dir) && check_store_release(dir, id, **key_).manifest.has_value();
    }
    const FleetArgs& a_;
    std::optional<Result<PublicKey>> key_;
    std::map<std::string, bool> ok_;
};

}  // namespace

Result<FleetNodes> collect_nodes(const FleetArgs& a) {
    auto opened = open_state(a);
    if (!opened) return opened.error();
    store::FleetState& state = **opened;
    FleetNodes f;
    auto inv = load_inventory(a, /*required=*/false);
    if (!inv) return inv.error();
    f.inventory = std::move(*inv);
    auto view = state.view();
    if (!view) return view.error();
    f.view = std::move(*view);
    auto readout = store::read_node_readout(state, f.view);
    if (!readout) return readout.error();
    f.readout = std::move(*readout);
    Served served(a);
    auto add = [&](const inventory::Node* node, const store::NodeIdentity& id) {
        auto facts = f.readout.facts(id.name);
        auto desired = store::desired_release(f.view, id.name, id.channel, id.inventory_release);
        facts.served =
            served(desired ? std::optional<std::string>(desired->release) : std::nullopt);
        f.rows.push_back({node, store::node_json(id, f.view, facts)});
    };
    std::set<std::string> listed;
    if (f.inventory)
        for (const auto& n : f.inventory->nodes) {
            add(&n, store::identity_of(n));
            listed.insert(n.name);
        }
    std::set<std::string> extra;
    for (const auto& p : f.view.pins) extra.insert(p.first);
    for (const auto& r : f.readout.reports) extra.insert(r.first);
    for (const auto& w : f.view.rollout_wave) extra.insert(w.first);
    for (const auto& n : extra)
        if (!listed.count(n)) add(nullptr, store::NodeIdentity{.name = n});
    return f;
}

}  // namespace pib::cli::fleet
