// Valid inventories become Inventory values: every key, the defaults merge,
// serial and MAC normalisation, and the lookups netbootd makes.
#include <gtest/gtest.h>

#include "inventory/inventory_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::inventory::test {
namespace {

constexpr Ipv4 ip(unsigned a, unsigned b, unsigned c, unsigned d) {
    return a << 24 | b << 16 | c << 8 | d;
}

TEST(Inventory, FullNodeWithEveryKey) {
    Inventory inv = parse_ok(
        "nodes:\n"
        "  - name: pi-01\n"
        "    hostname: Pi-01.Lab.Example.NET\n"
        "    serial: 1A2B3C4D\n"
        "    mac: [dc:a6:32:01:02:03, DC-A6-32-01-02-04]\n"
        "    release: demo-rpi4-1.0-20260101T000000Z\n"
        "    network: {address: 192.168.1.50/24, gateway: 192.168.1.1, dns: [192.168.1.1, "
        "1.1.1.1]}\n"
        "    fstab:\n"
        "      - {device: \"nas:/srv/data\", mountpoint: /data, type: nfs4, options: "
        "\"ro,noauto\", dump: 1, pass: 2}\n"
        "      - {device: /dev/sda2, mountpoint: none, type: swap}\n"
        "    authorized-keys: [\"" +
        kOpsKey + "\", '" + "from=\"10.0.0.0/8\" " + kEcdsaKey +
        "']\n"
        "    files:\n"
        "      - {path: /etc/motd, content: \"hello\\n\", mode: \"0600\", owner: app, group: "
        "\"1000\"}\n"
        "      - {path: //etc/./app.conf, source: files/app.conf, mode: 755}\n"
        "    labels: {rack: 3, role: worker}\n"
        "    kernel-args: console=ttyAMA0,115200\n");
    ASSERT_EQ(inv.nodes.size(), 1u);
    const Node& n = inv.nodes[0];
    EXPECT_EQ(inv.file, "nodes.yaml");
    EXPECT_EQ(n.name, "pi-01");
    EXPECT_EQ(n.hostname, "pi-01.lab.example.net");
    EXPECT_EQ(n.serial, "1a2b3c4d");
    ASSERT_EQ(n.macs.size(), 2u);
    EXPECT_EQ(n.macs[0].text(), "dc:a6:32:01:02:03");
    EXPECT_EQ(n.macs[1].text(), "dc:a6:32:01:02:04");
    EXPECT_EQ(n.release, "demo-rpi4-1.0-20260101T000000Z");
    EXPECT_EQ(n.channel, "stable");
    ASSERT_TRUE(n.network);
    EXPECT_EQ(n.network->address, ip(192, 168, 1, 50));
    EXPECT_EQ(n.network->prefix, 24);
    EXPECT_EQ(n.network->gateway, ip(192, 168, 1, 1));
    EXPECT_EQ(n.network->dns, (std::vector<Ipv4>{ip(192, 168, 1, 1), ip(1, 1, 1, 1)}));
    ASSERT_EQ(n.fstab.size(), 2u);
    EXPECT_EQ(n.fstab[0].device, "nas:/srv/data");
    EXPECT_EQ(n.fstab[0].mountpoint, "/data");
    EXPECT_EQ(n.fstab[0].type, "nfs4");
    EXPECT_EQ(n.fstab[0].options, "ro,noauto");
    EXPECT_EQ(n.fstab[0].dump, 1);
    EXPECT_EQ(n.fstab[0].pass, 2);
    EXPECT_EQ(n.fstab[1].options, "defaults");
    EXPECT_EQ(n.fstab[1].dump, 0);
    EXPECT_EQ(n.fstab[1].pass, 0);
    EXPECT_EQ(n.authorized_keys,
              (std::vector<std::string>{kOpsKey, "from=\"10.0.0.0/8\" " + kEcdsaKey}));
    ASSERT_EQ(n.files.size(), 2u);
    EXPECT_EQ(n.files[0].path, "/etc/motd");
    EXPECT_EQ(n.files[0].content, "hello\n");
    EXPECT_FALSE(n.files[0].source);
    EXPECT_EQ(n.files[0].mode, 0600u);
    EXPECT_EQ(n.files[0].owner, "app");
    EXPECT_EQ(n.files[0].group, "1000");
    EXPECT_EQ(n.files[1].path, "/etc/app.conf");
    EXPECT_FALSE(n.files[1].content);
    EXPECT_EQ(n.files[1].source, std::filesystem::current_path() / "files/app.conf");
    EXPECT_EQ(n.files[1].mode, 0755u);
    EXPECT_EQ(n.files[1].owner, "root");
    EXPECT_EQ(n.files[1].group, "root");
    EXPECT_EQ(n.labels, (std::map<std::string, std::string>{{"rack", "3"}, {"role", "worker"}}));
    EXPECT_EQ(n.kernel_args, "console=ttyAMA0,115200");
    EXPECT_EQ(n.pos, (SourcePos{2, 5}));
}

TEST(Inventory, MinimalNodeGetsTheDefaults) {
    Inventory inv = parse_ok("nodes:\n  - {name: pi-01, mac: dc:a6:32:01:02:03}\n");
    ASSERT_EQ(inv.nodes.size(), 1u);
    const Node& n = inv.nodes[0];
    EXPECT_EQ(n.hostname, "pi-01");
    EXPECT_FALSE(n.serial);
    EXPECT_EQ(n.channel, "stable");
    EXPECT_FALSE(n.release);
    EXPECT_FALSE(n.network);
    EXPECT_TRUE(n.fstab.empty());
    EXPECT_TRUE(n.authorized_keys.empty());
    EXPECT_TRUE(n.files.empty());
    EXPECT_TRUE(n.labels.empty());
    EXPECT_EQ(n.kernel_args, "");
}

TEST(Inventory, EmptyFleet) {
    Inventory inv = parse_ok("nodes: []\n");
    EXPECT_TRUE(inv.nodes.empty());
    EXPECT_EQ(inv.by_name("pi-01"), nullptr);
}

TEST(Inventory, DefaultsApplyUnlessTheNodeSetsTheKey) {
    Inventory inv = parse_ok(
        "defaults:\n"
        "  channel: canary\n"
        "  authorized-keys: [\"" +
        kAdminKey +
        "\"]\n"
        "  fstab: [{device: \"nas:/home\", mountpoint: /home, type: nfs4}]\n"
        "  files: [{path: /etc/motd, content: lab}]\n"
        "  labels: {site: lab, rack: \"1\"}\n"
        "  kernel-args: quiet\n"
        "nodes:\n"
        "  - {name: a, serial: \"00000001\"}\n"
        "  - name: b\n"
        "    serial: \"00000002\"\n"
        "    release: r1\n"
        "    authorized-keys: []\n"
        "    fstab: []\n"
        "    files: [{path: /etc/issue, content: b}]\n"
        "    labels: {rack: \"2\", role: db}\n"
        "    kernel-args: \"\"\n"
        "  - {name: c, serial: \"00000003\", channel: stable}\n");
    ASSERT_EQ(inv.nodes.size(), 3u);
    const Node& a = inv.nodes[0];
    EXPECT_EQ(a.channel, "canary");
    EXPECT_FALSE(a.release);
    EXPECT_EQ(a.authorized_keys, std::vector<std::string>{kAdminKey});
    ASSERT_EQ(a.fstab.size(), 1u);
    EXPECT_EQ(a.fstab[0].mountpoint, "/home");
    ASSERT_EQ(a.files.size(), 1u);
    EXPECT_EQ(a.files[0].content, "lab");
    EXPECT_EQ(a.labels, (std::map<std::string, std::string>{{"rack", "1"}, {"site", "lab"}}));
    EXPECT_EQ(a.kernel_args, "quiet");

    const Node& b = inv.nodes[1];
    EXPECT_EQ(b.release, "r1");
    EXPECT_TRUE(b.authorized_keys.empty());
    EXPECT_TRUE(b.fstab.empty());
    ASSERT_EQ(b.files.size(), 1u);  // lists are replaced, not joined
    EXPECT_EQ(b.files[0].path, "/etc/issue");
    EXPECT_EQ(b.labels,
              (std::map<std::string, std::string>{{"rack", "2"}, {"role", "db"}, {"site", "lab"}}));
    EXPECT_EQ(b.kernel_args, "");

    EXPECT_EQ(inv.nodes[2].channel, "stable");
}

TEST(Inventory, DefaultReleaseGivesWayToANodesChannel) {
    Inventory inv = parse_ok(
        "defaults: {release: r1}\n"
        "nodes:\n"
        "  - {name: a, serial: \"00000001\"}\n"
        "  - {name: b, serial: \"00000002\", channel: canary}\n");
    EXPECT_EQ(inv.nodes[0].release, "r1");
    EXPECT_FALSE(inv.nodes[1].release);
    EXPECT_EQ(inv.nodes[1].channel, "canary");
}

TEST(Inventory, SerialsAreNormalisedToTheLastEightHexDigitsInLowerCase) {
    EXPECT_EQ(normalise_serial("1a2b3c4d"), "1a2b3c4d");
    EXPECT_EQ(normalise_serial("1A2B3C4D"), "1a2b3c4d");
    EXPECT_EQ(normalise_serial("0x1A2B3C4D"), "1a2b3c4d");
    EXPECT_EQ(normalise_serial("100000001A2B3C4D"), "1a2b3c4d");
    EXPECT_EQ(normalise_serial("0x100000001a2b3c4d"), "1a2b3c4d");
    for (std::string_view bad : {"", "1a2b3c4", "1a2b3c4d5", "1a2b3c4g", "0x", "0x1a2b3c4",
                                 "1000000001a2b3c4d", " 1a2b3c4d"})
        EXPECT_FALSE(normalise_serial(bad)) << bad;

    Inventory inv = parse_ok(
        "nodes:\n"
        "  - {name: a, serial: 0x100000001A2B3C4D}\n"
        "  - {name: b, serial: 12345678}\n");
    EXPECT_EQ(inv.nodes[0].serial, "1a2b3c4d");
    EXPECT_EQ(inv.nodes[1].serial, "12345678");
}

TEST(Inventory, MacAddresses) {
    auto m = parse_mac("DC:A6:32:0a:0B:ff");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->bytes, (std::array<std::uint8_t, 6>{0xdc, 0xa6, 0x32, 0x0a, 0x0b, 0xff}));
    EXPECT_EQ(m->text(), "dc:a6:32:0a:0b:ff");
    EXPECT_EQ(m->dashed(), "dc-a6-32-0a-0b-ff");
    EXPECT_EQ(parse_mac("dc-a6-32-0a-0b-ff"), m);
    for (std::string_view bad :
         {"", "dc:a6:32:0a:0b", "dc:a6:32:0a:0b:ff:00", "dc:a6-32:0a:0b:ff", "dc.a6.32.0a.0b.ff",
          "dca6320a0bff", "dc:a6:32:0a:0b:fg", "d:ca6:32:0a:0b:ff", "dc:a6:32:0a:0b:f "})
        EXPECT_FALSE(parse_mac(bad)) << bad;

