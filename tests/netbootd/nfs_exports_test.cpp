// NFS export generation (golden text, determinism, Export_Id collisions), the
// applier, and a real NFS-Ganesha serving the generated exports in a network
// namespace this test creates and always removes, read by libnfs clients from
// inside and outside the exported subnet.
#include "netbootd/nfs_exports.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "common/process.hpp"
#include "netns.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace netbootd;

namespace {

Ipv4Net subnet(const char* addr, int prefix) {
    return Ipv4Net{*pib::netbootd::parse_ipv4(addr), prefix};
}

NfsExportSet sample_set() {
    return {"/srv/pib/releases",
            {"demo-1.0-0123456789ab", "alpha-2+b1-ba9876543210"},
            subnet("192.168.1.0", 24)};
}

TEST(NfsExports, KernelGolden) {
    auto text = render_kernel_exports(sample_set());
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(
        *text,
        "# Written by netbootd: its releases, read-only, for the kernel NFS server.\n"
        "# Rewritten whenever releases come or go (then `exportfs -ra`); edits here are lost.\n"
        "\"/srv/pib/releases/alpha-2+b1-ba9876543210\" "
        "192.168.1.0/24(ro,root_squash,subtree_check,sync,sec=sys,fsid=716446403)\n"
        "\"/srv/pib/releases/demo-1.0-0123456789ab\" "
        "192.168.1.0/24(ro,root_squash,subtree_check,sync,sec=sys,fsid=1977080165)\n");
    auto insecure = render_kernel_exports(sample_set(), KernelExportOptions{.insecure = true});
    ASSERT_TRUE(insecure);
    EXPECT_NE(insecure->find("(ro,root_squash,subtree_check,sync,sec=sys,insecure,fsid="),
              std::string::npos);
}

TEST(NfsExports, GaneshaGolden) {
    NfsExportSet set = sample_set();
    set.release_ids.pop_back();
    set.export_dir = "/srv/pib/releases/";  // a trailing '/' does not double up
    auto text = render_ganesha_exports(set);
    ASSERT_TRUE(text) << text.error().message;
    EXPECT_EQ(*text,
              "# Written by netbootd: its releases, read-only over NFSv4, for NFS-Ganesha.\n"
              "# %include'd from ganesha.conf; rewritten whenever releases come or go (then\n"
              "# ganesha gets SIGHUP and re-reads its exports); edits here are lost.\n"
              "\n"
              "EXPORT {\n"
              "    Export_Id = 10597;\n"
              "    Path = \"/srv/pib/releases/demo-1.0-0123456789ab\";\n"
              "    Pseudo = \"/netbootd/demo-1.0-0123456789ab\";\n"
              "    Protocols = 4;\n"
              "    Transports = TCP;\n"
              "    SecType = sys;\n"
              "    Access_Type = None;\n"
              "    Squash = Root_Squash;\n"
              "    CLIENT {\n"
              "        Clients = 192.168.1.0/24;\n"
              "        Protocols = 4;\n"
              "        Access_Type = RO;\n"
              "        Squash = Root_Squash;\n"
              "    }\n"
              "    FSAL {\n"
              "        Name = VFS;\n"
              "    }\n"
              "}\n");
    EXPECT_EQ(nfs_mount_path(NfsServer::ganesha, set.export_dir, "demo-1"), "/netbootd/demo-1");
    EXPECT_EQ(nfs_mount_path(NfsServer::kernel, set.export_dir, "demo-1"),
              "/srv/pib/releases/demo-1");
}

TEST(NfsExports, SameInputsSameBytesWhateverTheOrder) {
    NfsExportSet a = sample_set();
    NfsExportSet b = a;
    std::reverse(b.release_ids.begin(), b.release_ids.end());
    b.release_ids.push_back(a.release_ids.front());  // duplicates collapse
    EXPECT_EQ(*render_kernel_exports(a), *render_kernel_exports(b));
    EXPECT_EQ(*render_ganesha_exports(a), *render_ganesha_exports(b));
    EXPECT_EQ(*render_ganesha_exports(a), *render_ganesha_exports(a));
}

TEST(NfsExports, RefusesOddIdsAndPaths) {
    NfsExportSet set = sample_set();
    set.release_ids = {"ok-1",    "../etc", "a b",       ".hidden",
                       "quo\"te", "",       "new\nline", std::string(129, 'x')};
    auto r = render_ganesha_exports(set);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, pib::Errc::invalid);
    for (const char* bad : {"\"../etc\"", "\"a b\"", "\".hidden\"", "\"\":"})
        EXPECT_NE(r.error().message.find(bad), std::string::npos)
            << bad << " in " << r.error().message;
    EXPECT_EQ(r.error().message.find("ok-1"), std::string::npos);
    EXPECT_FALSE(render_kernel_exports(set));

