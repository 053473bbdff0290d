// BootService's decisions: what each kind of firmware is told for a known
// node, an unknown client with and without a root-fallback release, and what
// full-mode DHCP reserves — over a real store, inventory and fleet state; and
// how the fleet state decides (pins, rollouts, rollback), changed from another
// connection as the CLI would, seen at the next request with one read.
#include <gtest/gtest.h>

#include "dhcp/pxe.hpp"
#include "inventory/inventory.hpp"
#include "netbootd/boot_service.hpp"
#include "store/fleet_state.hpp"
#include "store_fixture.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using pib::dhcp::ClientInfo;
using pib::dhcp::ClientKind;

namespace {

struct World {
    pib::test::TempDir dir;
    pib::Logger log;
    std::string pc_id, pi_id, pc2_id;
    std::unique_ptr<pib::store::FleetState> state;
    std::unique_ptr<netbootd::CatalogLoader> loader;
    std::unique_ptr<netbootd::BootService> svc;

    explicit World(std::optional<std::string> fallback = std::nullopt) {
        const fs::path releases = dir.path() / "releases";
        fs::create_directories(releases);
        auto key = netbootd::test::fixed_key();
        pc_id = netbootd::test::make_release(releases, "pc", "pc",
                                             {{"root.squashfs", "r"}, {"boot/vmlinuz", "k"}, {"boot/initrd.img", "i"},
                                              {"boot/cmdline.txt", "console=ttyS0\n"}},
                                             key);
        pc2_id = netbootd::test::make_release(releases, "pc2", "pc",
                                              {{"root.squashfs", "r2"}, {"boot/vmlinuz", "k2"}, {"boot/initrd.img", "i2"}},
                                              key);
        pi_id = netbootd::test::make_release(releases, "pi", "rpi4",
                                             {{"root.squashfs", "r"}, {"boot/start4.elf", "s"}}, key);
        auto st = pib::store::open_sqlite_state(dir.path() / "state.db");
        EXPECT_TRUE(st.ok());
        state = std::move(*st);
        EXPECT_TRUE(state->set_channel("stable", pc_id, "test").ok());
        loader = std::make_unique<netbootd::CatalogLoader>(releases, key.public_key(), log);
        svc = std::make_unique<netbootd::BootService>(state.get(), log);

        auto cfg = std::make_shared<pib::netbootd::NetbootdConfig>();
        cfg->tftp.default_release = fallback == std::optional<std::string>("pc") ? std::optional(pc_id) : std::nullopt;
        pib::Diagnostics diags;
        auto inv = pib::inventory::parse_inventory(
            "nodes:\n"
            "  - name: pc-01\n    mac: 52:54:00:00:00:01\n    network: {address: 10.1.0.50/24}\n"
            "  - name: pi-01\n    serial: 1a2b3c4d\n    mac: dc:a6:32:00:00:01\n    release: " + pi_id + "\n"
            "  - name: lost\n    mac: 52:54:00:00:00:09\n    channel: nowhere\n",
            "nodes.yaml", diags);
        EXPECT_TRUE(inv.ok()) << diags.str();
        auto snap = std::make_shared<netbootd::Snapshot>();
        snap->config = cfg;
        snap->inventory = std::make_shared<const pib::inventory::Inventory>(std::move(*inv));
        snap->catalog = *loader->scan();
        snap->base_url = "http://10.1.0.1:8080";
        snap->reserved_addresses = {0x0a010032};
        svc->set_snapshot(snap);
    }

