// The fleet commands read netbootd's config (issue 11): with --config or
// $PIB_CONFIG naming it, `pibuild status` and friends need no other flag;
// explicit flags still win; a config that is named but unreadable or wrong
// is an error with its file:line:col; `nodes render|verify` read it too.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/fleet_fixture.hpp"
#include "store/fleet_state.hpp"

namespace pib {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::fleet::Output;
using test::fleet::pibuild;
using test::fleet::run_split;
using test::fleet::Store;

json parse(const Output& r) { return test::fleet::parse_json(r); }

// An installed layout: store, key pair and inventory where netbootd's config
// says, none of them where the store-relative defaults would look.
struct Installed {
    Store s{0};
    fs::path etc = s.path("etc");
    fs::path config = etc / "netbootd.yaml";
    fs::path state = s.path("state") / "fleet.db";

    Installed() {
        fs::create_directories(etc);
        fs::create_directories(state.parent_path());
        fs::remove(s.store() / "fleet.pub");
        fs::remove(s.store() / "nodes.yaml");
        EXPECT_TRUE(write_key_pair(etc / "fleet", s.signing_key()).ok());
        test::write_text(etc / "nodes.yaml", test::fleet::inventory_yaml(3));
        test::write_text(config, "store: " + s.store().string() +
                                     "\ninventory: " + (etc / "nodes.yaml").string() +
                                     "\npublic-key: " + (etc / "fleet.pub").string() + "\nstate: " +
                                     state.string() + "\nlisten:\n  address: 127.0.0.1\n");
    }
    /// pibuild <args> with nothing but the config.
    Output cli(std::vector<std::string> args, const std::vector<std::string>& env) const {
        args.insert(args.begin(), pibuild());
        return run_split(args, env);
    }
    std::string env() const { return "PIB_CONFIG=" + config.string(); }
};

TEST(FleetConfig, EverythingFromTheConfig) {
    Installed i;
    const std::string a = i.s.build("1.0");
    // publish finds the store and key through $PIB_CONFIG, channel set the state.
    auto r = i.cli({"publish", i.s.src("1.0").string()}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::exists(i.s.store() / "releases" / a));
    r = i.cli({"channel", "set", "stable", a}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(fs::exists(i.state));  // the config's state, not <store>/state.db
    EXPECT_FALSE(fs::exists(i.s.store() / "state.db"));
    // status: the config's inventory, no flags at all.
    r = i.cli({"status", "--json"}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    auto j = parse(r);
    ASSERT_EQ(j.size(), 3u);
    EXPECT_EQ(j[0]["desired_release"], a);
    EXPECT_EQ(j[0]["release"], a);  // verified with the config's public key
    // --config works as $PIB_CONFIG does.
    r = i.cli({"node", "list", "--config", i.config.string()}, {});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("node-003"), std::string::npos) << r.out;
    r = i.cli({"release", "list", "--json", "--config", i.config.string()}, {});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)[0]["verified"], true);
    EXPECT_EQ(parse(r)[0]["used_by"]["channels"], json({"stable"}));
}

