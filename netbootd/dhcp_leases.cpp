#include "netbootd/dhcp_leases.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>

#include "common/fs.hpp"
#include "common/hex.hpp"
#include "dhcp/describe.hpp"

namespace netbootd {

using pib::Errc;
using pib::fail;
using pib::Level;
using pib::netbootd::ipv4_string;
using Json = nlohmann::json;
using Verdict = LeaseAnswer::Verdict;
using Kind = pib::dhcp::ClientRequestKind;

namespace {

/// The first line of the file format; a different value is refused, not guessed at.
constexpr const char* kFormat = "netbootd-leases/1";

std::string client_key(std::span<const std::uint8_t> hwaddr) {
    return pib::dhcp::colon_hex(hwaddr);
}

std::int64_t unix_seconds(LeaseStore::TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

LeaseStore::TimePoint from_unix(std::int64_t s) {
    return LeaseStore::TimePoint(std::chrono::seconds(s));
}

std::optional<std::vector<std::uint8_t>> parse_mac(const std::string& text) {
    std::string digits;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i % 3 == 2) {
            if (text[i] != ':') return std::nullopt;
        } else {
            digits += text[i];
        }
    }
    auto bytes = pib::from_hex(digits);
    if (!bytes || bytes->empty() || bytes->size() > 16 || text.size() != bytes->size() * 3 - 1)
        return std::nullopt;
    return bytes;
}

/// "file:line:col: message" for a parse error at byte offset `byte` (nlohmann counts from 1).
std::string parse_error_text(const std::filesystem::path& file, std::string_view text,
                             std::size_t byte, std::string message) {
    const std::size_t at = std::min(byte > 0 ? byte - 1 : 0, text.size());
    const auto head = text.substr(0, at);
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(head.begin(), head.end(), '\n'));
    const auto nl = head.rfind('\n');
    const std::size_t col = 1 + (nl == std::string_view::npos ? at : at - nl - 1);
    // nlohmann's text repeats the position: keep what follows it.
    if (auto colon = message.find(": "); colon != std::string::npos) message.erase(0, colon + 2);
    return file.string() + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + message;
}

/// Reads one object of the file against its allowed keys; problems go to
/// `errors` as "file: where.key: what" (the JSON path, as nlohmann keeps no
/// positions for values).
class EntryReader {
  public:
    EntryReader(const Json& j, const std::filesystem::path& file, std::string where,
                std::vector<std::string>& errors)
        : j_(j), file_(file.string()), where_(std::move(where)), errors_(errors) {}

    bool check_keys(std::initializer_list<const char*> allowed) {
        if (!j_.is_object()) return error("", "expected an object");
        bool ok = true;
        for (const auto& item : j_.items()) {
            const std::string& k = item.key();  // a named variable: clang 14 cannot capture bindings
            if (std::find_if(allowed.begin(), allowed.end(),
                             [&](const char* a) { return k == a; }) == allowed.end())
                ok = error(k, "unknown key");
        }
        return ok;
    }
    std::optional<std::uint32_t> address(const char* key) {
        auto s = string(key, true);
        if (!s) return std::nullopt;
        auto a = pib::netbootd::parse_ipv4(*s);
        if (!a) error(key, "not an IPv4 address: " + *s);
        return a;
    }
    std::optional<std::string> string(const char* key, bool required) {
        auto it = j_.find(key);
        if (it == j_.end() || !it->is_string()) {
            if (it != j_.end() || required) error(key, "expected a string");
            return std::nullopt;
        }
        return it->get<std::string>();
    }
    std::optional<std::int64_t> seconds(const char* key) {
        auto it = j_.find(key);
        if (it == j_.end() || !it->is_number_integer()) {
            error(key, "expected seconds since 1970 (an integer)");
            return std::nullopt;
        }
        return it->get<std::int64_t>();
    }
    bool error(const std::string& key, const std::string& what) {
        const std::string path = where_ + (where_.empty() || key.empty() ? "" : ".") + key;
        errors_.push_back(file_ + ": " + (path.empty() ? "" : path + ": ") + what);
        return false;
    }

