// pib.root=nfs: the release's NFS export mounted read-only with the kernel's
// NFSv4 client, its manifest verified with the baked-in key, and
// root.squashfs exposed only through a dm-verity device whose root hash comes
// from that signed manifest. Nothing is downloaded: NFS reads blocks as the
// root uses them, and the kernel checks each one (docs/nfs.md).
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "client/boot_report.hpp"
#include "client/dm_verity.hpp"
#include "client/mounts.hpp"
#include "common/result.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"

namespace pib::client {

struct NfsPlan {
    std::string source;          ///< pib.nfs: SERVER:/PATH
    std::string client_address;  ///< this machine's IPv4, dotted
    std::string release;         ///< pib.release: the id the manifest bytes must have
    std::string arch;
    std::filesystem::path mountpoint;  ///< where the export is mounted (/run/pib/nfs)
};

/// What the verified NFS root is: the manifest and the verity device to mount.
struct NfsRoot {
    Manifest manifest;
    DmDevice device;
    /// The loop devices under the verity device; kept open until the
    /// squashfs is mounted (autoclear detaches them when it goes away).
    LoopDevice data_loop, hash_loop;
};

/// Does it all, saying what it waits for through `say`. Errc::verification
/// (see refusal_line) for anything the signature or a hash refuses: a bad
/// manifest, a release without verity data, files that do not fit the signed
/// parameters, and an image whose superblock or metadata fails dm-verity (EIO).
/// Adds the phases nfs_mount, manifest and verity to `timeline`.
Result<NfsRoot> open_nfs_root(const NfsPlan& plan, const PublicKey& key,
                              const std::function<void(const std::string&)>& say,
                              BootTimeline& timeline, const std::function<std::int64_t()>& now_ms);

}  // namespace pib::client