    std::optional<pib::dhcp::BootDecision> decide(ClientKind kind, std::vector<std::uint8_t> mac) {
        ClientInfo c;
        c.kind = kind;
        c.hwaddr = std::move(mac);
        return svc->policy().decide(c);
    }
};

const std::vector<std::uint8_t> kPc = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
const std::vector<std::uint8_t> kPi = {0xdc, 0xa6, 0x32, 0x00, 0x00, 0x01};
const std::vector<std::uint8_t> kLost = {0x52, 0x54, 0x00, 0x00, 0x00, 0x09};
const std::vector<std::uint8_t> kStranger = {0x52, 0x54, 0x00, 0x77, 0x77, 0x77};

TEST(BootPolicy, EachFirmwareGetsWhatItCanBoot) {
    World w;
    auto bios = w.decide(ClientKind::bios_pxe, kPc);
    ASSERT_TRUE(bios);
    EXPECT_EQ(bios->boot_file, "undionly.kpxe");
    EXPECT_FALSE(bios->pi_menu);
    EXPECT_EQ(w.decide(ClientKind::uefi_x64, kPc)->boot_file, "ipxe.efi");
    EXPECT_EQ(w.decide(ClientKind::ipxe, kPc)->boot_file, "http://10.1.0.1:8080/ipxe/52-54-00-00-00-01.ipxe");
    EXPECT_EQ(w.decide(ClientKind::uefi_http, kPc)->boot_file, "http://10.1.0.1:8080/ipxe/ipxe.efi");
    auto pi = w.decide(ClientKind::raspberry_pi, kPi);
    ASSERT_TRUE(pi);
    EXPECT_TRUE(pi->pi_menu);
    EXPECT_EQ(pi->pi_menu_text, "Raspberry Pi Boot");
    // No loader for arm64 UEFI in Debian's ipxe package: stay silent.
    EXPECT_FALSE(w.decide(ClientKind::uefi_arm64, kPc));
}

TEST(BootPolicy, PiIsRecognisedBySerialInItsGuid) {
    World w;
    ClientInfo c;
    c.kind = ClientKind::raspberry_pi;
    c.hwaddr = {0xdc, 0xa6, 0x32, 0x99, 0x99, 0x99};  // a MAC the inventory does not list
    // GUID: "RPi4", board revision, MAC low bytes, serial 0x1a2b3c4d (little-endian).
    c.guid = pib::dhcp::ClientGuid{};
    const std::uint8_t g[] = {'R', 'P', 'i', '4', 0x11, 0x31, 0xc0, 0x00, 0x32, 0x99, 0x99, 0x99, 0x4d, 0x3c, 0x2b, 0x1a};
    std::copy(std::begin(g), std::end(g), c.guid->id.begin());
    EXPECT_TRUE(w.svc->policy().decide(c));
}

TEST(BootPolicy, UnknownClientsGetTheFallbackOrSilence) {
    World refuse;
    EXPECT_FALSE(refuse.decide(ClientKind::bios_pxe, kStranger));
    EXPECT_FALSE(refuse.decide(ClientKind::raspberry_pi, kStranger));
    World fallback("pc");
    EXPECT_EQ(fallback.decide(ClientKind::bios_pxe, kStranger)->boot_file, "undionly.kpxe");
    EXPECT_EQ(fallback.decide(ClientKind::ipxe, kStranger)->boot_file,
              "http://10.1.0.1:8080/ipxe/52-54-00-77-77-77.ipxe");
}

// An unknown Pi is named in the log by what its option 97 says (serial,
// model, board revision), so it can be adopted without an SD card.
TEST(BootPolicy, UnknownPiIsLoggedWithSerialAndModel) {
    World w;
    std::vector<std::string> lines;
    w.log = pib::Logger([&](pib::Level, const std::string& line) { lines.push_back(line); });
    ClientInfo c;
    c.kind = ClientKind::raspberry_pi;
    c.hwaddr = {0xdc, 0xa6, 0x32, 0x55, 0x66, 0x77};
    c.guid = pib::dhcp::ClientGuid{};
    const std::uint8_t g[] = {'R', 'P', 'i', '5', 0x17, 0x40, 0xd0, 0x00, 0x32, 0x55, 0x66, 0x77, 0x10, 0x45, 0x15, 0x5b};
    std::copy(std::begin(g), std::end(g), c.guid->id.begin());
    EXPECT_FALSE(w.svc->policy().decide(c));
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_NE(lines[0].find("dhcp client_ignored mac=dc:a6:32:55:66:77 kind=raspberry_pi serial=5b154510 model=RPi5 "
                            "board_revision=0x"),
              std::string::npos)
        << lines[0];
    // Once per client per interval, not per packet.
    EXPECT_FALSE(w.svc->policy().decide(c));
    EXPECT_EQ(lines.size(), 1u);
}

TEST(BootPolicy, NodeWhoseChannelPointsNowhereIsNotAnswered) {
    World w("pc");
    // Known but unbootable: never silently booted as the fallback release.
    EXPECT_FALSE(w.decide(ClientKind::bios_pxe, kLost));
}

TEST(BootPolicy, ReservationsComeFromTheInventory) {
    World w;
    netbootd::InventoryReservations res(*w.svc);
    auto r = res.reservation_for(kPc);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->address, 0x0a010032u);
    EXPECT_EQ(r->hostname, "pc-01");
    EXPECT_EQ(r->node, "pc-01");
    EXPECT_FALSE(res.reservation_for(kPi)) << "no static address: the pool serves it";
    EXPECT_TRUE(res.is_reserved(0x0a010032));
    EXPECT_FALSE(res.is_reserved(0x0a010033));
}

