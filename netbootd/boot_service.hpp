// Who is asking and what it boots: the node directory (inventory), the fleet
// state (channels), the verified releases (catalog) and the addresses learned
// in boot exchanges, behind one object the DHCP, TFTP and HTTP servers share.
// Everything here runs on the event loop's thread.
//
// A client is recognised by its Raspberry Pi serial, its MAC, or its address
// as learned earlier in its boot; it boots what store::desired_release() says
// (a pin in the fleet state, a release pinned in the inventory, an active
// rollout, its channel). Unknown clients get `tftp.root-fallback` (a default
// release) or nothing at all.
//
// The fleet state is cached as one FleetView and re-read only when
// FleetState::change_counter() moved: each request (DHCP packet, TFTP read
// request, HTTP request) costs at most that one cheap query, and a change made
// by the CLI (rollback, channel set, rollout) is seen at the next request.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/log.hpp"
#include "dhcp/proxy_reply.hpp"
#include "inventory/inventory.hpp"
#include "netbootd/catalog.hpp"
#include "netbootd/config.hpp"
#include "netbootd/dhcp_leases.hpp"
#include "netbootd/dhcp_proxy_server.hpp"
#include "store/fleet_state.hpp"

namespace netbootd {

using Ipv4 = std::uint32_t;  ///< host byte order

/// One consistent view: config, inventory, releases. Replaced as a whole on reload;
/// work in flight keeps the snapshot it started with.
struct Snapshot {
    std::shared_ptr<const pib::netbootd::NetbootdConfig> config;
    std::shared_ptr<const pib::inventory::Inventory> inventory;  ///< never null (may be empty)
    std::shared_ptr<const Catalog> catalog;                       ///< never null
    std::string base_url;   ///< "http://10.0.0.1:80", no trailing '/'
    Ipv4 server_address = 0;
    std::shared_ptr<DirectoryResolver> ipxe;  ///< config.ipxe_dir; null when missing
    std::filesystem::path overlays_dir;        ///< <store>/overlays
    std::set<Ipv4> reserved_addresses;          ///< nodes' static addresses (full-mode DHCP)
};

/// What a client boots, and why.
struct BootTarget {
    const pib::inventory::Node* node = nullptr;  ///< null for an unknown client on the default release
    const Release* release = nullptr;
    /// "pinned", "inventory pin", "rollout 3 wave 2", "channel stable", "root-fallback"
    std::string reason;
};

/// A boot path resolved for one client: either text rendered for it
/// (cmdline.txt, config.txt) or a file below a directory.
struct ResolvedBootFile {
    BootTarget target;  ///< empty (no release) for the iPXE binaries
    std::optional<std::string> rendered;
    std::shared_ptr<DirectoryResolver> dir;
    std::string path;  ///< below dir
    const pib::Artifact* artifact = nullptr;  ///< the manifest's entry, when a release file
    bool pi = false;   ///< asked by a Raspberry Pi path (serial or MAC directory)
};

class BootService {
public:
    BootService(pib::store::FleetState* state, const pib::Logger& log,
                std::function<EventLoop::TimePoint()> now = {});

    void set_snapshot(std::shared_ptr<const Snapshot> snap);
    std::shared_ptr<const Snapshot> snapshot() const { return snap_; }

    // ---- the fleet state, cached
    /// Re-reads the fleet view when the state's change counter moved since the
    /// last read; on an error the cached view stays (logged once per interval).
    /// Called once at the start of each request.
    void refresh_fleet();
    /// The cached view (read now when there is none yet); never null.
    std::shared_ptr<const pib::store::FleetView> fleet();
    /// How many times the whole view was read (the cache's misses).
    std::uint64_t fleet_reads() const { return fleet_reads_; }