  private:
    const Json& j_;
    std::string file_;
    std::string where_;
    std::vector<std::string>& errors_;
};

}  // namespace

std::optional<Reservation> MapReservations::reservation_for(
    std::span<const std::uint8_t> hwaddr) const {
    auto it = by_mac_.find(client_key(hwaddr));
    if (it == by_mac_.end()) return std::nullopt;
    return it->second;
}

bool MapReservations::is_reserved(std::uint32_t address) const {
    return std::any_of(by_mac_.begin(), by_mac_.end(),
                       [&](const auto& kv) { return kv.second.address == address; });
}

LeaseStoreOptions lease_store_options(const pib::netbootd::DhcpPool& pool,
                                      std::uint32_t server_address) {
    LeaseStoreOptions o;
    o.netmask = pool.netmask;
    o.network = server_address & pool.netmask;
    o.range = std::make_pair(pool.start, pool.end);
    o.lease_time = std::chrono::seconds(pool.lease_time);
    o.file = pool.leases_file;
    return o;
}

pib::dhcp::NetworkConfig network_config(const pib::netbootd::DhcpPool& pool) {
    pib::dhcp::NetworkConfig n;
    n.netmask = to_wire(pool.netmask);
    if (pool.router) n.routers.push_back(to_wire(*pool.router));
    for (std::uint32_t d : pool.dns) n.dns.push_back(to_wire(d));
    return n;
}

LeaseStore::LeaseStore(LeaseStoreOptions options, const ReservationSource& reservations,
                       const pib::Logger& log)
    : options_(std::move(options)), reservations_(reservations), log_(log) {}

pib::Result<std::unique_ptr<LeaseStore>> LeaseStore::open(LeaseStoreOptions options,
                                                          const ReservationSource& reservations,
                                                          const pib::Logger& log) {
    if (options.range && options.range->second < options.range->first)
        return fail(Errc::invalid, "dhcp leases: pool ends before it starts");
    std::unique_ptr<LeaseStore> store(new LeaseStore(std::move(options), reservations, log));
    if (store->options_.file.empty()) return store;
    PIB_TRY(store->load());
    PIB_TRY(store->persist(TimePoint::min()));  // prunes nothing: no clock in here
    return store;
}

pib::Status LeaseStore::load() {
    const auto& file = options_.file;
    // write_file_atomic's temporaries (".<name>.tmp-XXXXXX"): a crash between
    // create and rename leaves one; the file itself is then the previous version.
    const auto dir = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    const std::string stale = "." + file.filename().string() + ".tmp-";
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
        if (e.path().filename().string().rfind(stale, 0) != 0) continue;
        std::filesystem::remove(e.path(), ec);
        log_.event(Level::info, "dhcp", "leases_stale_temp_removed").kv("file", e.path().string());
    }
    auto text = pib::read_file(file);
    if (!text) {
        if (text.error().code == Errc::not_found) return {};
        return text.error();
    }
    Json j;
    try {
        j = Json::parse(*text);
    } catch (const Json::parse_error& e) {
        return fail(Errc::corrupted,
                    parse_error_text(file, *text, e.byte, e.what()) +
                        " (leases are written atomically, so this file was changed by "
                        "hand or by a failing disk; fix it or move it aside)");
    }
    std::vector<std::string> errors;
    EntryReader top(j, file, "", errors);
    if (top.check_keys({"format", "leases", "declined"})) {
        if (auto f = top.string("format", true); f && *f != kFormat)
            top.error("format", "is '" + *f + "', expected '" + kFormat + "'");
        const Json& list = j.contains("leases") ? j["leases"] : Json::array();
        if (!list.is_array()) top.error("leases", "expected a list");
        for (std::size_t i = 0; list.is_array() && i < list.size(); ++i) {
            EntryReader r(list[i], file, "leases[" + std::to_string(i) + "]", errors);
            if (!r.check_keys({"address", "hwaddr", "expires", "hostname"})) continue;
            auto address = r.address("address");
            auto mac_text = r.string("hwaddr", true);
            auto mac = mac_text ? parse_mac(*mac_text) : std::nullopt;
            if (mac_text && !mac)
                r.error("hwaddr", "not a colon-separated hardware address: " + *mac_text);
            auto expires = r.seconds("expires");
            auto hostname = r.string("hostname", false);
            if (!address || !mac || !expires) continue;
            const std::string key = client_key(*mac);
            if (leases_.count(*address) || by_client_.count(key)) {
                r.error("", "a second lease for " + ipv4_string(*address) + " or " + key);
                continue;
            }
            leases_[*address] = Record{*mac, from_unix(*expires), hostname.value_or("")};
            by_client_[key] = *address;
        }
        const Json& declined = j.contains("declined") ? j["declined"] : Json::array();
        if (!declined.is_array()) top.error("declined", "expected a list");
        for (std::size_t i = 0; declined.is_array() && i < declined.size(); ++i) {
            EntryReader r(declined[i], file, "declined[" + std::to_string(i) + "]", errors);
            if (!r.check_keys({"address", "until"})) continue;
            auto address = r.address("address");
            auto until = r.seconds("until");
            if (address && until) declined_[*address] = from_unix(*until);
        }
    }
    if (!errors.empty()) {
        std::string all;
        for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
        return fail(Errc::corrupted, all);
    }
    log_.event(Level::info, "dhcp", "leases_loaded")
        .kv("file", file.string())
        .kv("leases", static_cast<std::uint64_t>(leases_.size()))
        .kv("declined", static_cast<std::uint64_t>(declined_.size()));
    return {};
}

