// The command line words of a node that boots its root over NFS, and that
// the path they name is the one the export file gives the NFS server.
#include "netbootd/nfs_boot.hpp"

#include <gtest/gtest.h>

#include "netbootd/nfs_exports.hpp"

namespace netbootd {
namespace {

using pib::inventory::Node;
using pib::inventory::RootTransport;
using pib::netbootd::NetbootdConfig;

struct Captured {
    std::vector<std::string> lines;
    pib::Logger log{[this](pib::Level, const std::string& l) { lines.push_back(l); }, pib::Level::debug};
};

NetbootdConfig nfs_config(pib::netbootd::NfsServer server) {
    NetbootdConfig c;
    c.store = "/srv/netbootd";
    c.nfs.enabled = true;
    c.nfs.server = server;
    c.nfs.export_dir = "/srv/netbootd/releases";
    c.nfs.subnet = pib::netbootd::Ipv4Net{0x0a010000, 24};
    return c;
}

Node nfs_node() {
    Node n;
    n.name = "pi-01";
    n.root = RootTransport::nfs;
    return n;
}

constexpr pib::netbootd::Ipv4 kServer = 0x0a010001;  // 10.1.0.1

TEST(NfsBoot, GaneshaPseudoPathMatchesTheExportFile) {
    Captured cap;
    const auto c = nfs_config(pib::netbootd::NfsServer::ganesha);
    EXPECT_EQ(nfs_root_args(c, nfs_node(), "demo-1.0-0123456789ab", kServer, cap.log),
              "pib.root=nfs pib.nfs=10.1.0.1:/netbootd/demo-1.0-0123456789ab");
    NfsExportSet set{c.nfs.export_dir, {"demo-1.0-0123456789ab"}, *c.nfs.subnet};
    auto text = render_ganesha_exports(set);
    ASSERT_TRUE(text.ok());
    EXPECT_NE(text->find("Pseudo = \"/netbootd/demo-1.0-0123456789ab\";"), std::string::npos) << *text;
    EXPECT_TRUE(cap.lines.empty());
}

TEST(NfsBoot, KernelServerExportsTheDirectoryItself) {
    Captured cap;
    EXPECT_EQ(nfs_root_args(nfs_config(pib::netbootd::NfsServer::kernel), nfs_node(),
                            "demo-1.0-0123456789ab", kServer, cap.log),
              "pib.root=nfs pib.nfs=10.1.0.1:/srv/netbootd/releases/demo-1.0-0123456789ab");
}

TEST(NfsBoot, HttpNodesGetNothing) {
    Captured cap;
    Node n = nfs_node();
    n.root = RootTransport::http;
    EXPECT_EQ(nfs_root_args(nfs_config(pib::netbootd::NfsServer::ganesha), n, "demo-1.0-0123456789ab",
                            kServer, cap.log),
              "");
    EXPECT_TRUE(cap.lines.empty());
}

TEST(NfsBoot, NfsOffFallsBackToHttpWithAWarning) {
    Captured cap;
    auto c = nfs_config(pib::netbootd::NfsServer::ganesha);
    c.nfs.enabled = false;
    EXPECT_EQ(nfs_root_args(c, nfs_node(), "demo-1.0-0123456789ab", kServer, cap.log), "");
    ASSERT_EQ(cap.lines.size(), 1u);
    EXPECT_NE(cap.lines[0].find("nfs_root_unavailable"), std::string::npos) << cap.lines[0];
    EXPECT_NE(cap.lines[0].find("node=pi-01"), std::string::npos) << cap.lines[0];
}

}  // namespace
}  // namespace netbootd