TEST(BootPolicy, CmdlineAndScriptForStaticNode) {
    World w;
    auto s = w.svc->snapshot();
    auto t = w.svc->target_for(*s, *s->inventory->by_name("pc-01"));
    ASSERT_TRUE(t);
    EXPECT_EQ(t->reason, "channel stable");
    EXPECT_EQ(w.svc->kernel_cmdline(*s, *t),
              "console=ttyS0 pib.server=http://10.1.0.1:8080 pib.release=" + w.pc_id +
                  " pib.node=pc-01 ip=10.1.0.50:::255.255.255.0:pc-01::off");
}

/// The fleet state as the CLI sees it: another connection to the same database.
std::unique_ptr<pib::store::FleetState> cli_state(World& w) {
    auto st = pib::store::open_sqlite_state(w.dir.path() / "state.db");
    EXPECT_TRUE(st.ok());
    return st ? std::move(*st) : nullptr;
}

std::string boots(World& w, const std::string& node, std::string* reason = nullptr) {
    auto s = w.svc->snapshot();
    w.svc->refresh_fleet();  // what each request does first
    auto t = w.svc->target_for(*s, *s->inventory->by_name(node));
    if (reason) *reason = t ? t->reason : "";
    return t ? t->release->id : "none";
}

TEST(BootPolicy, FleetChangesAreSeenAtTheNextRequestWithOneRead) {
    World w;
    auto cli = cli_state(w);
    ASSERT_TRUE(cli);
    EXPECT_EQ(boots(w, "pc-01"), w.pc_id);
    const auto reads = w.svc->fleet_reads();
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.decide(ClientKind::ipxe, kPc));
    EXPECT_EQ(w.svc->fleet_reads(), reads) << "nothing changed: no full read";
    ASSERT_TRUE(cli->set_channel("stable", w.pc2_id, "cli").ok());
    EXPECT_EQ(boots(w, "pc-01"), w.pc2_id) << "no reload needed";
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(w.decide(ClientKind::ipxe, kPc));
    EXPECT_EQ(w.svc->fleet_reads(), reads + 1) << "one read per change";
    auto back = cli->rollback("stable", std::nullopt, "cli");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(boots(w, "pc-01"), w.pc_id);
}

TEST(BootPolicy, PinBeatsInventoryPinBeatsRolloutBeatsChannel) {
    World w;
    auto cli = cli_state(w);
    ASSERT_TRUE(cli);
    std::string why;
    pib::store::RolloutPlan plan;
    plan.channel = "stable";
    plan.to_release = w.pc2_id;
    plan.waves_spec = "1";
    plan.waves = {{"pc-01"}};
    plan.max_failures = 0;
    auto id = cli->start_rollout(plan, "cli");
    ASSERT_TRUE(id.ok()) << id.error().message;
    EXPECT_EQ(boots(w, "pc-01", &why), w.pc2_id);
    EXPECT_EQ(why, "rollout " + std::to_string(*id) + " wave 1");
    ASSERT_TRUE(cli->pin("pc-01", w.pc_id, "cli").ok());
    EXPECT_EQ(boots(w, "pc-01", &why), w.pc_id);
    EXPECT_EQ(why, "pinned");
    // pi-01 is pinned in the inventory; a pin in the state still wins.
    EXPECT_EQ(boots(w, "pi-01", &why), w.pi_id);
    EXPECT_EQ(why, "inventory pin");
    ASSERT_TRUE(cli->pin("pi-01", w.pc2_id, "cli").ok());
    EXPECT_EQ(boots(w, "pi-01", &why), w.pc2_id);
    EXPECT_EQ(why, "pinned");
    ASSERT_TRUE(cli->unpin("pc-01", "cli").ok());
    EXPECT_EQ(boots(w, "pc-01"), w.pc2_id);
    // A rollback aborts the rollout: its nodes are served the old release at once.
    ASSERT_TRUE(cli->rollback("stable", w.pc_id, "cli").ok());
    EXPECT_EQ(boots(w, "pc-01", &why), w.pc_id);
    EXPECT_EQ(why, "channel stable");
}

TEST(BootPolicy, Placeholders) {
    EXPECT_EQ(netbootd::substitute_placeholders("a=@NODE@ b=@X@ c=@ d=@RELEASE@@", {{"NODE", "n1"}, {"RELEASE", "r"}}),
              "a=n1 b=@X@ c=@ d=r@");
}

}  // namespace