pib::Status LeaseStore::persist(TimePoint now) {
    if (options_.file.empty()) return {};
    Json list = Json::array();
    for (const auto& [a, rec] : leases_) {
        Json e = {{"address", ipv4_string(a)},
                  {"hwaddr", client_key(rec.hwaddr)},
                  {"expires", unix_seconds(rec.expires)}};
        if (!rec.hostname.empty()) e["hostname"] = rec.hostname;
        list.push_back(std::move(e));
    }
    std::erase_if(declined_, [&](const auto& kv) { return kv.second <= now; });
    Json declined = Json::array();
    for (const auto& [a, until] : declined_)
        declined.push_back({{"address", ipv4_string(a)}, {"until", unix_seconds(until)}});
    Json j = {{"format", kFormat}, {"leases", std::move(list)}, {"declined", std::move(declined)}};
    auto st = pib::write_file_atomic(options_.file, j.dump(2) + "\n", 0644);
    if (!st) {
        log_.event(Level::error, "dhcp", "leases_write_failed")
            .kv("file", options_.file.string())
            .kv("reason", st.error().message);
    }
    return st;
}

bool LeaseStore::in_pool(std::uint32_t a) const {
    return options_.range && a >= options_.range->first && a <= options_.range->second;
}

LeaseStore::Conflict LeaseStore::conflict(std::uint32_t a, const std::string& client,
                                          const std::optional<Reservation>& reservation,
                                          TimePoint now) const {
    const bool reserved_here = reservation && reservation->address == a;
    if (!reserved_here && !in_subnet(a)) return Conflict::other_subnet;
    if (!reserved_here && !in_pool(a)) return Conflict::outside_pool;
    if (auto d = declined_.find(a); d != declined_.end() && d->second > now)
        return Conflict::declined;
    if (auto l = leases_.find(a);
        l != leases_.end() && l->second.expires > now && client_key(l->second.hwaddr) != client)
        return Conflict::leased;
    if (auto o = offers_.find(a);
        o != offers_.end() && o->second.until > now && o->second.client != client)
        return Conflict::offered;
    // Last: the inventory's lookup may be the slowest of these checks.
    if (!reserved_here && reservations_.is_reserved(a)) return Conflict::reserved_elsewhere;
    return Conflict::none;
}