    for (const char* dir :
         {"relative/releases", "/srv/\"x\"", "/srv/back\\slash", "/srv/tab\there"}) {
        NfsExportSet d = sample_set();
        d.export_dir = dir;
        EXPECT_FALSE(render_kernel_exports(d)) << dir;
        EXPECT_FALSE(render_ganesha_exports(d)) << dir;
    }
    // Spaces are fine inside the quotes of both formats.
    NfsExportSet spaced = sample_set();
    spaced.export_dir = "/srv/my store/releases";
    EXPECT_NE(
        render_kernel_exports(spaced)->find("\"/srv/my store/releases/demo-1.0-0123456789ab\""),
        std::string::npos);
    EXPECT_FALSE(
        render_ganesha_exports(sample_set(), GaneshaExportOptions{.pseudo_prefix = "netbootd/"}));
}

// Two ids whose hashes land on the same Export_Id, found by search.
std::pair<std::string, std::string> colliding_ids() {
    std::map<std::uint16_t, std::string> seen;
    for (int n = 0;; ++n) {
        std::string id = "c-" + std::to_string(n);
        auto slot = assign_ganesha_export_ids({id}).at(id);
        auto [it, fresh] = seen.emplace(slot, id);
        if (!fresh) return {it->second, id};
    }
}

TEST(NfsExports, ExportIdsStayUniqueOnCollision) {
    auto [a, b] = colliding_ids();
    const auto hashed = assign_ganesha_export_ids({a}).at(a);
    auto ids = assign_ganesha_export_ids({b, a});
    ASSERT_EQ(ids.size(), 2u);
    EXPECT_NE(ids.at(a), ids.at(b));
    // Sorted order decides: the smaller id keeps the hashed slot, the other probes on.
    const auto& first = std::min(a, b);
    EXPECT_EQ(ids.at(first), hashed);
    EXPECT_EQ(ids, assign_ganesha_export_ids({a, b}));
    for (auto [id, n] : ids) EXPECT_GE(n, kGaneshaFirstExportId) << id;

    // A published id keeps its Export_Id when a colliding id that sorts first arrives.
    const auto& second = std::max(a, b);
    auto alone = assign_ganesha_export_ids({second});
    auto later = assign_ganesha_export_ids({a, b}, alone);
    EXPECT_EQ(later.at(second), alone.at(second));
    EXPECT_NE(later.at(first), later.at(second));

    // Many ids: all unique, and read back from the rendered file unchanged.
    NfsExportSet set = sample_set();
    set.release_ids.clear();
    for (int n = 0; n < 2000; ++n) set.release_ids.push_back("r-" + std::to_string(n));
    auto all = assign_ganesha_export_ids(set.release_ids);
    std::set<std::uint16_t> unique;
    for (auto [id, n] : all) unique.insert(n);
    EXPECT_EQ(unique.size(), 2000u);
    EXPECT_EQ(parse_ganesha_export_ids(*render_ganesha_exports(set)), all);

    auto fsids = assign_kernel_fsids(set.release_ids);
    std::set<std::uint32_t> unique_fsids;
    for (auto [id, n] : fsids) unique_fsids.insert(n);
    EXPECT_EQ(unique_fsids.size(), 2000u);
}

