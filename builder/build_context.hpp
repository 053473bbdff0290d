// State shared by the build stages. Internal to the builder.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "builder/build.hpp"
#include "crypto/ed25519.hpp"

namespace pib {

struct BuildContext {
    const Recipe& recipe;
    const BuildOptions& opts;
    const Logger& log;
    BuildObserver& observer;

    std::int64_t epoch = 0;                 ///< SOURCE_DATE_EPOCH in force
    std::filesystem::path work;             ///< private work directory
    std::filesystem::path root;             ///< <work>/root: the staged tree
    std::filesystem::path image_boot;       ///< <work>/image-boot: an imported image's boot partition
    std::filesystem::path release_tmp;      ///< <output>/.pibuild-<pid>-XXXX: the release being assembled
    bool apt_updated = false;
    PublicKey release_key;                  ///< baked into a pib initramfs

    std::vector<BuildInput> inputs;         ///< manifest inputs, in the order met
    nlohmann::json boot_facts = nlohmann::json::object();
    SquashfsStats squashfs;
    std::optional<VerityInfo> verity;       ///< root.verity's parameters (make_verity)
    std::vector<std::string> warnings;

    /// Environment for every tool run inside or on the root.
    std::map<std::string, std::string> tool_env() const;
    /// Runs argv chrooted into the root with /proc, /sys, /dev mounted privately.
    Status run_in_root(std::vector<std::string> argv, const std::string& what) const;
};

/// "amd64" or "arm64" (or the kernel's name for anything else).
std::string host_arch();
/// Makes sure programs of `arch` can run here (qemu-user through binfmt_misc).
Status ensure_binfmt(Arch arch, const Logger& log);

Status fetch_base(BuildContext& ctx);
Status apply_steps(BuildContext& ctx);
Status sanitize_root(BuildContext& ctx);
Status configure_boot(BuildContext& ctx);
/// Builds the pib netboot initramfs for the kernel at `kernel` (in the root) into `out`.
Status build_pib_initramfs(BuildContext& ctx, const std::filesystem::path& kernel,
                           const std::filesystem::path& out);
/// Installs pib-agent and its systemd units into the root (`initramfs: pib`; install_agent.cpp).
Status install_agent(BuildContext& ctx);


}  // namespace pib
