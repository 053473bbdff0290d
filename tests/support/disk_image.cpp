#include "support/disk_image.hpp"

#include <cstdlib>
#include <vector>

#include "support/test_support.hpp"

namespace pib::test {

namespace {

std::string step(const std::vector<std::string>& argv) {
    std::string out;
    if (run(argv, &out) != 0) return argv[0] + " failed: " + out;
    return "";
}

}  // namespace

std::string make_disk_image(const std::filesystem::path& image, const std::filesystem::path& fat_src,
                            const std::filesystem::path& root_stage, const DiskLayout& layout) {
    ::setenv("MTOOLS_SKIP_CHECK", "1", 1);  // mtools refuses images without a partition table otherwise
    const auto fat = image.string() + ".fat", ext4 = image.string() + ".ext4";
    const std::string fat_size = std::to_string(layout.fat_mib) + "M";
    const std::string root_size = std::to_string(layout.root_mib) + "M";
    const std::string total = std::to_string(1 + layout.fat_mib + layout.root_mib) + "M";
    std::vector<std::vector<std::string>> steps = {
        {"truncate", "-s", fat_size, fat},
        {"mkfs.vfat", "-F", "32", "-n", "BOOT", fat},
    };
    for (const auto& e : std::filesystem::directory_iterator(fat_src)) {
        steps.push_back({"mcopy", "-s", "-i", fat, e.path().string(), "::/"});
    }
    steps.push_back({"truncate", "-s", root_size, ext4});
    steps.push_back({"mkfs.ext4", "-q", "-F", "-L", "rootfs", "-d", root_stage.string(), ext4});
    steps.push_back({"truncate", "-s", total, image.string()});
    for (const auto& s : steps) {
        if (auto err = step(s); !err.empty()) return err;
    }
    // sfdisk reads the table from stdin; go through sh for the redirection.
    const long fat_sectors = static_cast<long>(layout.fat_mib) * 2048;
    const std::string table = "label: dos\\nstart=2048, size=" + std::to_string(fat_sectors) +
                              ", type=c\\nstart=" + std::to_string(2048 + fat_sectors) + ", type=83\\n";
    if (auto err = step({"sh", "-c", "printf '" + table + "' | sfdisk --quiet '" + image.string() + "'"});
        !err.empty()) {
        return err;
    }
    for (const auto& [part, seek] : {std::pair{fat, 1}, std::pair{ext4, 1 + layout.fat_mib}}) {
        if (auto err = step({"dd", "if=" + part, "of=" + image.string(), "bs=1M",
                             "seek=" + std::to_string(seek), "conv=notrunc", "status=none"});
            !err.empty()) {
            return err;
        }
    }
    std::filesystem::remove(fat);
    std::filesystem::remove(ext4);
    return "";
}

std::string compress_file(const std::filesystem::path& in, const std::filesystem::path& out,
                          const std::string& tool) {
    std::string flags;
    if (tool == "xz")
        flags = "-1 -T2";  // the 300 MiB test image in ~2 s (default level: ~4 s)
    else if (tool == "zstd")
        flags = "-q";
    else if (tool == "gzip")
        flags = "-1";
    else
        return "compress_file: unknown tool " + tool;
    // The tools write to stdout; "$1" and "$2" are arguments, never shell text.
    return step({"sh", "-c", tool + " " + flags + " -c -- \"$1\" > \"$2\"", "sh", in.string(),
                 out.string()});
}

}  // namespace pib::test
