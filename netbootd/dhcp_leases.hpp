// Leases of `full` DHCP mode: which client holds which address until when.
// Reservations come from the inventory (an injected ReservationSource); other
// clients get addresses from the pool. Every change a client relies on (ACK,
// RELEASE, DECLINE) is written to the lease file before the server answers,
// atomically (temporary file, fsync, rename, fsync of the directory), so a
// restart or a crash finds the leases as last acknowledged. Time is a
// parameter of every call: no clocks in here, tests never sleep.
//
// Clients are keyed by hardware address (chaddr), not by option 61: the
// inventory names nodes by MAC, and a machine whose PXE ROM and OS send
// different client identifiers (or none) keeps one address through its boot.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "dhcp/full_reply.hpp"
#include "netbootd/config.hpp"

namespace netbootd {

/// An address the inventory gives one node (host byte order).
struct Reservation {
    std::uint32_t address = 0;
    std::string hostname;  ///< option 12; may be empty
    std::string node;      ///< the inventory's node name, for logs
    bool operator==(const Reservation&) const = default;
};

/// Where reservations come from (the inventory in netbootd; a map in tests).
/// Asked on every message, so inventory reloads apply at a client's next packet.
class ReservationSource {
  public:
    virtual ~ReservationSource() = default;
    /// The reservation of the client with this hardware address, if any.
    virtual std::optional<Reservation> reservation_for(
        std::span<const std::uint8_t> hwaddr) const = 0;
    /// True when `address` (host order) is reserved for some client: the pool never hands it to
    /// another.
    virtual bool is_reserved(std::uint32_t address) const = 0;
};

/// A ReservationSource over a fixed table, keyed by colon-hex MAC ("52:54:00:aa:bb:01").
class MapReservations : public ReservationSource {
  public:
    MapReservations() = default;
    explicit MapReservations(std::map<std::string, Reservation> by_mac)
        : by_mac_(std::move(by_mac)) {}
    std::optional<Reservation> reservation_for(std::span<const std::uint8_t> hwaddr) const override;
    bool is_reserved(std::uint32_t address) const override;

  private:
    std::map<std::string, Reservation> by_mac_;
};

/// How the store hands out addresses.
struct LeaseStoreOptions {
    std::uint32_t network = 0;  ///< the clients' subnet (host order, host bits 0)
    std::uint32_t netmask = 0;
    /// The dynamic pool [first, last]; nullopt: reservations only.
    std::optional<std::pair<std::uint32_t, std::uint32_t>> range;
    std::chrono::seconds lease_time{3600};
    /// How long an offered address stays held for the client it was offered to
    /// (RFC 2131 §4.3.1 leaves it to the server; dnsmasq and Kea use seconds too).
    std::chrono::seconds offer_hold{30};
    /// How long a DECLINEd address is not handed out (dnsmasq: DECLINE_BACKOFF, 600 s).
    std::chrono::seconds decline_quarantine{600};
    /// The lease file; empty keeps leases in memory only.
    std::filesystem::path file;
};

/// An address in host order from its wire form, and back.
inline std::uint32_t from_wire(const pib::dhcp::Ipv4& a) {
    return std::uint32_t{a[0]} << 24 | std::uint32_t{a[1]} << 16 | std::uint32_t{a[2]} << 8 | a[3];
}
inline pib::dhcp::Ipv4 to_wire(std::uint32_t a) {
    return {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16),
            static_cast<std::uint8_t>(a >> 8), static_cast<std::uint8_t>(a)};
}

/// Options from the validated config: the subnet of `server_address` and `pool.netmask`.
LeaseStoreOptions lease_store_options(const pib::netbootd::DhcpPool& pool,
                                      std::uint32_t server_address);
/// Options 1, 3 and 6 from the validated config.
pib::dhcp::NetworkConfig network_config(const pib::netbootd::DhcpPool& pool);

/// One lease as kept and written (a released or expired one stays, so that its
/// client gets the same address back, until the address goes to someone else).
struct Lease {
    std::uint32_t address = 0;
    std::vector<std::uint8_t> hwaddr;
    std::chrono::system_clock::time_point expires;
    std::string hostname;
    bool operator==(const Lease&) const = default;
};

/// What the store decided for one message.
struct LeaseAnswer {
    enum class Verdict : std::uint8_t {
        grant,   ///< offer or acknowledge `address` for `lease_time`
        refuse,  ///< NAK: the client must not use the address (`reason`)
        ignore,  ///< stay silent (`reason`): nothing free, or not ours to answer
    };
    Verdict verdict = Verdict::ignore;
    std::uint32_t address = 0;
    std::chrono::seconds lease_time{0};
    std::string hostname;  ///< the reservation's, when `address` is reserved for this client
    std::string node;
    std::string reason;
};