// A release as pibuild publishes it: 0755 directories, 0644 files.
void make_release(const fs::path& releases, const std::string& id, bool with_root = true) {
    const fs::path dir = releases / id;
    pib::test::write_text(dir / "manifest.json", "{\"name\":\"" + id + "\"}\n");
    pib::test::write_text(dir / "manifest.json.sig", std::string(64, 's'));
    pib::test::write_text(dir / "boot" / "vmlinuz", "kernel of " + id + "\n");
    if (with_root) {
        std::mt19937 rng(static_cast<unsigned>(id.size()));
        std::string root(1 << 20, '\0');
        for (auto& c : root) c = static_cast<char>(rng());
        pib::test::write_text(dir / "root.squashfs", root);
    }
    for (const auto& e : fs::recursive_directory_iterator(releases))
        chmod(e.path().c_str(), e.is_directory() ? 0755 : 0644);
    chmod(dir.c_str(), 0755);
}

TEST(NfsApply, WritesOnChangeReloadsAndWarns) {
    pib::test::TempDir tmp;
    const fs::path releases = tmp / "releases";
    make_release(releases, "a-1");
    make_release(releases, "b-1", /*with_root=*/false);
    NfsExportSet set{releases, {"b-1", "a-1", "bad id"}, subnet("10.0.0.0", 8)};
    auto options = NfsApplyOptions::defaults(NfsServer::kernel);
    EXPECT_EQ(options.reload_command, (std::vector<std::string>{"exportfs", "-ra"}));
    options.exports_file = tmp / "etc" / "exports.d" / "netbootd.exports";
    options.reload_command = {"true"};

    auto r = apply_nfs_exports(set, options);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->changed);
    EXPECT_TRUE(r->reloaded);
    EXPECT_EQ(r->exported, (std::vector<std::string>{"a-1", "b-1"}));
    ASSERT_EQ(r->warnings.size(), 2u);  // in id order: "b-1" < "bad id"
    EXPECT_NE(r->warnings[0].find("missing_root id=b-1"), std::string::npos) << r->warnings[0];
    EXPECT_NE(r->warnings[1].find("refused_id id=\"bad id\""), std::string::npos) << r->warnings[1];
    EXPECT_EQ(pib::test::read_text(options.exports_file),
              *render_kernel_exports(NfsExportSet{releases, {"a-1", "b-1"}, set.subnet}));

    auto again = apply_nfs_exports(set, options);  // same bytes: no write, no reload
    ASSERT_TRUE(again);
    EXPECT_FALSE(again->changed);
    EXPECT_FALSE(again->reloaded);

    options.reload_command = {"false"};
    options.force = true;
    auto failed = apply_nfs_exports(set, options);  // a failing reload is reported, not fatal
    ASSERT_TRUE(failed);
    EXPECT_TRUE(failed->changed);
    EXPECT_FALSE(failed->reloaded);
    EXPECT_NE(failed->reload_error.find("false"), std::string::npos) << failed->reload_error;
}

TEST(NfsApply, GaneshaKeepsExportIdsOfPublishedReleases) {
    pib::test::TempDir tmp;
    auto [a, b] = colliding_ids();
    const auto& first = std::min(a, b);
    const auto& second = std::max(a, b);
    auto options = NfsApplyOptions::defaults(NfsServer::ganesha);
    options.exports_file = tmp / "netbootd-exports.conf";
    options.reload_command.clear();
    NfsExportSet set{tmp / "releases", {second}, subnet("10.0.0.0", 8)};
    ASSERT_TRUE(apply_nfs_exports(set, options));
    const auto before =
        parse_ganesha_export_ids(pib::test::read_text(options.exports_file)).at(second);
    set.release_ids = {first, second};
    ASSERT_TRUE(apply_nfs_exports(set, options));
    auto after = parse_ganesha_export_ids(pib::test::read_text(options.exports_file));
    EXPECT_EQ(after.at(second), before);
    EXPECT_NE(after.at(first), before);
}

