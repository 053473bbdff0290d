// The partition selection policy of import_image, kept free of libguestfs so
// that every case is a unit test.
#include <algorithm>
#include <array>

#include "builder/inputs.hpp"

namespace pib {

namespace {

constexpr std::array<std::string_view, 5> kRootTypes{"ext2", "ext3", "ext4", "xfs", "btrfs"};

bool is_root_type(const std::string& t) {
    return std::find(kRootTypes.begin(), kRootTypes.end(), t) != kRootTypes.end();
}

std::string human_size(std::uint64_t bytes) {
    constexpr std::uint64_t MiB = 1024 * 1024;
    if (bytes >= 10 * 1024 * MiB) return std::to_string(bytes / (1024 * MiB)) + " GiB";
    return std::to_string(bytes / MiB) + " MiB";
}

// "1 (vfat, 64 MiB), 2 (ext4, 235 MiB)": what the user can choose from.
std::string describe(const std::vector<PartitionInfo>& parts) {
    if (parts.empty()) return "none";
    std::string s;
    for (const auto& p : parts) {
        if (!s.empty()) s += ", ";
        s += std::to_string(p.number) + " (" + (p.fstype.empty() ? "no filesystem" : p.fstype) +
             ", " + human_size(p.size) + ")";
    }
    return s;
}

Result<const PartitionInfo*> explicit_partition(const std::vector<PartitionInfo>& parts, int number,
                                                const char* key) {
    for (const auto& p : parts) {
        if (p.number != number) continue;
        if (p.fstype.empty()) {
            return fail(Errc::invalid,
                        std::string(key) + " " + std::to_string(number) +
                            ": the partition has no filesystem libguestfs recognises");
        }
        return &p;
    }
    return fail(Errc::not_found, std::string(key) + " " + std::to_string(number) +
                                     " is out of range: the image has partitions " +
                                     describe(parts));
}

}  // namespace

Result<PartitionChoice> choose_partitions(const std::vector<PartitionInfo>& parts,
                                          const ImageBase& spec) {
    PartitionChoice c;
    if (spec.root_partition) {
        auto p = explicit_partition(parts, *spec.root_partition, "root_partition");
        if (!p) return p.error();
        c.root = *p;
    } else {
        // Largest wins: Raspberry Pi OS and most vendor images have exactly one,
        // and a small one beside a big one is usually a recovery or data partition.
        for (const auto& p : parts) {
            if (is_root_type(p.fstype) && (!c.root || p.size > c.root->size)) c.root = &p;
        }
        if (!c.root) {
            return fail(Errc::not_found,
                        "no root partition found: no ext2/3/4, xfs or btrfs filesystem among "
                        "partitions " +
                            describe(parts) + " (set root_partition to choose one)");
        }
    }
    if (spec.boot_partition) {
        auto p = explicit_partition(parts, *spec.boot_partition, "boot_partition");
        if (!p) return p.error();
        c.boot = *p;
    } else {
        for (const auto& p : parts) {
            if (p.fstype == "vfat" && &p != c.root) {
                c.boot = &p;
                break;
            }
        }
    }
    if (c.boot == c.root) {
        return fail(Errc::invalid, "partition " + std::to_string(c.root->number) +
                                       " cannot be both the root and the boot partition");
    }
    return c;
}

}  // namespace pib