std::string LeaseStore::unavailable(std::uint32_t a, const std::string& client,
                                    const std::optional<Reservation>& reservation,
                                    TimePoint now) const {
    const std::string addr = ipv4_string(a);
    switch (conflict(a, client, reservation, now)) {
        case Conflict::none:
            return "";
        case Conflict::other_subnet:
            return addr + " is not in this subnet";
        case Conflict::outside_pool:
            return addr + " is neither in the pool nor reserved for this client";
        case Conflict::declined:
            return addr + " was declined (in use by another host)";
        case Conflict::leased:
            return addr + " is leased to " + client_key(leases_.at(a).hwaddr);
        case Conflict::offered:
            return addr + " is offered to " + offers_.at(a).client;
        case Conflict::reserved_elsewhere:
            return addr + " is reserved for another client";
    }
    return addr + " is unavailable";
}

std::optional<std::uint32_t> LeaseStore::lease_of(const std::string& client) const {
    auto it = by_client_.find(client);
    if (it == by_client_.end()) return std::nullopt;
    return it->second;
}

std::optional<std::uint32_t> LeaseStore::offer_of(const std::string& client) const {
    for (const auto& [a, o] : offers_) {
        if (o.client == client) return a;
    }
    return std::nullopt;
}

std::optional<std::uint32_t> LeaseStore::lowest_free(const std::string& client,
                                                     const std::optional<Reservation>& reservation,
                                                     TimePoint now) const {
    if (!options_.range) return std::nullopt;
    // Never-used addresses first, so that an expired lease stays its client's
    // for as long as the pool allows; then the one expired longest ago.
    std::optional<std::uint32_t> reclaim;
    TimePoint oldest = TimePoint::max();
    for (std::uint64_t a = options_.range->first; a <= options_.range->second; ++a) {
        const auto addr = static_cast<std::uint32_t>(a);
        if (conflict(addr, client, reservation, now) != Conflict::none) continue;
        auto l = leases_.find(addr);
        if (l == leases_.end()) return addr;
        if (l->second.expires < oldest) {
            oldest = l->second.expires;
            reclaim = addr;
        }
    }
    return reclaim;
}

LeaseAnswer LeaseStore::hold(std::uint32_t a, const std::string& client,
                             const std::optional<Reservation>& r, TimePoint now) {
    if (auto old = offer_of(client); old && *old != a) offers_.erase(*old);
    offers_[a] = Offer{client, now + options_.offer_hold};
    LeaseAnswer ans{Verdict::grant, a, options_.lease_time, "", "", ""};
    if (r && r->address == a) {
        ans.hostname = r->hostname;
        ans.node = r->node;
    }
    return ans;
}

LeaseAnswer LeaseStore::offer(std::span<const std::uint8_t> hwaddr, std::uint32_t requested,
                              TimePoint now) {
    std::erase_if(offers_, [&](const auto& kv) { return kv.second.until <= now; });
    const std::string client = client_key(hwaddr);
    const auto r = reservations_.reservation_for(hwaddr);
    if (r) {
        const std::string why = unavailable(r->address, client, r, now);
        if (why.empty()) return hold(r->address, client, r, now);
        // The holder of a conflicting lease is NAKed at its next renewal
        // (request() below); until then this client gets a pool address.
        log_.event(Level::warn, "dhcp", "reservation_unavailable")
            .kv("mac", client)
            .kv("node", r->node)
            .kv("reason", why);
    }
    for (auto candidate :
         {offer_of(client), lease_of(client), std::optional<std::uint32_t>(requested)}) {
        if (candidate && *candidate != 0 && unavailable(*candidate, client, r, now).empty())
            return hold(*candidate, client, r, now);
    }
    if (auto a = lowest_free(client, r, now)) return hold(*a, client, r, now);
    return LeaseAnswer{Verdict::ignore, 0, {}, "", "", "no free address in the pool"};
}