// ---- A real NFS-Ganesha in a namespace --------------------------------------

constexpr const char* kServerIp = "10.217.1.1";  // link to the client, in the exported subnet
constexpr const char* kClientIp = "10.217.1.2";
constexpr const char* kOutsideServerIp = "10.217.2.1";  // second link, outside the subnet
constexpr const char* kOutsiderIp = "10.217.2.2";

/// A ganesha.nfsd this test started (`ip netns exec` execs it, so the pid is
/// ganesha's); SIGTERM, then SIGKILL, and reaped in the destructor.
class GaneshaProcess {
  public:
    GaneshaProcess() = default;
    ~GaneshaProcess() { stop(); }
    GaneshaProcess(const GaneshaProcess&) = delete;
    GaneshaProcess& operator=(const GaneshaProcess&) = delete;

    bool start(const std::vector<std::string>& argv, const fs::path& output) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        int rc = posix_spawnp(&pid_, args[0], &fa, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0) pid_ = -1;
        return rc == 0;
    }
    pid_t pid() const { return pid_; }
    /// False once it has exited (and then it is reaped).
    bool running() {
        if (pid_ <= 0) return false;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
        pid_ = -1;
        return false;
    }
    void stop() {
        if (!running()) return;
        kill(pid_, SIGTERM);
        for (int i = 0; i < 100 && running(); ++i) std::this_thread::sleep_for(50ms);
        if (!running()) return;
        kill(pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

  private:
    pid_t pid_ = -1;
};

/// A libnfs tool run in namespace `ns`: exit code and stdout (stderr in `tail`).
pib::ProcessResult nfs_tool(const std::string& ns, std::vector<std::string> argv) {
    pib::Command cmd;
    cmd.argv = {"ip", "netns", "exec", ns};
    cmd.argv.insert(cmd.argv.end(), argv.begin(), argv.end());
    cmd.capture_stdout = true;
    auto r = pib::run_process(cmd);
    return r ? *r : pib::ProcessResult{};
}

std::string nfs_url(const char* server, const std::string& path) {
    return "nfs://" + std::string(server) + path +
           "?version=4";  // libnfs 4.0: NFSv4 only when asked
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    for (auto end = std::chrono::steady_clock::now() + limit;
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms))
        if (done()) return true;
    return done();
}

// The config a Debian ganesha would have, cut down for a namespace: NFSv4 over TCP
// only, so no rpcbind (RQUOTA and NLM must be off too: without rpcbind ganesha
// exits right after "Cannot register RQUOTA V1"); Graceless so it serves at once.
// No Bind_addr: the outsider reaches the server over a second link, and must be
// turned away by the export's client list, not by an unreachable socket.
std::string ganesha_conf(const fs::path& tmp, const fs::path& exports_file) {
    return "NFS_CORE_PARAM {\n    Protocols = 4;\n    NFS_Port = 2049;\n    Enable_NLM = false;\n"
           "    Enable_RQUOTA = false;\n    Enable_UDP = false;\n}\n"
           "NFSV4 {\n    Graceless = true;\n    RecoveryBackend = fs;\n    RecoveryRoot = \"" +
           (tmp / "recovery").string() +
           "\";\n}\n"
           "NFS_KRB5 {\n    Active_krb5 = false;\n}\n"
           "%include \"" +
           exports_file.string() + "\"\n";
}