    /// The release a known node boots, from the cached fleet view; nullopt
    /// (logged once per interval) when nothing names a release for it or the
    /// release it should boot is not verified.
    std::optional<BootTarget> target_for(const Snapshot& s, const pib::inventory::Node& node);
    /// Target for a client the inventory does not know: the root-fallback release, or nullopt.
    std::optional<BootTarget> fallback_target(const Snapshot& s);
    /// Target for a node, or the fallback when `node` is null.
    std::optional<BootTarget> target_or_fallback(const Snapshot& s, const pib::inventory::Node* node);

    // ---- addresses learned in boot exchanges (TFTP by serial/MAC, iPXE script by MAC)
    void learn(Ipv4 address, const pib::inventory::Node& node);
    /// The node last seen booting from `address`, if the inventory still has it.
    const pib::inventory::Node* node_at(const Snapshot& s, Ipv4 address) const;
    /// The address `node` was last seen at.
    std::optional<Ipv4> address_of(const std::string& node) const;

    // ---- rendering (cmdline.txt, config.txt, iPXE scripts); see docs/netbootd.md
    /// The kernel command line for `t`: the release's cmdline.txt with @SERVER@,
    /// @NODE@, @HOSTNAME@ and @RELEASE@ replaced, then pib.* parameters, `ip=`
    /// for static nodes and the node's kernel-args. No trailing newline.
    std::string kernel_cmdline(const Snapshot& s, const BootTarget& t) const;
    /// cmdline.txt as served to a Pi: kernel_cmdline() plus '\n'.
    std::string render_cmdline_txt(const Snapshot& s, const BootTarget& t) const;
    /// config.txt as served: the release's with placeholders replaced, after a header comment.
    std::string render_config_txt(const Snapshot& s, const BootTarget& t) const;
    /// The iPXE script that boots `t`'s kernel and initramfs over HTTP.
    std::string ipxe_script(const Snapshot& s, const BootTarget& t) const;

    /// Resolves a normalised boot path as TFTP (and HTTP /boot/) clients ask it:
    /// `<serial>/<file>` and `<aa-bb-cc-dd-ee-ff>/<file>` name the node (the
    /// address is learned); other paths are iPXE binaries or the file of the
    /// node last seen at `client`, else of the root fallback. Errc::not_found
    /// for unknown clients and missing files.
    pib::Result<ResolvedBootFile> resolve_boot_path(const Snapshot& s, const std::string& clean_path, Ipv4 client);

    /// "Unknown client" and similar lines: at most one per key per interval.
    bool should_log(const std::string& key);

    /// The BootPolicy the DHCP server asks (proxy and full mode).
    BootPolicy& policy() { return policy_; }

private:
    class Policy : public BootPolicy {
    public:
        explicit Policy(BootService& svc) : svc_(svc) {}
        std::optional<pib::dhcp::BootDecision> decide(const pib::dhcp::ClientInfo& client) override;

    private:
        BootService& svc_;
    };

    pib::store::FleetState* state_;
    const pib::Logger& log_;
    std::function<EventLoop::TimePoint()> now_;
    std::shared_ptr<const Snapshot> snap_;
    std::shared_ptr<const pib::store::FleetView> fleet_;
    std::uint64_t fleet_reads_ = 0;
    Policy policy_{*this};
    std::unordered_map<Ipv4, std::string> learned_;         ///< address -> node name
    std::unordered_map<std::string, Ipv4> learned_by_node_;  ///< node name -> address
    std::unordered_map<std::string, EventLoop::TimePoint> logged_;
};

/// Full-mode DHCP reservations from the current snapshot's inventory: a
/// node's `network.address` for its MACs, its hostname as option 12.
class InventoryReservations : public ReservationSource {
public:
    explicit InventoryReservations(const BootService& svc) : svc_(svc) {}
    std::optional<Reservation> reservation_for(std::span<const std::uint8_t> hwaddr) const override;
    bool is_reserved(std::uint32_t address) const override;

private:
    const BootService& svc_;
};

/// Replaces @SERVER@, @NODE@, @HOSTNAME@ and @RELEASE@ (unknown @WORDS@ are kept).
std::string substitute_placeholders(std::string text, const std::map<std::string, std::string>& values);

}  // namespace netbootd
