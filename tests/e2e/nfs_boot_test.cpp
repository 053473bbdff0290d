// End to end over NFS: the demo release (recipes/demo-x86.yaml, with its
// dm-verity tree root.verity) published by netbootd through NFS-Ganesha in
// the test's network namespace (scripts/netboot-vm.sh --nfs), and one
// diskless QEMU x86_64 node whose inventory entry says `root: nfs`. netbootd
// puts pib.root=nfs pib.nfs=<server>:/netbootd/<id> on its command line;
// pib-init mounts the export read-only (NFSv4), verifies the manifest, and
// mounts root.squashfs only through a dm-verity device. Checked from the
// console: hostname, `/` an overlay over a squashfs on the read-only
// dm-verity device "pib-root" over loops on the NFS files, the boot report
// (NFS phases; root=nfs in netbootd's API), and the bytes ganesha sent. Then one byte
// of root.squashfs is changed on the export: the node refuses it with the
// console message and boots nothing.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "e2e/e2e_support.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using namespace pib::e2e;
using pib::test::read_text;
using pib::test::run;
using pib::test::write_text;

namespace {

const std::string kMac = "52:54:00:e2:f0:01";

// Bytes ganesha has sent on its established NFS connections (TCP payload,
// `ss -ti` bytes_sent), inside namespace `ns`.
std::uint64_t nfs_bytes_sent(const std::string& ns) {
    std::string out;
    if (run({"ip", "netns", "exec", ns, "ss", "-tinH", "state", "established", "( sport = :2049 )"}, &out) != 0)
        return 0;
    std::uint64_t total = 0;
    std::regex re("bytes_sent:([0-9]+)");
    for (auto it = std::sregex_iterator(out.begin(), out.end(), re); it != std::sregex_iterator(); ++it)
        total += std::stoull((*it)[1].str());
    return total;
}

TEST(E2eNfsBoot, NodeBootsTheReleaseOverNfsThroughDmVerityAndRefusesATamperedImage) {
    if (!pib::test::is_root()) GTEST_SKIP() << "needs root (namespaces, image build)";
    for (const char* tool : {"ganesha.nfsd", "qemu-system-x86_64", "dnsmasq", "ss"})
        ASSERT_EQ(run({"sh", "-c", std::string("command -v ") + tool}), 0)
            << tool << " missing (./run deps: nfs-ganesha nfs-ganesha-vfs qemu-system-x86 dnsmasq)";
    const auto pibuild = pib::test::built_binary("builder/pibuild");
    const auto netbootd = pib::test::built_binary("netbootd/netbootd");
    pib::test::TempDir dir;
    const fs::path store = dir.path() / "store";
    std::string out;

    // ---- the release and the node's overlay
    const std::string id = build_demo_release(dir.path(), out);  // and fleet.key, fleet.pub
    ASSERT_FALSE(id.empty()) << out;
    const fs::path release = store / "releases" / id;
    ASSERT_TRUE(fs::is_regular_file(release / "root.verity"));
    write_text(dir.path() / "nodes.yaml", "nodes:\n"
                                          "  - name: node-n\n    hostname: node-n.lab\n    mac: " + kMac + "\n"
                                          "    release: " + id + "\n    root: nfs\n");
    ASSERT_EQ(run({pibuild.string(), "nodes", "render", "--inventory", (dir.path() / "nodes.yaml").string(),
                   "--store", store.string(), "--key", (dir.path() / "fleet.key").string(), "--secrets",
                   (dir.path() / "secrets").string()},
                  &out),
              0)
        << out;

    // ---- boot it over NFS
    NetbootVms vms;
    vms.workdir = dir.path() / "vm";
    vms.start({"--store", store.string(), "--pubkey", (dir.path() / "fleet.pub").string(), "--inventory",
               (dir.path() / "nodes.yaml").string(), "--vm", kMac, "--netbootd", netbootd.string(), "--nfs"});
    const std::string done = "PIB-FACTS done";
    auto diagnostics = [&] {
        return "console:\n" + vms.console(1) + "\nnetbootd:\n" + read_text(vms.workdir / "netbootd.log") +
               "\nganesha:\n" + read_text(vms.workdir / "ganesha.log");
    };
    ASSERT_TRUE(wait_for([&] { return count(vms.console(1), done) >= 1; }, 240s)) << diagnostics();
    const std::uint64_t nfs_bytes = nfs_bytes_sent(vms.netns());
    const std::string c = vms.console(1);

    // pib-init's account: netbootd sent it to the release's ganesha pseudo path.
    EXPECT_NE(c.find(":/netbootd/" + id + " read-only (NFSv4)"), std::string::npos) << c;
    EXPECT_NE(c.find("dm-verity: /dev/mapper/pib-root over root.squashfs root_hash="), std::string::npos) << c;
    EXPECT_NE(c.find("verified root.squashfs superblock and metadata through dm-verity"), std::string::npos) << c;
    EXPECT_EQ(c.find("verified root.squashfs size="), std::string::npos) << "the image was downloaded, not mounted over NFS";
    // Who the node is and what its root is made of.
    EXPECT_NE(c.find("PIB-FACTS hostname=node-n.lab\n"), std::string::npos) << c;
    EXPECT_NE(c.find("PIB-FACTS root=overlay rw,"), std::string::npos) << c;
    EXPECT_NE(c.find("lowerdir=/run/pib/node:/run/pib/ro,upperdir=/run/pib/rw/upper"), std::string::npos) << c;
    EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS mount /run/pib/ro=squashfs ro,"))) << c;
    EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS mount /run/pib/rw=tmpfs "))) << c;
    std::smatch dm;
    ASSERT_TRUE(std::regex_search(c, dm, std::regex("PIB-FACTS ro-source=([0-9]+:[0-9]+) +/dev/mapper/pib-root\n"))) << c;
    // The dm device under /run/pib/ro is "pib-root", read-only, over two loops...
    std::smatch slaves;
    ASSERT_TRUE(std::regex_search(c, slaves,
                                  std::regex("PIB-FACTS dm (dm-[0-9]+) name=pib-root dev=" + dm[1].str() +
                                             " ro=1 slaves=(loop[0-9]+) (loop[0-9]+) ?\n")))
        << c;
    // ...whose backing files are the release's files on the NFS mount.
    const std::string loops = slaves[2].str() + "|" + slaves[3].str();
    EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS loop (" + loops + ")=/run/pib/nfs/root.squashfs\n"))) << c;
    EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS loop (" + loops + ")=/run/pib/nfs/root.verity\n"))) << c;
    EXPECT_TRUE(std::regex_search(c, std::regex("PIB-FACTS nfs=nfs4 +[0-9.]+:/netbootd/" + id + " ro,"))) << c;

    // The boot report reached netbootd, with the NFS phases, and its API. The
    // release's pib-agent may have sent its health report since (the API
    // shows the last report; a health report does not say how the root was read).
    const std::string log = read_text(vms.workdir / "netbootd.log");
    EXPECT_TRUE(std::regex_search(log, std::regex("api report node=node-n release=" + id +
                                                  " kind=boot .*nfs_mount_ms=[0-9]+.* verity_ms=[0-9]+")))
        << log;
    auto node = vms.api("/api/v1/nodes/node-n", out);
    ASSERT_TRUE(node.is_object()) << out;
    EXPECT_EQ(node["last_report"]["release"], id) << node;
    if (node["last_report"]["kind"] == "boot") {
        EXPECT_EQ(node["last_report"]["root"], "nfs") << node;
    }

    // What NFS carried: a fraction of the image (lazy loading), not all of it.
    const auto image = fs::file_size(release / "root.squashfs");
    EXPECT_GT(nfs_bytes, 0u);
    EXPECT_LT(nfs_bytes, image) << "the whole image went over NFS";
    std::printf("nfs boot bytes_sent_over_nfs=%llu root_squashfs=%llu\n",
                static_cast<unsigned long long>(nfs_bytes), static_cast<unsigned long long>(image));

    // ---- one byte of root.squashfs changed on the export: refused by dm-verity.
    // The last block holds the end of the squashfs tables, which pib-init
    // reads through the verity device before it mounts anything.
    {
        std::fstream io(release / "root.squashfs", std::ios::in | std::ios::out | std::ios::binary);
        const auto at = static_cast<std::streamoff>(image - 1);
        io.seekg(at);
        char ch = 0;
        io.get(ch);
        io.seekp(at);
        io.put(static_cast<char>(ch ^ 0x01));
    }
    const std::string refused = "VERIFICATION FAILED";
    ASSERT_TRUE(vms.reset(1));
    ASSERT_TRUE(wait_for([&] { return count(vms.console(1), refused) >= 1; }, 180s)) << diagnostics();
    const std::string r = after(vms.console(1), refused, 1);
    EXPECT_NE(r.find("root.squashfs: dm-verity refused its metadata"), std::string::npos) << r.substr(0, 600);
    EXPECT_NE(r.find("refusing to boot"), std::string::npos) << r.substr(0, 600);
    EXPECT_NE(r.find("rescue: boot stopped here"), std::string::npos) << r.substr(0, 600);
    const std::string second_boot = after(vms.console(1), "dm-verity: /dev/mapper/pib-root", 2);
    EXPECT_EQ(second_boot.find("mounting the verified root"), std::string::npos) << "a refused image was mounted";
    EXPECT_EQ(count(vms.console(1), done), 1u) << "the node booted an image that fails dm-verity";
}

}  // namespace
