#include "client/nfs_root.hpp"

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "client/verify.hpp"
#include "client/verity_params.hpp"

namespace pib::client {

namespace {

Result<std::string> read_whole(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return fail(Errc::not_found, "cannot read " + p.string() + " on the NFS export");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The NFS client is up as soon as the modules are loaded, but the server (or
// the link) may not be yet: retry with back-off, saying so, for about a minute.
Status mount_export(const NfsPlan& plan, const NfsSource& src,
                    const std::function<void(const std::string&)>& say) {
    std::error_code ec;
    std::filesystem::create_directories(plan.mountpoint, ec);
    const std::string opts = nfs_mount_options(src.server, plan.client_address);
    const std::string what = src.server + ":" + src.path;
    int delay_ms = 500;
    for (int attempt = 1;; ++attempt) {
        if (::mount(what.c_str(), plan.mountpoint.c_str(), "nfs4", MS_RDONLY | MS_NODEV | MS_NOSUID,
                    opts.c_str()) == 0)
            return {};
        const int err = errno;
        // ENODEV: no nfs4 in the kernel; EACCES/ENOENT: the export refuses us
        // or does not exist. Waiting does not help any of those.
        if (err == ENODEV || err == EACCES || err == EPERM || attempt >= 8)
            return fail(Errc::io, "mount -t nfs4 " + what + " (" + opts + "): " + std::strerror(err));
        say("nfs: mounting " + what + " failed (" + std::strerror(err) + "); retrying in " +
            std::to_string(delay_ms) + " ms");
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        delay_ms = std::min(delay_ms * 2, 8000);
    }
}

std::uint64_t size_of(const std::filesystem::path& p) {
    std::error_code ec;
    auto n = std::filesystem::file_size(p, ec);
    return ec ? 0 : n;
}

// The superblock and every metadata table, read through the verity device:
// a mount reads exactly these, so an image that fails here would fail there
// (with less to say). Data blocks are checked by the kernel as files are read.
Status probe(const DmDevice& dev, const VerityInfo& v) {
    std::ifstream in(dev.node, std::ios::binary);
    std::vector<std::uint8_t> sb(96);
    if (!in.read(reinterpret_cast<char*>(sb.data()), 96)) {
        return fail(Errc::verification, "root.squashfs: reading its superblock through dm-verity "
                                        "failed (I/O error: a block does not match its hash)");
    }
    const std::uint64_t size = v.data_blocks * static_cast<std::uint64_t>(v.data_block_size);
    auto range = squashfs_metadata_range(sb, size, static_cast<std::uint64_t>(v.data_block_size));
    if (!range) return fail(Errc::verification, "root.squashfs: " + range.error().message);
    if (auto s = read_range(dev.node, range->offset, range->length); !s)
        return fail(Errc::verification, "root.squashfs: dm-verity refused its metadata (" +
                                            s.error().message + "): a block does not match its hash");
    return {};
}

}  // namespace

Result<NfsRoot> open_nfs_root(const NfsPlan& plan, const PublicKey& key,
                              const std::function<void(const std::string&)>& say,
                              BootTimeline& timeline, const std::function<std::int64_t()>& now_ms) {
    auto src = parse_nfs_source(plan.source);
    if (!src) return src.error();
    std::int64_t t0 = now_ms();
    say("nfs: mounting " + plan.source + " read-only (NFSv4)");
    PIB_TRY(mount_export(plan, *src, say));
    std::int64_t t1 = now_ms();
    timeline.add("nfs_mount", t1 - t0);

    // The export is as untrusted as any server: the signature decides.
    auto bytes = read_whole(plan.mountpoint / "manifest.json");
    if (!bytes) return bytes.error();
    auto sig = read_whole(plan.mountpoint / "manifest.json.sig");
    if (!sig) return sig.error();
    auto m = verify_manifest(*bytes, *sig, key, plan.arch);
    if (!m) return m.error();
    PIB_TRY(check_release_id(*m, *bytes, plan.release));
    say("manifest verified: " + m->name + " " + m->version + " arch=" + m->arch +
        " key=" + key.fingerprint());
    if (!m->verity)
        return fail(Errc::verification, "release " + plan.release +
                                            " has no dm-verity data (built before root.verity "
                                            "existed); boot it with pib.root=http");
    const VerityInfo& v = *m->verity;
    const auto data = plan.mountpoint / v.data_path, hash = plan.mountpoint / v.hash_path;
    PIB_TRY(check_verity_files(v, size_of(data), size_of(hash)));
    std::int64_t t2 = now_ms();
    timeline.add("manifest", t2 - t1);

    NfsRoot out;
    out.manifest = *m;
    auto dl = attach_loop(data);
    if (!dl) return dl.error();
    out.data_loop = std::move(*dl);
    auto hl = attach_loop(hash);
    if (!hl) return hl.error();
    out.hash_loop = std::move(*hl);
    auto table = verity_table(v, out.data_loop.path, out.hash_loop.path);
    if (!table) return table.error();
    auto dev = create_verity_device("pib-root", verity_sectors(v), *table);
    if (!dev) return dev.error();
    out.device = *dev;
    say("dm-verity: " + dev->node + " over " + v.data_path + " root_hash=" + v.root_hash);
    PIB_TRY(probe(out.device, v));
    say("verified " + v.data_path + " superblock and metadata through dm-verity");
    timeline.add("verity", now_ms() - t2);
    return out;
}

}  // namespace pib::client
