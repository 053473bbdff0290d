// docs/netbootd.md stays true: its key reference is the one rendered from the
// key tables, and docs/examples/netbootd.yaml and the small example parse.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "netbootd/config_schema.hpp"
#include "support/test_support.hpp"

namespace pib::netbootd {
namespace {

const std::filesystem::path kSource(PIB_SOURCE_DIR);
const std::filesystem::path kDocs = kSource / "docs/netbootd.md";
constexpr std::string_view kBegin = "<!-- BEGIN KEY REFERENCE";
constexpr std::string_view kEnd = "<!-- END KEY REFERENCE -->";

// The text of the `n`th fenced block (```yaml or ```text) after `heading`; "" if none.
std::string block_after(const std::string& doc, const std::string& heading, int n = 0) {
    std::size_t at = doc.find(heading);
    for (int i = 0; at != std::string::npos && i <= n; ++i) {
        at = doc.find("\n```", at);
        if (at == std::string::npos) return "";
        at = doc.find('\n', at + 1) + 1;
        if (i < n) at = doc.find("\n```\n", at) + 4;
    }
    if (at == std::string::npos) return "";
    return doc.substr(at, doc.find("```\n", at) - at);
}

Result<NetbootdConfig> parse_unchecked(const std::string& yaml, Diagnostics& diags) {
    // The docs name files of a real server, not of this machine.
    return parse_netbootd_config(yaml, "/etc/netbootd/netbootd.yaml", diags,
                                 NetbootdConfigOptions{.check_files = false});
}

TEST(NetbootdDocs, KeyReferenceIsRenderedFromTheKeyTables) {
    std::string doc = test::read_text(kDocs);
    std::size_t begin = doc.find(kBegin);
    std::size_t end = doc.find(kEnd);
    ASSERT_NE(begin, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    begin = doc.find('\n', begin) + 1;
    const std::string want = "\n" + netbootd_config_reference_markdown();
    if (std::getenv("PIB_UPDATE_DOCS")) {
        doc.replace(begin, end - begin, want);
        std::ofstream(kDocs, std::ios::binary | std::ios::trunc) << doc;
        GTEST_SKIP() << "rewrote " << kDocs;
    }
    EXPECT_EQ(doc.substr(begin, end - begin), want)
        << "docs/netbootd.md is out of date: run config_tests with PIB_UPDATE_DOCS=1";
}

TEST(NetbootdDocs, CompleteExampleIsAValidConfig) {
    Diagnostics diags;
    // The example names files of a real server, not of this machine.
    auto c = load_netbootd_config(kSource / "docs/examples/netbootd.yaml", diags,
                                  NetbootdConfigOptions{.check_files = false});
    ASSERT_TRUE(c.ok()) << diags.str();
    EXPECT_EQ(c->dhcp.mode, DhcpMode::full);
    ASSERT_TRUE(c->dhcp.pool);
    EXPECT_EQ(c->dhcp.pool->leases_file, "/var/lib/netbootd/leases/leases.json");
    EXPECT_EQ(c->tftp.default_release, "demo-rpi4-1.0-20260101T000000Z");
    EXPECT_TRUE(c->nfs.enabled);
    EXPECT_EQ(c->listen.http_base_url, "http://192.168.1.10:80");
}

TEST(NetbootdDocs, SmallExampleIsAValidConfig) {
    std::string yaml = block_after(test::read_text(kDocs), "## The config file");
    Diagnostics diags;
    auto c = parse_unchecked(yaml, diags);
    ASSERT_TRUE(c.ok()) << diags.str() << yaml;
    EXPECT_EQ(c->listen.interface, "eth0");
}

TEST(NetbootdDocs, ErrorExampleIsWhatTheParserSays) {
    std::string doc = test::read_text(kDocs);
    std::string yaml = block_after(doc, "## Running it", 1);
    std::string printed = block_after(doc, "## Running it", 2);
    ASSERT_FALSE(printed.empty());
    Diagnostics diags;
    EXPECT_FALSE(parse_unchecked(yaml, diags).ok()) << yaml;
    EXPECT_EQ(diags.str(), printed);
}

TEST(NetbootdDocs, EveryTableDefaultAndExampleIsYaml) {
    for (const auto& m : config_maps()) {
        for (const auto& k : m.keys) {
            EXPECT_NO_THROW(YAML::Load(std::string(k.default_yaml))) << m.path << "." << k.name;
            EXPECT_NO_THROW(YAML::Load(std::string(k.example))) << m.path << "." << k.name;
            EXPECT_FALSE(k.doc.empty()) << m.path << "." << k.name;
        }
    }
}

TEST(NetbootdDocs, SystemdUnitStartsTheDocumentedCommand) {
    std::string unit = test::read_text(kSource / "netbootd/netbootd.service.in");
    EXPECT_NE(unit.find("\nExecStart=@SBINDIR@/netbootd --config "
                        "/etc/netbootd/netbootd.yaml\n"),
              std::string::npos);
    EXPECT_NE(unit.find("\nExecReload=+/bin/kill -HUP $MAINPID\n"), std::string::npos);
    EXPECT_NE(unit.find("\nNoNewPrivileges=yes\n"), std::string::npos);
}

}  // namespace
}  // namespace pib::netbootd
