// The pure parts of an overlay: generated file texts, owner ids, refused
// paths, the tree's directories and modes, and overlay.json's one canonical
// serialisation.
#include "overlays/overlay_files.hpp"

#include <gtest/gtest.h>

#include "overlays/overlay_manifest.hpp"

namespace pib::overlays {
namespace {

inventory::Node node_with(std::vector<inventory::NodeFile> files,
                          std::vector<std::string> keys = {}) {
    inventory::Node n;
    n.name = "pi-01";
    n.hostname = "pi-01";
    n.files = std::move(files);
    n.authorized_keys = std::move(keys);
    n.pos = {7, 5};
    return n;
}

NodeSecrets secrets() {
    return {.machine_id = "0123456789abcdef0123456789abcdef\n",
            .ed25519_key = "k1",
            .ed25519_pub = "p1",
            .rsa_key = "k2",
            .rsa_pub = "p2"};
}

TEST(OverlayFiles, HostsForShortNameAndFqdn) {
    EXPECT_EQ(hosts_file("pi-01"),
              "127.0.0.1\tlocalhost\n127.0.1.1\tpi-01\n\n"
              "# The following lines are desirable for IPv6 capable hosts\n"
              "::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 "
              "ip6-allrouters\n");
    EXPECT_NE(hosts_file("pi-01.lab.example.net").find("127.0.1.1\tpi-01.lab.example.net\tpi-01\n"),
              std::string::npos);
    EXPECT_EQ(hostname_file("pi-01.lab"), "pi-01.lab\n");
}

TEST(OverlayFiles, FstabHasNoRootLine) {
    const std::string empty = fstab_file("pi-01", {});
    for (std::size_t at = 0; at < empty.size(); at = empty.find('\n', at) + 1)
        EXPECT_EQ(empty[at], '#');
    inventory::FstabEntry swap{
        .device = "/dev/sda2", .mountpoint = "none", .type = "swap", .options = "sw"};
    EXPECT_TRUE(fstab_file("pi-01", {swap}).ends_with("\n/dev/sda2\tnone\tswap\tsw\t0\t0\n"));
}

TEST(OverlayFiles, NumericIds) {
    EXPECT_EQ(numeric_id("root"), 0u);
    EXPECT_EQ(numeric_id("0"), 0u);
    EXPECT_EQ(numeric_id("1000"), 1000u);
    EXPECT_EQ(numeric_id("4294967295"), 4294967295u);
    EXPECT_FALSE(numeric_id("4294967296"));
    EXPECT_FALSE(numeric_id("app"));
    EXPECT_FALSE(numeric_id("-1"));
    EXPECT_FALSE(numeric_id(""));
    EXPECT_FALSE(numeric_id("12a"));
}

TEST(OverlayFiles, PathsBelowDebianSymlinksAreRefused) {
    EXPECT_NE(check_extra_path("/bin/tool"), "");
    EXPECT_NE(check_extra_path("/lib/systemd/system/x.service"), "");
    EXPECT_NE(check_extra_path("/var/run/x.pid"), "");
    EXPECT_EQ(check_extra_path("/binary"), "");
    EXPECT_EQ(check_extra_path("/usr/lib/systemd/system/x.service"), "");
    EXPECT_EQ(check_extra_path("/etc/motd"), "");
}

TEST(OverlayFiles, CheckNodeReportsEachProblemAtTheNode) {
    Diagnostics d;
    auto n = node_with({{.path = "/etc/a", .content = "x", .owner = "app", .group = "staff"},
                        {.path = "/etc/ssh", .content = "x"},
                        {.path = "/srv/x", .content = "x"},
                        {.path = "/srv/x/y", .content = "x"}});
    EXPECT_FALSE(check_node(n, "nodes.yaml", d));
    ASSERT_EQ(d.size(), 4u) << d.str();
    EXPECT_EQ(d.items()[0].str(),
              "nodes.yaml:7:5: node 'pi-01': file /etc/a: owner 'app' is a name: an overlay "
              "carries numeric ids "
              "and does not know the release's /etc/passwd or /etc/group; give the number (root "
              "may be named)");
    EXPECT_NE(d.items()[1].message.find("group 'staff'"), std::string::npos);
    EXPECT_NE(d.items()[2].message.find("/etc/ssh: is a directory of the overlay"),
              std::string::npos);
    EXPECT_NE(d.items()[3].message.find("/srv/x: is also the directory of /srv/x/y"),
              std::string::npos);
}

TEST(OverlayFiles, EntriesHaveTheirDirectoriesWithReleaseModes) {
    auto n =
        node_with({{.path = "/tmp/a/b", .content = "x", .mode = 04755, .owner = "0", .group = "5"}},
                  {"ssh-ed25519 AAAA k"});
    auto e = overlay_entries(n, secrets());
    ASSERT_TRUE(e.ok()) << e.error().message;
    std::map<std::string, OverlayEntry> by;
    for (const auto& x : *e) by[x.path] = x;
    std::vector<std::string> paths;
    for (const auto& x : *e) paths.push_back(x.path);
    EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
    EXPECT_EQ(by["/root"].mode, 0700u);
    EXPECT_EQ(by["/root/.ssh"].mode, 0700u);
    EXPECT_EQ(by["/root/.ssh/authorized_keys"].mode, 0600u);
    EXPECT_EQ(by["/tmp"].mode, 01777u);
    EXPECT_EQ(by["/tmp/a"].mode, 0755u);
    EXPECT_TRUE(by["/tmp/a"].directory);
    EXPECT_EQ(by["/tmp/a/b"].mode, 04755u);
    EXPECT_EQ(by["/tmp/a/b"].gid, 5u);
    EXPECT_EQ(by["/etc/machine-id"].data, secrets().machine_id);
    EXPECT_EQ(by["/etc/ssh/ssh_host_rsa_key"].mode, 0600u);
    EXPECT_FALSE(by.count("/"));
    // No keys, no /root.
    auto bare = overlay_entries(node_with({}), secrets());
    for (const auto& x : *bare) EXPECT_FALSE(x.path.starts_with("/root")) << x.path;
}

OverlayManifest sample() {
    OverlayManifest m;
    m.node = "pi-01";
    m.hostname = "pi-01.lab";
    m.artifacts = {{"overlay.squashfs", std::string(64, 'a'), 4096}};
    m.ssh_host_keys = {{"ed25519", "SHA256:abc"}, {"rsa", "SHA256:def"}};
    return m;
}

TEST(OverlayManifest, CanonicalRoundTrip) {
    const std::string bytes = sample().to_json();
    EXPECT_EQ(
        bytes,
        "{\n  \"artifacts\": [\n    {\n      \"path\": \"overlay.squashfs\",\n      \"sha256\": "
        "\"" +
            std::string(64, 'a') +
            "\",\n      \"size\": 4096\n    }\n  ],\n  \"format_version\": 1,\n  \"hostname\": "
            "\"pi-01.lab\",\n  \"node\": \"pi-01\",\n  \"ssh_host_keys\": {\n    \"ed25519\": "
            "\"SHA256:abc\",\n"
            "    \"rsa\": \"SHA256:def\"\n  }\n}\n");
    auto m = OverlayManifest::parse(bytes);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(*m, sample());
}

TEST(OverlayManifest, StrictParse) {
    const std::string good = sample().to_json();
    auto refused = [](const std::string& bytes, const std::string& why) {
        auto m = OverlayManifest::parse(bytes);
        ASSERT_FALSE(m.ok()) << bytes;
        EXPECT_NE(m.error().message.find(why), std::string::npos) << m.error().message;
    };
    refused("[]", "expected an object");
    refused("{", "not valid JSON");
    refused(good.substr(0, good.size() - 1), "canonical");  // no trailing newline
    std::string dup = good;
    dup.insert(dup.find("  \"node\""), "  \"node\": \"pi-02\",\n");
    refused(dup, "canonical");
    std::string unknown = good;
    unknown.insert(unknown.find("  \"node\""), "  \"nod\": \"x\",\n");
    refused(unknown, "nod: unknown key");
    std::string v2 = good;
    v2.replace(v2.find("\"format_version\": 1"), 19, "\"format_version\": 2");
    refused(v2, "format_version: 2 is not supported");
    std::string badsha = good;
    badsha.replace(badsha.find(std::string(64, 'a')), 64, std::string(64, 'A'));
    refused(badsha, "artifacts[0].sha256");
    std::string path = good;
    path.replace(path.find("overlay.squashfs"), 16, "../etc/passwd");
    refused(path, "artifacts[0].path");
}

}  // namespace
}  // namespace pib::overlays
