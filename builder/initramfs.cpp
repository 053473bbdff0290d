#include "builder/initramfs.hpp"

#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "builder/build_context.hpp"
#include "common/fs.hpp"
#include "crypto/sha256.hpp"

namespace pib {

namespace fs = std::filesystem;

namespace {

void pad4(std::string& out) {
    while (out.size() % 4) out.push_back('\0');
}

void header(std::string& out, std::uint32_t ino, const CpioEntry& e, std::uint32_t mtime, std::uint32_t nlink) {
    char buf[111];
    const std::uint32_t namesize = static_cast<std::uint32_t>(e.path.size() + 1);
    std::snprintf(buf, sizeof buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, e.mode, 0u,
                  0u, nlink, mtime, static_cast<std::uint32_t>(e.data.size()), 0u, 0u, e.rdev_major, e.rdev_minor,
                  namesize, 0u);
    out.append(buf, 110);
    out += e.path;
    out.push_back('\0');
    pad4(out);
}

std::string module_name(std::string file) {
    file = fs::path(file).filename().string();
    for (const char* ext : {".ko.zst", ".ko.xz", ".ko.gz", ".ko"}) {
        if (file.size() > std::strlen(ext) && file.ends_with(ext)) {
            file.resize(file.size() - std::strlen(ext));
            break;
        }
    }
    std::replace(file.begin(), file.end(), '-', '_');
    return file;
}

std::string normalise(std::string name) {
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

}  // namespace

std::string write_newc(const std::vector<CpioEntry>& entries, std::uint32_t mtime) {
    std::string out;
    std::uint32_t ino = 1;
    for (const auto& e : entries) {
        const bool dir = S_ISDIR(e.mode);
        header(out, ino++, e, mtime, dir ? 2 : 1);
        out += e.data;
        pad4(out);
    }
    CpioEntry trailer{"TRAILER!!!", 0, {}, 0, 0};
    header(out, 0, trailer, 0, 1);
    // The kernel reads the archive in 512-byte units when concatenated; pad like cpio does.
    while (out.size() % 512) out.push_back('\0');
    return out;
}

std::vector<std::string> default_initramfs_modules(Arch arch) {
    std::vector<std::string> m = {// block and file systems the boot needs
                                  "loop", "squashfs", "overlay", "dm_verity",
                                  // NFSv4 root
                                  "nfsv4",
                                  // virtio (QEMU) and common wired NICs
                                  "virtio_pci", "virtio_net", "e1000", "e1000e", "r8169", "igb"};
    if (arch == Arch::arm64) {
        // Raspberry Pi 4 (GENET) and 5 (Cadence MACB through RP1), their PHYs.
        m.insert(m.end(), {"bcmgenet", "broadcom", "mdio_bcm_unimac", "macb"});
    }
    return m;
}

Result<std::vector<std::string>> resolve_modules(const fs::path& modules_dir, const std::vector<std::string>& required,
                                                 const std::vector<std::string>& optional) {
    auto dep_text = read_file(modules_dir / "modules.dep");
    if (!dep_text) return fail(Errc::not_found, "no modules.dep in " + modules_dir.string() + " (run depmod?)");
    std::map<std::string, std::string> path_of;                // name -> relative path
    std::map<std::string, std::vector<std::string>> deps_of;  // name -> dependency names
    std::istringstream lines(*dep_text);
    for (std::string line; std::getline(lines, line);) {
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string path = line.substr(0, colon);
        const std::string name = module_name(path);
        path_of[name] = path;
        std::istringstream deps(line.substr(colon + 1));
        for (std::string d; deps >> d;) deps_of[name].push_back(module_name(d));
    }
    std::set<std::string> builtin;
    if (auto b = read_file(modules_dir / "modules.builtin")) {
        std::istringstream bl(*b);
        for (std::string l; std::getline(bl, l);)
            if (!l.empty()) builtin.insert(module_name(l));
    }
    std::vector<std::string> order;
    std::set<std::string> done;
    // modules.dep lists every dependency, transitively, innermost last: load in reverse.
    std::function<void(const std::string&)> add = [&](const std::string& name) {
        if (done.count(name)) return;
        done.insert(name);
        const auto& deps = deps_of[name];
        for (auto it = deps.rbegin(); it != deps.rend(); ++it) add(*it);
        order.push_back(path_of[name]);
    };
    for (const auto& r : required) {
        const std::string n = normalise(r);
        if (path_of.count(n)) {
            add(n);
        } else if (!builtin.count(n)) {
            return fail(Errc::not_found, "boot.modules: no kernel module '" + r + "' in " + modules_dir.string());
        }
    }
    for (const auto& o : optional) {
        const std::string n = normalise(o);
        if (path_of.count(n)) add(n);
    }
    return order;
}

Result<fs::path> find_client_program(Arch arch, const std::string& name) {
    const bool arm = arch == Arch::arm64;
    std::string var = "PIBUILD_" + name.substr(name.find('-') + 1) + (arm ? "_ARM64" : "_AMD64");
    for (auto& ch : var) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    std::vector<fs::path> candidates;
    if (const char* env = std::getenv(var.c_str()); env && *env) candidates.emplace_back(env);
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // Installed: <prefix>/bin/pibuild and <prefix>/lib/pibuild/<arch>/<name>
        // (cmake/install.cmake); in a build tree: <build>/builder/pibuild and
        // <build>/client/<name>, <build>/client-arm64/<name>.
        const fs::path up = self.parent_path().parent_path();
        candidates.push_back(up / "lib" / "pibuild" / arch_name(arch) / name);
        candidates.push_back(up / (arm ? "client-arm64" : "client") / name);
    }
    for (const auto& c : candidates) {
        std::ifstream in(c, std::ios::binary);
        if (!in) continue;
        Elf64_Ehdr eh{};
        in.read(reinterpret_cast<char*>(&eh), sizeof eh);
        if (!in || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
            return fail(Errc::invalid, c.string() + ": not an ELF program");
        const unsigned want = arm ? EM_AARCH64 : EM_X86_64;
        if (eh.e_machine != want)
            return fail(Errc::invalid, c.string() + ": built for another architecture than " + arch_name(arch));
        // A static program has no PT_INTERP: the initramfs has no dynamic loader.
        for (unsigned i = 0; i < eh.e_phnum; ++i) {
            Elf64_Phdr ph{};
            in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * sizeof ph));
            in.read(reinterpret_cast<char*>(&ph), sizeof ph);
            if (in && ph.p_type == PT_INTERP) return fail(Errc::invalid, c.string() + ": not statically linked");
        }
        return c;
    }
    return fail(Errc::not_found, name + " for " + arch_name(arch) +
                                     " not found beside pibuild (in a build tree `cmake --build build "
                                     "--target pibuild` builds it; installed, it is <prefix>/lib/pibuild/" +
                                     arch_name(arch) + "/" + name + "), or set " + var);
}