class LeaseStore {
  public:
    using Clock = std::chrono::system_clock;
    using TimePoint = Clock::time_point;

    /// Loads options.file when it exists (a missing file is an empty store),
    /// removes temporary files a crash left beside it, and writes it back once
    /// so that an unwritable directory fails here and not at the first ACK.
    /// corrupted: the file does not parse ("file:line:col: ...") or holds
    /// something other than leases ("file: leases[2].address: ..."); the store
    /// then refuses to start rather than hand out addresses that may be in use.
    /// `reservations` and `log` must outlive the store.
    static pib::Result<std::unique_ptr<LeaseStore>> open(LeaseStoreOptions options,
                                                         const ReservationSource& reservations,
                                                         const pib::Logger& log);

    /// DHCPDISCOVER: the address to offer, held for offer_hold. Preference: the
    /// client's reservation, its offer or lease, its option 50 hint (`requested`,
    /// 0 for none), then the lowest never-used free pool address, then the one
    /// expired longest ago. ignore when nothing is free. Never written to the file.
    LeaseAnswer offer(std::span<const std::uint8_t> hwaddr, std::uint32_t requested, TimePoint now);

    /// DHCPREQUEST (select, init_reboot, renew, rebind) of `address`: grant,
    /// written to the file before it returns; refuse when the address is not
    /// the client's to have (wrong subnet, another's lease, its reservation is
    /// elsewhere). The store is authoritative for its subnet: a client it has no
    /// record of keeps a free pool address (so a lost file does not cost leases).
    /// ignore when the file cannot be written: no ACK without a durable record.
    LeaseAnswer request(std::span<const std::uint8_t> hwaddr, pib::dhcp::ClientRequestKind kind,
                        std::uint32_t address, TimePoint now);

    /// DHCPDECLINE: the client found `address` in use; it is quarantined.
    void decline(std::span<const std::uint8_t> hwaddr, std::uint32_t address, TimePoint now);
    /// DHCPRELEASE: the lease ends now (the record stays for the client's next visit).
    void release(std::span<const std::uint8_t> hwaddr, std::uint32_t address, TimePoint now);
    /// A REQUEST for another server's offer: our held offer is free again.
    void forget_offer(std::span<const std::uint8_t> hwaddr);

    /// True when `address` is in the store's subnet (relayed requests, NAKs for moved clients).
    bool in_subnet(std::uint32_t address) const {
        return (address & options_.netmask) == options_.network;
    }
    /// Every lease record, by address.
    std::vector<Lease> leases() const;
    /// Addresses quarantined after a DECLINE, with the end of their quarantine.
    std::map<std::uint32_t, TimePoint> declined() const { return declined_; }
    const LeaseStoreOptions& options() const { return options_; }

  private:
    struct Offer {
        std::string client;
        TimePoint until;
    };
    struct Record {
        std::vector<std::uint8_t> hwaddr;
        TimePoint expires;
        std::string hostname;
    };

    LeaseStore(LeaseStoreOptions options, const ReservationSource& reservations,
               const pib::Logger& log);
    pib::Status load();
    pib::Status persist(TimePoint now);
    bool in_pool(std::uint32_t a) const;
    enum class Conflict {
        none,
        other_subnet,
        outside_pool,
        declined,
        leased,
        offered,
        reserved_elsewhere
    };
    /// Whether `client` (with `reservation`) may have `a` now, cheaply.
    Conflict conflict(std::uint32_t a, const std::string& client,
                      const std::optional<Reservation>& reservation, TimePoint now) const;
    /// Why `client` may not have `a` now, for logs and NAKs; empty when it may.
    std::string unavailable(std::uint32_t a, const std::string& client,
                            const std::optional<Reservation>& reservation, TimePoint now) const;
    std::optional<std::uint32_t> lease_of(const std::string& client) const;
    std::optional<std::uint32_t> offer_of(const std::string& client) const;
    std::optional<std::uint32_t> lowest_free(const std::string& client,
                                             const std::optional<Reservation>& reservation,
                                             TimePoint now) const;
    LeaseAnswer hold(std::uint32_t a, const std::string& client,
                     const std::optional<Reservation>& r, TimePoint now);
    LeaseAnswer commit(std::uint32_t a, std::span<const std::uint8_t> hwaddr,
                       const std::optional<Reservation>& r, TimePoint now);

    LeaseStoreOptions options_;
    const ReservationSource& reservations_;
    const pib::Logger& log_;
    std::map<std::uint32_t, Record> leases_;          ///< by address; persisted
    std::map<std::string, std::uint32_t> by_client_;  ///< colon-hex hwaddr -> address in leases_
    std::map<std::uint32_t, Offer> offers_;           ///< held offers by address; memory only
    std::map<std::uint32_t, TimePoint> declined_;     ///< quarantined addresses; persisted
};

}  // namespace netbootd