LeaseAnswer LeaseStore::request(std::span<const std::uint8_t> hwaddr, Kind kind, std::uint32_t a,
                                TimePoint now) {
    std::erase_if(offers_, [&](const auto& kv) { return kv.second.until <= now; });
    const std::string client = client_key(hwaddr);
    const auto r = reservations_.reservation_for(hwaddr);
    auto refuse = [&](std::string why) {
        return LeaseAnswer{Verdict::refuse, a, {}, "", "", std::move(why)};
    };
    // A client holding some other address than its (now free) reservation is
    // moved there: the NAK sends it back to DISCOVER, which offers the reservation.
    if (r && r->address != a && kind != Kind::select &&
        unavailable(r->address, client, r, now).empty())
        return refuse("reserved address is " + ipv4_string(r->address));
    if (std::string why = unavailable(a, client, r, now); !why.empty()) return refuse(why);
    return commit(a, hwaddr, r, now);
}

LeaseAnswer LeaseStore::commit(std::uint32_t a, std::span<const std::uint8_t> hwaddr,
                               const std::optional<Reservation>& r, TimePoint now) {
    const std::string client = client_key(hwaddr);
    // Remember what changes, to put it back when the file cannot be written.
    std::optional<std::pair<std::uint32_t, Record>> own;  // the client's lease on another address
    std::optional<Record> previous;                       // whoever had `a` before
    if (auto old = lease_of(client); old && *old != a) {
        own.emplace(*old, leases_.at(*old));
        leases_.erase(*old);
    }
    if (auto prev = leases_.find(a); prev != leases_.end()) {
        previous = prev->second;
        by_client_.erase(client_key(prev->second.hwaddr));
    }
    const std::string hostname = r && r->address == a ? r->hostname : "";
    leases_[a] = Record{std::vector<std::uint8_t>(hwaddr.begin(), hwaddr.end()),
                        now + options_.lease_time, hostname};
    by_client_[client] = a;
    if (!persist(now)) {
        leases_.erase(a);
        by_client_.erase(client);
        if (previous) {
            leases_[a] = *previous;
            by_client_[client_key(previous->hwaddr)] = a;
        }
        if (own) {
            leases_[own->first] = own->second;
            by_client_[client] = own->first;
        }
        return LeaseAnswer{
            Verdict::ignore, a, {}, "", "", "lease file not writable; no ACK without a record"};
    }
    offers_.erase(a);
    return LeaseAnswer{
        Verdict::grant, a, options_.lease_time, hostname, r && r->address == a ? r->node : "", ""};
}

void LeaseStore::decline(std::span<const std::uint8_t> hwaddr, std::uint32_t a, TimePoint now) {
    const std::string client = client_key(hwaddr);
    // Only the client the address was offered or leased to may take it out of
    // service; anyone else's DECLINE would be a way to drain the pool.
    const bool its = lease_of(client) == a || offer_of(client) == a;
    if (!its) return;
    if (auto l = leases_.find(a); l != leases_.end() && client_key(l->second.hwaddr) == client) {
        leases_.erase(l);
        by_client_.erase(client);
    }
    offers_.erase(a);
    declined_[a] = now + options_.decline_quarantine;
    log_.event(Level::warn, "dhcp", "address_declined").kv("mac", client).kv("ip", ipv4_string(a));
    [[maybe_unused]] auto st = persist(now);  // logged; memory stays right either way
}

void LeaseStore::release(std::span<const std::uint8_t> hwaddr, std::uint32_t a, TimePoint now) {
    const std::string client = client_key(hwaddr);
    auto l = leases_.find(a);
    if (l == leases_.end() || client_key(l->second.hwaddr) != client || l->second.expires <= now)
        return;
    l->second.expires = now;
    // Unwritten, the old expiry only keeps the address out of the pool longer.
    [[maybe_unused]] auto st = persist(now);
}

void LeaseStore::forget_offer(std::span<const std::uint8_t> hwaddr) {
    if (auto a = offer_of(client_key(hwaddr))) offers_.erase(*a);
}

std::vector<Lease> LeaseStore::leases() const {
    std::vector<Lease> out;
    for (const auto& [a, rec] : leases_)
        out.push_back(Lease{a, rec.hwaddr, rec.expires, rec.hostname});
    return out;
}

}  // namespace netbootd