    Inventory inv = parse_ok("nodes:\n  - {name: a, mac: DC-A6-32-01-02-03}\n");
    ASSERT_EQ(inv.nodes[0].macs.size(), 1u);
    EXPECT_EQ(inv.nodes[0].macs[0].text(), "dc:a6:32:01:02:03");
}

TEST(Inventory, Lookups) {
    std::string text = "nodes:\n";
    for (int i = 0; i < 1000; ++i) {
        char line[128];
        std::snprintf(line, sizeof line,
                      "  - {name: n%d, serial: \"%08x\", mac: [\"02:00:00:00:%02x:%02x\"]}\n", i,
                      0x10000 + i, i >> 8, i & 255);
        text += line;
    }
    Inventory inv = parse_ok(text);
    ASSERT_EQ(inv.nodes.size(), 1000u);
    EXPECT_EQ(inv.name_index.size(), 1000u);
    const Node* n = inv.by_name("n517");
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->name, "n517");
    EXPECT_EQ(inv.by_serial("00010205"), n);  // 0x10000 + 517
    EXPECT_EQ(inv.by_mac(*parse_mac("02:00:00:00:02:05")), n);
    EXPECT_EQ(inv.by_name("n1000"), nullptr);
    EXPECT_EQ(inv.by_serial("00020000"), nullptr);
    EXPECT_EQ(inv.by_mac(*parse_mac("02:00:00:00:ff:ff")), nullptr);

    // The indexes hold positions, not pointers: a copy looks up in its own nodes.
    const Inventory copy = inv;
    EXPECT_EQ(copy.by_name("n517"), &copy.nodes[517]);

    // Built by hand: a scan until reindex().
    Inventory by_hand{.nodes = {Node{.name = "x", .serial = "0000000a"}}};
    EXPECT_EQ(by_hand.by_serial("0000000a"), &by_hand.nodes[0]);
    by_hand.reindex();
    EXPECT_EQ(by_hand.by_name("x"), &by_hand.nodes[0]);
    EXPECT_EQ(by_hand.by_serial("0000000a"), &by_hand.nodes[0]);
    EXPECT_EQ(by_hand.by_serial("0000000b"), nullptr);
}

}  // namespace
}  // namespace pib::inventory::test