TEST(FleetConfig, FlagsWin) {
    Installed i;
    const std::string a = i.s.build("1.0");
    ASSERT_EQ(i.cli({"publish", i.s.src("1.0").string()}, {i.env()}).code, 0);
    // --inventory wins over the config's.
    test::write_text(i.s.path("other.yaml"), test::fleet::inventory_yaml(1));
    auto r = i.cli({"status", "--json", "--inventory", i.s.path("other.yaml").string()}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 1u);
    // --pubkey wins: a foreign key does not verify the release.
    ASSERT_TRUE(write_key_pair(i.s.path("foreign"), test::fleet::key(99)).ok());
    r = i.cli({"channel", "set", "stable", a, "--pubkey", i.s.path("foreign.pub").string()},
              {i.env()});
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
    // --store names another store: its own state and store-relative defaults.
    Store other(2);
    r = i.cli({"status", "--json", "--store", other.store().string()}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 3u);  // the config's inventory still applies (named explicitly)
    EXPECT_TRUE(fs::exists(other.store() / "state.db"));
    // Without any config the old defaults apply: <store>/nodes.yaml, <store>/fleet.pub.
    r = other.cli({"status", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 2u);
}

TEST(FleetConfig, NamedConfigMustBeGood) {
    Installed i;
    // Named but missing.
    auto r = i.cli({"status"}, {"PIB_CONFIG=" + i.s.path("missing.yaml").string()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find(i.s.path("missing.yaml").string()), std::string::npos) << r.err;
    // Named and wrong: netbootd's own messages, at file:line:col.
    test::write_text(i.s.path("bad.yaml"),
                     "store: " + i.s.store().string() +
                         "\npublic-key: /etc/netbootd/fleet.pub\nlisten: {address: 127.0.0.1}\n"
                         "inventroy: /etc/netbootd/nodes.yaml\n");
    r = i.cli({"status", "--config", i.s.path("bad.yaml").string()}, {});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find(i.s.path("bad.yaml").string() + ":4:1:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("inventroy"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--config FILE"), std::string::npos) << r.err;
    // A config whose inventory is gone: that file is required.
    fs::remove(i.etc / "nodes.yaml");
    r = i.cli({"status"}, {i.env()});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find((i.etc / "nodes.yaml").string()), std::string::npos) << r.err;
}

// /etc/netbootd/netbootd.yaml itself, in a private mount namespace whose /etc
// is an overlay (the host's /etc is not touched): read when present and no
// store is chosen, or when --store names the configured store.
TEST(FleetConfig, DefaultPathIsReadWhenPresent) {
    ASSERT_TRUE(test::is_root()) << "needs a mount namespace";
    Installed i;
    const fs::path upper = i.s.path("etc-upper"), work = i.s.path("etc-work");
    fs::create_directories(upper / "netbootd");
    fs::create_directories(work);
    Store other(2);
    auto in_ns = [&](const std::string& config_text, const std::string& args) {
        test::write_text(upper / "netbootd" / "netbootd.yaml", config_text);
        const std::string script =
            "mount -t overlay overlay -o lowerdir=/etc,upperdir=" + upper.string() +
            ",workdir=" + work.string() + " /etc && exec " + pibuild() + " " + args;
        return run_split({"unshare", "-m", "--propagation", "private", "sh", "-c", script});
    };
    const std::string good = test::read_text(i.config);
    auto r = in_ns(good, "status --json");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 3u);  // the config's inventory, no flag
    r = in_ns(good, "status --json --store " + i.s.store().string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 3u);  // the configured store: still the config's inventory
    r = in_ns(good, "status --json --store " + other.store().string());
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r).size(), 2u);  // another store: its own nodes.yaml
    // Present but wrong: an error at its file:line:col, not silently ignored.
    r = in_ns(good + "colour: blue\n", "status");
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("/etc/netbootd/netbootd.yaml:7:1: colour: unknown key"), std::string::npos)
        << r.err;
}

TEST(FleetConfig, NodesRenderAndVerifyReadTheConfig) {
    ASSERT_TRUE(test::is_root()) << "rendering overlays needs root";
    Installed i;
    // The signing key is the config's public key's sibling: etc/fleet.key.
    auto r =
        i.cli({"nodes", "render", "--json", "--secrets", i.s.path("secrets").string()}, {i.env()});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["nodes"].size(), 3u);
    EXPECT_TRUE(fs::exists(i.s.store() / "overlays" / "node-001"));
    r = i.cli({"nodes", "verify", "--config", i.config.string(), "--json"}, {});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(parse(r)["ok"], true);
    // Without a config and without --key: asked for, as before.
    r = i.cli({"nodes", "render", "--store", i.s.store().string(), "--inventory",
               (i.etc / "nodes.yaml").string()},
              {});
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.err.find("--key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pib
