// Where TFTP file names turn into open files (STYLE.md rule 5: policy is injected).
// DirectoryResolver serves one directory tree and never lets a name escape it.
#pragma once

#include <netinet/in.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "common/log.hpp"
#include "common/result.hpp"
#include "netbootd/trusted_files.hpp"
#include "tftp/transfer.hpp"

namespace netbootd {

/// The peer of a request, as the server saw it.
struct ClientAddress {
    sockaddr_in addr{};
    /// "a.b.c.d:port" for logs.
    std::string text() const;
};

/// Opens a regular file at `path` beneath the directory `dir_fd` with
/// openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS): no "..", absolute path or
/// symlink can leave it. Errc::invalid for an escape or a non-regular file
/// (access denied), Errc::not_found when missing. The caller owns the fd;
/// `st` gets its fstat.
pib::Result<int> open_beneath(int dir_fd, const std::string& path, struct stat& st);

/// Resolves a normalised TFTP path ("a/b/c", from tftp::normalize_path) to a file.
class TftpFileResolver {
public:
    virtual ~TftpFileResolver() = default;
    /// Errc::not_found -> ERROR 1, Errc::invalid -> ERROR 2 (tftp::error_code_for).
    virtual pib::Result<pib::tftp::FileInfo> open(const std::string& clean_path,
                                                  const ClientAddress& client) = 0;
};

/// Serves files beneath `root`. Opens with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
/// so no "..", absolute path or symlink can leave the root. Concurrent transfers of the same
/// file share one descriptor (dnsmasq's boot-storm trick), keyed by path and inode.
/// A Raspberry Pi path "<serial>/<file>" missing under the serial directory falls back to
/// "<file>" at the root, so boards without their own directory boot the shared files.
class DirectoryResolver : public TftpFileResolver {
public:
    /// Opens the root directory; Errc::not_found / Errc::io when it cannot be opened.
    static pib::Result<std::unique_ptr<DirectoryResolver>> create(const std::string& root);
    ~DirectoryResolver() override;

    pib::Result<pib::tftp::FileInfo> open(const std::string& clean_path,
                                          const ClientAddress& client) override;
    /// Distinct files currently open (shared among their transfers).
    std::size_t open_files();
    /// The root directory (O_PATH), for open_beneath(); -1 for a PinnedFilesResolver.
    int root_fd() const { return root_fd_; }
    /// open() without the Raspberry Pi serial-directory fallback.
    pib::Result<pib::tftp::FileInfo> open_exact(const std::string& clean_path) { return open_one(clean_path); }
    /// Opens `path` for reading, as open() would find it (without the Pi
    /// fallback); `st` gets its fstat. The HTTP server sends from it. Here:
    /// open_beneath(root_fd(), ...).
    virtual pib::Result<int> open_fd(const std::string& path, struct stat& st) const;

protected:
    explicit DirectoryResolver(int root_fd) : root_fd_(root_fd) {}
    pib::Result<pib::tftp::FileInfo> open_one(const std::string& path);

private:

    int root_fd_;
    std::mutex mu_;
    using Key = std::tuple<std::string, std::uint64_t, std::uint64_t>;  // path, dev, ino
    std::map<Key, std::weak_ptr<const pib::tftp::BlockSource>> shared_;
};

/// Serves a fixed set of names, each by the absolute, symlink-free path it
/// resolved to when the config was loaded (the iPXE binaries, resolved and
/// checked by pib::netbootd::resolve_ipxe_dir). Nothing else is served. A path
/// that has grown a symlink since (openat2 RESOLVE_NO_SYMLINKS), or a file
/// that `who` could now write (its mode or owner changed), is refused until a
/// reload resolves and checks it again.
class PinnedFilesResolver : public DirectoryResolver {
public:
    /// `files`: served name (no '/') -> absolute resolved path.
    PinnedFilesResolver(std::map<std::string, std::filesystem::path> files, pib::netbootd::Account who)
        : DirectoryResolver(-1), files_(std::move(files)), who_(std::move(who)) {}

    pib::Result<pib::tftp::FileInfo> open(const std::string& clean_path, const ClientAddress&) override {
        return open_one(clean_path);
    }
    pib::Result<int> open_fd(const std::string& name, struct stat& st) const override;
    const std::map<std::string, std::filesystem::path>& files() const { return files_; }

private:
    std::map<std::string, std::filesystem::path> files_;
    pib::netbootd::Account who_;
};

}  // namespace netbootd