TEST(NfsGanesha, ServesReleasesReadOnlyToTheSubnetAndReloads) {
    ASSERT_TRUE(pib::test::is_root()) << "network namespaces and ganesha need root";
    for (const char* tool : {"ganesha.nfsd", "nfs-ls", "nfs-cat", "nfs-cp", "ip"})
        ASSERT_TRUE(pib::have_program(tool))
            << tool << " missing (nfs-ganesha nfs-ganesha-vfs libnfs-utils)";
    const auto t0 = std::chrono::steady_clock::now();

    pib::test::TempDir tmp;
    chmod(tmp.path().c_str(), 0755);
    const fs::path releases = tmp / "store" / "releases";
    const std::string first = "demo-1.0-aaaaaaaaaaaa", second = "demo-1.1-bbbbbbbbbbbb";
    make_release(releases, first);
    chmod((tmp / "store").c_str(), 0755);
    pib::test::write_text(releases / first / "boot" / "secret", "only root may read this\n", 0600);
    fs::create_directories(tmp / "recovery");

    netbootd::test::NetnsGuard guard("pibtest-nfs");
    std::string why;
    ASSERT_TRUE(guard.add("s", why) && guard.add("c", why) && guard.add("o", why) &&
                guard.link("s", "vs1", std::string(kServerIp) + "/24", "c", "vc",
                           std::string(kClientIp) + "/24", why) &&
                guard.link("s", "vs2", std::string(kOutsideServerIp) + "/24", "o", "vo",
                           std::string(kOutsiderIp) + "/24", why))
        << why;
    const std::string server_ns = guard.name("s"), client_ns = guard.name("c"),
                      outsider_ns = guard.name("o");

    // Publish the first release before ganesha runs: no reload yet.
    NfsExportSet set{releases, {first}, subnet("10.217.1.0", 24)};
    auto options = NfsApplyOptions::defaults(NfsServer::ganesha);
    options.exports_file = tmp / "netbootd-exports.conf";
    options.reload_command.clear();
    auto applied = apply_nfs_exports(set, options);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_TRUE(applied->warnings.empty());

    pib::test::write_text(tmp / "ganesha.conf", ganesha_conf(tmp.path(), options.exports_file));
    const fs::path log = tmp / "ganesha.log";
    GaneshaProcess ganesha;
    ASSERT_TRUE(ganesha.start({"ip", "netns", "exec", server_ns, "ganesha.nfsd", "-F", "-f",
                               (tmp / "ganesha.conf").string(), "-L", log.string(), "-p",
                               (tmp / "ganesha.pid").string(), "-N", "NIV_EVENT"},
                              tmp / "ganesha.out"));
    const std::string dir_url = nfs_url(kServerIp, "/netbootd/" + first + "/");
    ASSERT_TRUE(wait_until(
                    [&] {
                        return !ganesha.running() ||
                               nfs_tool(client_ns, {"nfs-ls", dir_url}).exit_code == 0;
                    },
                    20s) &&
                ganesha.running())
        << "ganesha did not serve:\n"
        << pib::test::read_text(log) << pib::test::read_text(tmp / "ganesha.out");
    const auto served_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();

    // Ganesha took the generated blocks without complaint.
    const std::string started_log = pib::test::read_text(log);
    EXPECT_EQ(started_log.find("fixing up"), std::string::npos) << started_log;
    EXPECT_EQ(started_log.find("CONFIG :CRIT"), std::string::npos) << started_log;

    // The client in the subnet lists and reads the release, byte for byte.
    auto ls = nfs_tool(client_ns, {"nfs-ls", dir_url});
    for (const char* name : {"manifest.json", "manifest.json.sig", "root.squashfs", "boot"})
        EXPECT_NE(ls.out.find(name), std::string::npos) << name << " not in\n" << ls.out;
    for (const char* name : {"manifest.json", "root.squashfs", "boot/vmlinuz"}) {
        auto cat =
            nfs_tool(client_ns, {"nfs-cat", nfs_url(kServerIp, "/netbootd/" + first + "/" + name)});
        EXPECT_EQ(cat.exit_code, 0) << name << ": " << cat.tail;
        EXPECT_TRUE(cat.out == pib::test::read_text(releases / first / name)) << name << " differs";
    }
    // Root is squashed: a root-only file stays closed to the client's root.
    auto secret =
        nfs_tool(client_ns, {"nfs-cat", nfs_url(kServerIp, "/netbootd/" + first + "/boot/secret")});
    EXPECT_NE(secret.exit_code, 0);
    EXPECT_EQ(secret.out.find("only root"), std::string::npos);
    // Read-only: writing a file into the export is refused and nothing appears. The
    // directory is world-writable meanwhile, so only the export's RO can refuse it.
    pib::test::write_text(tmp / "upload", "x\n");
    chmod((releases / first).c_str(), 0777);
    auto cp = nfs_tool(client_ns, {"nfs-cp", (tmp / "upload").string(),
                                   nfs_url(kServerIp, "/netbootd/" + first + "/upload")});
    chmod((releases / first).c_str(), 0755);
    EXPECT_NE(cp.exit_code, 0);
    EXPECT_FALSE(fs::exists(releases / first / "upload"));
    // Outside the subnet: the server answers (its pseudo root lists) but the export is closed.
    auto outsider_root = nfs_tool(outsider_ns, {"nfs-ls", nfs_url(kOutsideServerIp, "/")});
    EXPECT_EQ(outsider_root.exit_code, 0)
        << "outsider cannot reach the server at all: " << outsider_root.tail;
    auto outsider =
        nfs_tool(outsider_ns,
                 {"nfs-cat", nfs_url(kOutsideServerIp, "/netbootd/" + first + "/manifest.json")});
    EXPECT_NE(outsider.exit_code, 0);
    EXPECT_TRUE(outsider.out.empty());

    // A second release appears after apply + SIGHUP, without restarting ganesha.
    make_release(releases, second);
    set.release_ids = {first, second};
    options.ganesha_pid = ganesha.pid();
    applied = apply_nfs_exports(set, options);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_TRUE(applied->changed);
    EXPECT_TRUE(applied->reloaded) << applied->reload_error;
    const auto ids_with_both = parse_ganesha_export_ids(pib::test::read_text(options.exports_file));
    const std::string second_manifest =
        nfs_url(kServerIp, "/netbootd/" + second + "/manifest.json");
    EXPECT_TRUE(wait_until(
        [&] {
            return nfs_tool(client_ns, {"nfs-cat", second_manifest}).exit_code == 0;
        },
        10s))
        << pib::test::read_text(log);
    EXPECT_EQ(nfs_tool(client_ns, {"nfs-cat", second_manifest}).out,
              pib::test::read_text(releases / second / "manifest.json"));

    // The first release is withdrawn: its export disappears, the second stays with its Export_Id.
    set.release_ids = {second};
    applied = apply_nfs_exports(set, options);
    ASSERT_TRUE(applied) << applied.error().message;
    EXPECT_TRUE(applied->reloaded) << applied->reload_error;
    EXPECT_EQ(parse_ganesha_export_ids(pib::test::read_text(options.exports_file)).at(second),
              ids_with_both.at(second));
    EXPECT_TRUE(wait_until(
        [&] {
            return nfs_tool(client_ns, {"nfs-ls", dir_url}).exit_code != 0;
        },
        10s))
        << "removed export still served\n"
        << pib::test::read_text(log);
    EXPECT_EQ(nfs_tool(client_ns, {"nfs-cat", second_manifest}).exit_code, 0);
    EXPECT_TRUE(ganesha.running()) << "ganesha restarted or died:\n" << pib::test::read_text(log);

    ganesha.stop();
    EXPECT_FALSE(ganesha.running());
    const auto total_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    RecordProperty("serving_ms", static_cast<int>(served_ms));
    RecordProperty("total_ms", static_cast<int>(total_ms));
    std::printf("nfs ganesha served_after_ms=%lld total_ms=%lld\n",
                static_cast<long long>(served_ms), static_cast<long long>(total_ms));
}

}  // namespace
