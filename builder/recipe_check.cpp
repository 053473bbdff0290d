// Checks across keys: combinations that cannot be built are refused before
// anything is built. Each check runs only when the keys it reads were read
// without problems, so that one typo does not cause a cascade of errors.
#include <algorithm>
#include <filesystem>

#include "builder/recipe_schema.hpp"

namespace pib::recipe {

namespace {

constexpr const char* kBaseKinds[] = {"debian", "image", "directory", "tarball"};

// Files the closed firmware must provide when the recipe does not list them.
// Pi 4: start4.elf + fixup4.dat (the bootloader asks TFTP for start4.elf first);
// Pi 5: none, its bootloader in EEPROM loads the kernel without start*.elf.
std::vector<std::string> default_firmware_files(Board b) {
    if (b == Board::rpi4) return {"start4.elf", "fixup4.dat"};
    return {};
}

bool is_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

void check_board(Reader& r, const Recipe& rec) {
    if (!r.clean("board")) return;
    const std::string board = board_name(rec.board);
    if (rec.board != Board::pc && rec.arch != Arch::arm64 && r.clean("arch")) {
        r.error(r.where("board")->value, "board",
                board + " needs arch arm64 (arch is " + arch_name(rec.arch) + ")");
    }
    if (rec.board == Board::pc) {
        const std::pair<const char*, bool> pi_only[] = {
            {"boot.firmware", true},
            {"boot.config_txt", !rec.boot.config_txt.empty()},
            {"boot.dtbs", !rec.boot.dtbs.empty()}};
        for (const auto& [path, used] : pi_only) {
            if (const Where* w = r.where(path); w && used)
                r.error(w->key, path, "only Raspberry Pi boards use this (board is pc)");
        }
    }
    // Checked here rather than in the firmware map: the whole map may be absent.
    if (rec.board == Board::rpi4 && !r.where("boot.firmware")) {
        const Where* boot = r.where("boot");
        r.error(boot ? boot->value : r.where("board")->value, "boot.firmware",
                "board rpi4 needs the closed Raspberry Pi firmware (start4.elf, fixup4.dat): "
                "give dir or from: image");
    }
}

void check_firmware_files(Reader& r, const Firmware& fw, bool defaulted) {
    namespace fs = std::filesystem;
    if (!fw.dir || fw.from_image || !r.ctx().check_files || !r.clean("boot.firmware.dir")) return;
    for (std::size_t i = 0; i < fw.files.size(); ++i) {
        const std::string& name = fw.files[i];
        std::error_code ec;
        if (is_glob(name) || fs::exists(fs::path(fw.dir->location) / name, ec)) continue;
        if (defaulted) {
            r.error(r.where("boot.firmware.dir")->value, "boot.firmware.dir",
                    fw.dir->location + " has no " + name + " (needed by the board; see files)");
        } else {
            const std::string path = item_path("boot.firmware.files", i);
            r.error(r.where(path)->value, path, name + " is not in " + fw.dir->location);
        }
    }
}

void check_firmware(Reader& r, Recipe& rec) {
    if (!rec.boot.firmware) return;
    Firmware& fw = *rec.boot.firmware;
    const Where* dir = r.where("boot.firmware.dir");
    const Where* from = r.where("boot.firmware.from");
    if (dir && from) {
        r.error(from->key, "boot.firmware.from", "give dir or from, not both");
    } else if (!dir && !from) {
        r.error(r.where("boot.firmware")->value, "boot.firmware",
                "needs dir (a host directory) or from: image");
    } else if (from && r.clean("boot.firmware.from") && r.clean("base") &&
               !std::holds_alternative<ImageBase>(rec.base)) {
        r.error(from->key, "boot.firmware.from",
                std::string("'image' needs an image base (base is ") +
                    kBaseKinds[rec.base.index()] + ")");
    }
    const bool defaulted = !r.where("boot.firmware.files");
    if (defaulted) fw.files = default_firmware_files(rec.board);
    check_firmware_files(r, fw, defaulted);
}

void check_image(Reader& r, const Recipe& rec) {
    const auto* image = std::get_if<ImageBase>(&rec.base);
    if (!image || !image->boot_partition || image->boot_partition != image->root_partition) return;
    r.error(r.where("base.image.root_partition")->key, "base.image.root_partition",
            "must differ from boot_partition");
}

// pib-agent and its update timer ship only with the pib initramfs (install_agent.cpp).
void check_agent(Reader& r, const Recipe& rec) {
    const Where* w = r.where("boot.auto_reboot");
    if (w && rec.boot.auto_reboot && !rec.boot.pib_initramfs && r.clean("boot.initramfs"))
        r.error(w->key, "boot.auto_reboot", "needs initramfs: pib (pib-agent ships with the pib initramfs)");
}

}  // namespace

void check_recipe(Reader& r, Recipe& rec) {
    check_board(r, rec);
    check_agent(r, rec);
    check_firmware(r, rec);
    check_image(r, rec);
}

}  // namespace pib::recipe