Result<fs::path> find_pib_init(Arch arch) { return find_client_program(arch, "pib-init"); }

Status build_pib_initramfs(BuildContext& ctx, const fs::path& kernel, const fs::path& out) {
    auto init = find_pib_init(ctx.recipe.arch);
    if (!init) return init.error();
    auto init_bytes = read_file(*init);
    if (!init_bytes) return init_bytes.error();

    // The kernel version: the one directory of /lib/modules matching the kernel's name.
    const std::string kname = kernel.filename().string();
    const fs::path mods_root = ctx.root / "lib/modules";
    std::string kver;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(mods_root, ec)) {
        const std::string v = e.path().filename().string();
        if (kname.ends_with(v) || kver.empty()) kver = v;
    }
    if (kver.empty()) return fail(Errc::not_found, "no /lib/modules/<version> in the image for the pib initramfs");
    const fs::path mdir = mods_root / kver;
    auto mods = resolve_modules(mdir, ctx.recipe.boot.modules, default_initramfs_modules(ctx.recipe.arch));
    if (!mods) return mods.error();

    std::vector<CpioEntry> entries;
    std::set<std::string> dirs;
    auto add_dirs = [&](const std::string& path) {
        std::string acc;
        fs::path p(path);
        for (auto it = p.begin(); it != p.end() && std::next(it) != p.end(); ++it) {
            acc += (acc.empty() ? "" : "/") + it->string();
            if (dirs.insert(acc).second) entries.push_back({acc, S_IFDIR | 0755, {}, 0, 0});
        }
    };
    for (const char* d : {"dev", "proc", "sys", "run", "sysroot", "etc", "etc/pib-init", "lib", "lib/modules"}) {
        dirs.insert(d);
        entries.push_back({d, S_IFDIR | 0755, {}, 0, 0});
    }
    entries.push_back({"dev/console", S_IFCHR | 0600, {}, 5, 1});
    entries.push_back({"init", S_IFREG | 0755, *init_bytes, 0, 0});
    entries.push_back({"etc/pib-init/release.pub", S_IFREG | 0644, ctx.release_key.to_pem(), 0, 0});
    std::string list;
    std::uint64_t module_bytes = 0;
    for (const auto& m : *mods) {
        auto data = read_file(mdir / m);
        if (!data) return data.error();
        const std::string path = "lib/modules/" + kver + "/" + m;
        add_dirs(path);
        module_bytes += data->size();
        entries.push_back({path, S_IFREG | 0644, std::move(*data), 0, 0});
        list += m + "\n";
    }
    entries.push_back({"etc/pib-init/modules", S_IFREG | 0644, list, 0, 0});
    entries.push_back({"etc/pib-init/kernel-version", S_IFREG | 0644, kver + "\n", 0, 0});

    const std::string cpio = write_newc(entries, static_cast<std::uint32_t>(ctx.epoch));
    std::string z(ZSTD_compressBound(cpio.size()), '\0');
    const std::size_t n = ZSTD_compress(z.data(), z.size(), cpio.data(), cpio.size(), 19);
    if (ZSTD_isError(n)) return fail(Errc::io, std::string("zstd: ") + ZSTD_getErrorName(n));
    z.resize(n);
    PIB_TRY(write_file_atomic(out, z, 0644));
    ctx.log.event(Level::info, "build", "pib_initramfs")
        .kv("kernel", kver)
        .kv("modules", static_cast<std::uint64_t>(mods->size()))
        .kv("module_bytes", module_bytes)
        .kv("bytes", static_cast<std::uint64_t>(z.size()))
        .kv("init", init->string());
    ctx.inputs.push_back(BuildInput{"file", std::string("pib-init ") + arch_name(ctx.recipe.arch), sha256_hex(*init_bytes)});
    return {};
}

}  // namespace pib
