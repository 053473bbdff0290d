// configure_boot: collects what the firmware or PXE loader fetches into the
// release's boot/ directory. File names are fixed per board so that netbootd
// and the bootloader need no per-release knowledge:
//   pc:        boot/vmlinuz, boot/initrd.img, boot/cmdline.txt
//   rpi4/rpi5: boot/kernel8.img, boot/initrd.img, boot/<dtb>, boot/<firmware>,
//              boot/config.txt, boot/cmdline.txt
#include <glob.h>

#include <algorithm>

#include "builder/build_context.hpp"
#include "builder/root_paths.hpp"
#include "common/fs.hpp"

namespace pib {

namespace {

bool is_pi(Board b) { return b == Board::rpi4 || b == Board::rpi5; }

Status copy_out(const std::filesystem::path& from, const std::filesystem::path& to) {
    auto data = read_file(from);
    if (!data) return data.error();
    std::error_code ec;
    std::filesystem::create_directories(to.parent_path(), ec);
    return write_file_atomic(to, *data, 0644);
}

// A boot path inside the image must name exactly one file.
Result<std::filesystem::path> one_file(const BuildContext& ctx, const std::string& pattern,
                                       const char* what) {
    auto matches = glob_in_root(ctx.root, pattern);
    if (!matches) return matches.error();
    std::vector<std::filesystem::path> files;
    for (const auto& m : *matches) {
        // Follow the image's own symlinks (e.g. /vmlinuz -> boot/vmlinuz-6.1...).
        std::error_code ec;
        auto target = m;
        for (int hops = 0; hops < 8 && std::filesystem::is_symlink(target, ec); ++hops) {
            auto link = std::filesystem::read_symlink(target, ec);
            std::string img = link.is_absolute() ? link.string()
                                                 : (std::filesystem::path(image_path(ctx.root, target))
                                                        .parent_path() / link).string();
            auto r = resolve_in_root(ctx.root, img, false);
            if (!r) return r.error();
            target = *r;
        }
        if (std::filesystem::is_regular_file(target, ec)) files.push_back(target);
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    if (files.empty()) {
        return fail(Errc::not_found, std::string("boot.") + what + ": nothing in the image matches " + pattern);
    }
    if (files.size() > 1) {
        std::string list;
        for (const auto& f : files) list += " " + image_path(ctx.root, f);
        return fail(Errc::invalid, std::string("boot.") + what + ": " + pattern +
                                       " matches more than one file:" + list + " (name one)");
    }
    return files.front();
}

Status copy_firmware(BuildContext& ctx, const std::filesystem::path& boot, nlohmann::json& names) {
    const Firmware& fw = *ctx.recipe.boot.firmware;
    std::filesystem::path dir = fw.from_image ? ctx.image_boot : std::filesystem::path(fw.dir->location);
    for (const auto& pattern : fw.files) {
        std::string full = (dir / pattern).string();
        glob_t g{};
        int rc = ::glob(full.c_str(), 0, nullptr, &g);
        std::vector<std::string> found;
        if (rc == 0) for (size_t i = 0; i < g.gl_pathc; ++i) found.emplace_back(g.gl_pathv[i]);
        ::globfree(&g);
        if (found.empty()) {
            return fail(Errc::not_found, "boot.firmware: " + pattern + " not found in " +
                                             (fw.from_image ? "the image's boot partition" : dir.string()));
        }
        for (const auto& f : found) {
            auto rel = std::filesystem::path(f).lexically_relative(dir);
            if (rel.empty() || *rel.begin() == "..") continue;
            if (std::filesystem::is_directory(f)) {
                for (const auto& e : std::filesystem::recursive_directory_iterator(f)) {
                    if (!e.is_regular_file()) continue;
                    auto r = e.path().lexically_relative(dir);
                    PIB_TRY(copy_out(e.path(), boot / r));
                    names.push_back("boot/" + r.string());
                }
            } else {
                PIB_TRY(copy_out(f, boot / rel));
                names.push_back("boot/" + rel.string());
            }
        }
    }
    ctx.inputs.push_back(BuildInput{"firmware", fw.from_image ? "image boot partition" : dir.string(), ""});
    return {};
}

}  // namespace

Status configure_boot(BuildContext& ctx) {
    const Boot& b = ctx.recipe.boot;
    const bool pi = is_pi(ctx.recipe.board);
    auto boot = ctx.release_tmp / "boot";
    std::error_code ec;
    std::filesystem::create_directories(boot, ec);
    if (ec) return fail(Errc::io, "create " + boot.string() + ": " + ec.message());
    auto& facts = ctx.boot_facts;

    const std::string kernel_name = pi ? "kernel8.img" : "vmlinuz";
    auto kernel = one_file(ctx, b.kernel, "kernel");
    if (!kernel) return kernel.error();
    PIB_TRY(copy_out(*kernel, boot / kernel_name));
    facts["kernel"] = "boot/" + kernel_name;
    facts["kernel_source"] = image_path(ctx.root, *kernel);

    if (b.pib_initramfs) {
        PIB_TRY(build_pib_initramfs(ctx, *kernel, boot / "initrd.img"));
        PIB_TRY(install_agent(ctx));
        facts["health"] = "pib-agent";  // rollouts gate waves on its report (docs/store.md)
        facts["initramfs"] = "boot/initrd.img";
        facts["initramfs_source"] = "pib";
    } else if (!b.initramfs.empty()) {
        auto initrd = one_file(ctx, b.initramfs, "initramfs");
        if (!initrd) return initrd.error();
        PIB_TRY(copy_out(*initrd, boot / "initrd.img"));
        facts["initramfs"] = "boot/initrd.img";
        facts["initramfs_source"] = image_path(ctx.root, *initrd);
    } else {
        facts["initramfs"] = nullptr;
    }

    nlohmann::json dtbs = nlohmann::json::array();
    for (const auto& pattern : b.dtbs) {
        auto matches = glob_in_root(ctx.root, pattern);
        if (!matches) return matches.error();
        if (matches->empty()) return fail(Errc::not_found, "boot.dtbs: nothing in the image matches " + pattern);
        for (const auto& m : *matches) {
            PIB_TRY(copy_out(m, boot / m.filename()));
            dtbs.push_back("boot/" + m.filename().string());
        }
    }
    facts["dtbs"] = dtbs;

    nlohmann::json firmware = nlohmann::json::array();
    if (b.firmware) PIB_TRY(copy_firmware(ctx, boot, firmware));
    facts["firmware"] = firmware;

    if (pi) {
        // The Pi firmware reads config.txt first; these lines make it load our
        // kernel and initramfs whatever its defaults for the board are.
        std::string cfg = "# config.txt for " + ctx.recipe.name + " " + ctx.recipe.version +
                          " (written by pibuild)\n[all]\narm_64bit=1\nkernel=" + kernel_name + "\n";
        if (!b.initramfs.empty() || b.pib_initramfs) cfg += "initramfs initrd.img followkernel\n";
        for (const auto& frag : b.config_txt) {
            cfg += frag;
            if (cfg.back() != '\n') cfg += '\n';
        }
        PIB_TRY(write_file_atomic(boot / "config.txt", cfg, 0644));
        facts["config_txt"] = "boot/config.txt";
    }
    // cmdline.txt is a template: netbootd appends the node's parameters
    // (server URL, node name, release id) when it serves it.
    PIB_TRY(write_file_atomic(boot / "cmdline.txt", b.cmdline + "\n", 0644));
    facts["cmdline"] = b.cmdline;
    facts["cmdline_txt"] = "boot/cmdline.txt";
    return {};
}

}  // namespace pib
