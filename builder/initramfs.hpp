// The pib netboot initramfs: a newc cpio archive (the only format the kernel
// unpacks) holding /init (pib-init for the release's architecture), the
// fleet's public key, and the kernel modules the network boot needs with
// their dependencies, zstd-compressed. Deterministic: fixed order, owners,
// modes and mtimes, so the same inputs give the same bytes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "builder/recipe.hpp"
#include "common/result.hpp"

namespace pib {

/// One member of a newc archive.
struct CpioEntry {
    std::string path;       ///< relative, no leading '/': "init", "lib/modules/x/y.ko"
    std::uint32_t mode = 0; ///< with the type bits (S_IFREG | 0755, S_IFDIR | 0755, S_IFCHR | 0600)
    std::string data;       ///< file contents (regular files only)
    std::uint32_t rdev_major = 0, rdev_minor = 0;
};

/// The newc ("070701") archive of `entries` in the given order, all owned by
/// root with mtime `mtime`, terminated by TRAILER!!!.
std::string write_newc(const std::vector<CpioEntry>& entries, std::uint32_t mtime);

/// Kernel modules to load, dependencies first, as paths relative to
/// `modules_dir` (/lib/modules/<version> in the root). `required` names must
/// exist (or be built in) — Errc::not_found names the missing one; `optional`
/// ones are skipped when absent. Names match modprobe's ('-' and '_' alike).
Result<std::vector<std::string>> resolve_modules(const std::filesystem::path& modules_dir,
                                                 const std::vector<std::string>& required,
                                                 const std::vector<std::string>& optional);

/// The modules a pib initramfs carries besides the recipe's: NICs QEMU and
/// the boards use, loop, squashfs, overlayfs, NFSv4 and dm-verity.
std::vector<std::string> default_initramfs_modules(Arch arch);

/// Where the client program `name` ("pib-init", "pib-agent") for `arch` is:
/// $PIBUILD_<INIT|AGENT>_<AMD64|ARM64>, the build tree next to this pibuild
/// (client/<name>, client-arm64/<name>), then /usr/local/lib/pibuild/<arch>/<name>.
/// It must be a static ELF of that architecture.
Result<std::filesystem::path> find_client_program(Arch arch, const std::string& name);

/// find_client_program(arch, "pib-init").
Result<std::filesystem::path> find_pib_init(Arch arch);

}  // namespace pib
