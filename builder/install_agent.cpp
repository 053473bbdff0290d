// install_agent (part of configure_boot): a release built with `initramfs: pib`
// carries pib-agent, the on-node service that reports the node's health after
// boot and, when enabled, reboots it into a new release inside its channel's
// maintenance window (docs/boot.md "On-node agent"). Written into the staged
// root before make_squashfs, so it is part of the signed image.
#include <unistd.h>

#include "builder/build_context.hpp"
#include "builder/initramfs.hpp"
#include "builder/root_paths.hpp"
#include "common/fs.hpp"
#include "crypto/sha256.hpp"

namespace pib {

namespace {

// Type=exec, not oneshot: the agent waits for `systemctl is-system-running
// --wait`, which returns only when every boot job is done; a oneshot started
// at boot is such a job and would wait for itself.
constexpr const char* kHealthService = R"([Unit]
Description=pib: report this boot's health to netbootd
Documentation=https://github.com/pibuild/pibuild/blob/main/docs/boot.md#on-node-agent
ConditionKernelCommandLine=pib.node
After=multi-user.target

[Service]
Type=exec
ExecStart=/usr/lib/pib/pib-agent health
StandardOutput=journal+console
StandardError=journal+console
RuntimeMaxSec=30min

[Install]
WantedBy=multi-user.target
)";

constexpr const char* kUpdateService = R"([Unit]
Description=pib: reboot into this node's new release inside its maintenance window
Documentation=https://github.com/pibuild/pibuild/blob/main/docs/boot.md#on-node-agent
ConditionKernelCommandLine=pib.node

[Service]
Type=oneshot
ExecStart=/usr/lib/pib/pib-agent watch
StandardOutput=journal+console
StandardError=journal+console
)";

// Started only when the recipe (boot.auto_reboot, /etc/pib/update.enabled) or
// the kernel command line (pib.update=1) asks for it: '|' makes either enough.
constexpr const char* kUpdateTimer = R"([Unit]
Description=pib: look for a new release for this node every few minutes
Documentation=https://github.com/pibuild/pibuild/blob/main/docs/boot.md#on-node-agent
ConditionKernelCommandLine=|pib.update=1
ConditionPathExists=|/etc/pib/update.enabled

[Timer]
OnBootSec=1min
OnUnitActiveSec=5min
RandomizedDelaySec=1min

[Install]
WantedBy=timers.target
)";

Status write_in_root(const BuildContext& ctx, const std::string& path, std::string_view data,
                     unsigned mode) {
    auto host = resolve_in_root(ctx.root, path, true);
    if (!host) return host.error();
    return write_file_atomic(*host, data, mode);
}

// `systemctl enable` without running systemctl in the root: the .wants link.
Status enable_unit(const BuildContext& ctx, const std::string& target, const std::string& unit) {
    auto link = resolve_in_root(ctx.root, "/etc/systemd/system/" + target + ".wants/" + unit, true);
    if (!link) return link.error();
    std::error_code ec;
    std::filesystem::remove(*link, ec);
    std::filesystem::create_symlink("/usr/lib/systemd/system/" + unit, *link, ec);
    if (ec) return fail(Errc::io, "enable " + unit + ": " + ec.message());
    return {};
}

}  // namespace

Status install_agent(BuildContext& ctx) {
    auto agent = find_client_program(ctx.recipe.arch, "pib-agent");
    if (!agent) return agent.error();
    auto bytes = read_file(*agent);
    if (!bytes) return bytes.error();
    PIB_TRY(write_in_root(ctx, "/usr/lib/pib/pib-agent", *bytes, 0755));
    PIB_TRY(write_in_root(ctx, "/usr/lib/systemd/system/pib-health.service", kHealthService, 0644));
    PIB_TRY(write_in_root(ctx, "/usr/lib/systemd/system/pib-update.service", kUpdateService, 0644));
    PIB_TRY(write_in_root(ctx, "/usr/lib/systemd/system/pib-update.timer", kUpdateTimer, 0644));
    PIB_TRY(enable_unit(ctx, "multi-user.target", "pib-health.service"));
    PIB_TRY(enable_unit(ctx, "timers.target", "pib-update.timer"));
    auto checks = resolve_in_root(ctx.root, "/etc/pib/health.d/.keep", true);
    if (!checks) return checks.error();
    if (ctx.recipe.boot.auto_reboot)
        PIB_TRY(write_in_root(ctx, "/etc/pib/update.enabled",
                              "# boot.auto_reboot: true in the recipe (pib-update.timer runs)\n", 0644));
    ctx.log.event(Level::info, "build", "pib_agent")
        .kv("agent", agent->string())
        .kv("auto_reboot", ctx.recipe.boot.auto_reboot ? "true" : "false");
    ctx.inputs.push_back(BuildInput{"file", std::string("pib-agent ") + arch_name(ctx.recipe.arch),
                                    sha256_hex(*bytes)});
    return {};
}

}  // namespace pib
