// The fleet commands issue 11 added or changed, with the real pibuild binary
// on a real store: short release ids as tables print them, `channel set`
// refusing a channel no node could follow, `release list`, `node list` and
// `node show` (every field and where its value came from), text and --json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/fleet_fixture.hpp"
#include "store/fleet_state.hpp"

namespace pib {
namespace {

using nlohmann::json;
using test::fleet::Output;
using test::fleet::Store;

json parse(const Output& r) { return test::fleet::parse_json(r); }

// "fleet-1.0-3f2a9c" from "fleet-1.0-3f2a9c81d2e4", as pibuild status prints it.
std::string short_id(const std::string& id) { return id.substr(0, id.size() - 6); }

TEST(FleetVerbs, ShortIdsAcceptedWhenUnambiguous) {
    Store s;
    const std::string a = s.published("1.0"), b = s.published("1.1");
    // The short form that tables print works wherever an id is taken.
    auto r = s.cli({"channel", "set", "stable", short_id(a), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["release"], a);
    r = s.cli({"status"});
    EXPECT_NE(r.out.find(short_id(a)), std::string::npos) << r.out;
    r = s.cli({"node", "pin", "node-001", short_id(b), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["release"], b);
    r = s.cli({"rollout", short_id(b), "--channel", "stable", "--detach", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["to"], b);
    ASSERT_EQ(s.cli({"rollout", "abort", "--channel", "stable"}).code, 0);
    r = s.cli({"rollback", "--channel", "stable", "--to", short_id(b), "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["release"], b);
    // Ambiguous: both candidates named; nothing changed.
    r = s.cli({"channel", "set", "stable", "fleet-1."});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("ambiguous"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(a), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(b), std::string::npos) << r.err;
    EXPECT_EQ(parse(s.cli({"channel", "list", "--json"}))[0]["release"], b);
    // Unknown.
    r = s.cli({"node", "pin", "node-001", "fleet-7"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("release fleet-7 is not published"), std::string::npos) << r.err;
}

TEST(FleetVerbs, ChannelSetRefusesChannelsNoNodeFollows) {
    Store s(2);
    const std::string a = s.published("1.0");
    // Both nodes follow stable; "stabel" is a typo no node could ever follow.
    auto r = s.cli({"channel", "set", "stabel", a});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no node of the inventory"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("follows channel stabel"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("its nodes follow stable"), std::string::npos) << r.err;
    EXPECT_TRUE(parse(s.cli({"channel", "list", "--json"})).empty());
    // A channel a node names is fine, and so is the inventory's default
    // channel (what a node added without `channel:` follows).
    test::write_text(s.store() / "nodes.yaml",
                     "defaults: {channel: lab}\nnodes:\n"
                     "  - {name: n1, mac: '52:54:00:00:00:01', channel: canary}\n"
                     "  - {name: n2, mac: '52:54:00:00:00:02', release: " +
                         a + "}\n");
    EXPECT_EQ(s.cli({"channel", "set", "canary", a}).code, 0);
    EXPECT_EQ(s.cli({"channel", "set", "lab", a}).code, 0);
    // stable: n2 is pinned by the inventory and follows nothing.
    r = s.cli({"channel", "set", "stable", a});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("default channel (lab)"), std::string::npos) << r.err;
    // Without an inventory there is nothing to check against.
    std::filesystem::remove(s.store() / "nodes.yaml");
    EXPECT_EQ(s.cli({"channel", "set", "anything", a}).code, 0);
}

TEST(FleetVerbs, ReleaseListVerifiesAndSaysWhatUsesEach) {
    Store s(2);
    const std::string a = s.published("1.0"), b = s.published("2.0"), c = s.published("3.0");
    ASSERT_EQ(s.cli({"channel", "set", "stable", a}).code, 0);
    ASSERT_EQ(s.cli({"channel", "set", "stable", b}).code, 0);
    ASSERT_EQ(s.cli({"node", "pin", "node-002", a}).code, 0);
    // c is tampered with in the store.
    test::write_text(s.store() / "releases" / c / "boot/vmlinuz", "tampered");
    auto r = s.cli({"release", "list", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    ASSERT_EQ(j.size(), 3u);
    std::map<std::string, json> by_id;
    for (const auto& e : j) by_id[e["id"]] = e;
    EXPECT_EQ(by_id[a]["schema"], 1);
    EXPECT_EQ(by_id[a]["verified"], true);
    EXPECT_EQ(by_id[a]["name"], "fleet");
    EXPECT_EQ(by_id[a]["version"], "1.0");
    EXPECT_EQ(by_id[a]["arch"], "amd64");
    EXPECT_GT(by_id[a]["bytes"].get<std::uint64_t>(), 64u * 1024);
    EXPECT_EQ(by_id[a]["used_by"]["previous_of"], json({"stable"}));
    EXPECT_EQ(by_id[a]["used_by"]["pins"], json({"node-002"}));
    EXPECT_EQ(by_id[b]["used_by"]["channels"], json({"stable"}));
    EXPECT_EQ(by_id[c]["verified"], false);
    EXPECT_EQ(by_id[c]["name"], nullptr);  // an unverified manifest is not trusted
    EXPECT_EQ(by_id[c]["bytes"], nullptr);
    ASSERT_FALSE(by_id[c]["problems"].empty());
    EXPECT_NE(by_id[c]["problems"].dump().find("boot/vmlinuz"), std::string::npos)
        << by_id[c].dump();
    r = s.cli({"release", "list"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("RELEASE", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("channel stable"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pin node-002"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("NO: "), std::string::npos) << r.out;
}

TEST(FleetVerbs, NodeListAndShowWithOrigins) {
    Store s(0);
    const std::string a = s.published("1.0"), b = s.published("2.0");
    const std::string inv = (s.store() / "nodes.yaml").string();
    test::write_text(inv,
                     "defaults:\n"
                     "  channel: stable\n"
                     "  kernel-args: quiet\n"
                     "nodes:\n"
                     "  - name: pi-01\n"
                     "    serial: 1a2b3c4d\n"
                     "    hostname: pi-01.lab\n"
                     "  - name: pc-01\n"
                     "    mac: 52:54:00:00:00:01\n"
                     "    release: " +
                         a + "\n");
    ASSERT_EQ(s.cli({"channel", "set", "stable", b, "--window", "02:00-04:00"}).code, 0);
    // A node only the state knows (it reported; the inventory dropped it).
    {
        auto state = store::open_sqlite_state(s.store() / "state.db");
        ASSERT_TRUE(state.ok());
        store::BootReport rep;
        rep.node = "old-01";
        rep.release = a;
        rep.address = "10.0.0.9";
        ASSERT_TRUE((*state)->add_report(rep).ok());
    }
    auto r = s.cli({"node", "list", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["name"], "pi-01");
    EXPECT_EQ(j[0]["serial"], "1a2b3c4d");
    EXPECT_EQ(j[0]["channel"], "stable");
    EXPECT_EQ(j[0]["desired_release"], b);
    EXPECT_EQ(j[0]["release"], b);  // published and verifying: what netbootd serves
    EXPECT_EQ(j[0]["window"], "02:00-04:00");
    EXPECT_EQ(j[0]["address"], nullptr);
    EXPECT_EQ(j[1]["channel"], nullptr);
    EXPECT_EQ(j[1]["pinned"], a);
    EXPECT_EQ(j[1]["macs"], json({"52:54:00:00:00:01"}));
    EXPECT_EQ(j[2]["name"], "old-01");
    EXPECT_EQ(j[2]["hostname"], nullptr);
    EXPECT_EQ(j[2]["last_report"]["release"], a);
    EXPECT_EQ(j[2]["last_report"]["address"], "10.0.0.9");
    r = s.cli({"node", "list"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("NODE", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("1a2b3c4d"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("pin " + a.substr(0, a.size() - 6)), std::string::npos) << r.out;

    // Where each value of pi-01 came from.
    r = s.cli({"node", "show", "pi-01", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    j = parse(r);
    EXPECT_EQ(j["hostname"], "pi-01.lab");
    EXPECT_EQ(j["origins"]["hostname"], "inventory " + inv + ":7:5");
    EXPECT_EQ(j["origins"]["channel"], "inventory defaults at " + inv + ":2:3");
    EXPECT_EQ(j["origins"]["kernel_args"], "inventory defaults at " + inv + ":3:3");
    EXPECT_EQ(j["origins"]["root"], "built-in default (http)");
    EXPECT_NE(j["origins"]["desired_release"].get<std::string>().find("channel stable, set by "),
              std::string::npos)
        << j.dump(2);
    EXPECT_EQ(j["origins"]["window"], "channel stable");
    // A state pin wins, and says so.
    ASSERT_EQ(s.cli({"node", "pin", "pi-01", a}).code, 0);
    r = s.cli({"node", "show", "pi-01"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("FIELD", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("fleet state: pibuild node pin by "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("inventory " + inv + ":7:5"), std::string::npos) << r.out;
    j = parse(s.cli({"node", "show", "pc-01", "--json"}));
    EXPECT_EQ(j["origins"]["desired_release"], "inventory " + inv + ":10:5");
    j = parse(s.cli({"node", "show", "old-01", "--json"}));
    EXPECT_NE(j["origins"]["name"].get<std::string>().find("fleet state only"), std::string::npos)
        << j.dump(2);
    r = s.cli({"node", "show", "nobody"});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("no node nobody"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pib
