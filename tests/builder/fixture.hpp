// A small release fixture: a directory base made by the test (no network),
// a recipe over it, and a signing key. Shared by the builder tests.
#pragma once

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>

#include "builder/build.hpp"
#include "squashfs/tree.hpp"
#include "support/test_support.hpp"

namespace pib::test {

/// The entry for `path` in a scanned tree, or nullptr.
inline const TreeEntry* find_entry(const std::vector<TreeEntry>& tree, const std::string& path) {
    for (const auto& e : tree) if (e.path == path) return &e;
    return nullptr;
}

/// Builds one of the bundled recipes (recipes/NAME) into <dir>/out with a
/// fresh key; `env` feeds its ${VAR}s. Failures are returned as text.
inline Result<BuildResult> build_bundled(const std::string& name, const std::filesystem::path& dir,
                                         const std::map<std::string, std::string>& env) {
    RecipeContext rctx;
    rctx.env = env;
    Diagnostics diags;
    auto recipe = load_recipe(std::filesystem::path(PIB_SOURCE_DIR) / "recipes" / name, diags, rctx);
    if (!recipe) return fail(Errc::invalid, diags.str());
    auto key = SigningKey::generate();
    if (!key) return key.error();
    BuildOptions opts{dir / "out", dir / "work", dir / "cache"};
    return build_release(*recipe, *key, opts, Logger{});
}

/// Writes <dir>/rootfs (a tiny root with every kind of inode), <dir>/files,
/// <dir>/firmware and <dir>/recipe.yaml; `extra` is appended to the recipe.
inline void make_fixture(const std::filesystem::path& dir, const std::string& board = "pc",
                         const std::string& extra = "") {
    namespace fs = std::filesystem;
    auto r = dir / "rootfs";
    write_text(r / "etc/os-release", "ID=fixture\n");
    write_text(r / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\nkiosk:x:1500:1500::/home/kiosk:/bin/sh\n");
    write_text(r / "etc/group", "root:x:0:\nkiosk:x:1500:\n");
    write_text(r / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
    write_text(r / "etc/ssh/ssh_host_ed25519_key", "PRIVATE\n", 0600);
    write_text(r / "etc/ssh/ssh_host_ed25519_key.pub", "PUBLIC\n");
    write_text(r / "etc/obsolete.conf", "old\n");
    write_text(r / "boot/vmlinuz-6.1.0-test", std::string(300000, 'K'));
    write_text(r / "boot/initrd.img-6.1.0-test", std::string(100000, 'I'));
    write_text(r / "usr/lib/linux-image-6.1.0-test/broadcom/bcm2711-rpi-4-b.dtb", "DTB\n");
    write_text(r / "usr/share/doc/big.bin", std::string(2 << 20, 'x') + "tail");
    write_text(r / "usr/bin/tool", "#!/bin/sh\n", 0755);
    fs::create_directories(r / "dev");
    ::mknod((r / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3));
    fs::create_symlink("../usr/bin/tool", r / "etc/tool-link");
    fs::create_hard_link(r / "usr/bin/tool", r / "usr/bin/tool-again");
    ::setxattr((r / "usr/bin/tool").c_str(), "user.origin", "fixture", 7, 0);
    ::chown((r / "etc/os-release").c_str(), 0, 0);
    write_text(dir / "files/hello", "#!/bin/sh\necho hello\n", 0600);
    write_text(dir / "firmware/start4.elf", "placeholder start4.elf\n");
    write_text(dir / "firmware/fixup4.dat", "placeholder fixup4.dat\n");

    std::string recipe = "name: fixture\nversion: \"1.0\"\narch: " +
                         std::string(board == "pc" ? "amd64" : "arm64") + "\nboard: " + board +
                         "\nsource_date_epoch: 1700000000\n"
                         "base:\n  directory: ./rootfs\n"
                         "steps:\n"
                         "  - write: {path: /etc/motd, content: \"welcome\\n\", mode: \"0640\", group: kiosk}\n"
                         "  - copy: {src: ./files/hello, dest: /usr/local/bin/hello, mode: \"0755\"}\n"
                         "  - remove: [/etc/obsolete*]\n"
                         "boot:\n  kernel: /boot/vmlinuz-*\n  initramfs: /boot/initrd.img-*\n"
                         "  cmdline: \"console=ttyS0\"\n";
    if (board != "pc") {
        recipe += "  dtbs: [/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb]\n"
                  "  firmware: {dir: ./firmware}\n"
                  "  config_txt: [enable_uart=1]\n";
    }
    recipe += extra;
    write_text(dir / "recipe.yaml", recipe);
}

}  // namespace pib::test
