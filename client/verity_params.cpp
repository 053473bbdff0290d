#include "client/verity_params.hpp"

#include "client/cmdline.hpp"

namespace pib::client {

namespace {

std::uint64_t le(std::span<const std::uint8_t> b, std::size_t at, std::size_t n) {
    std::uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;) v = v << 8 | b[at + i];
    return v;
}

}  // namespace

std::uint64_t verity_tree_bytes(std::uint64_t data_blocks, std::uint64_t hash_block_size) {
    const std::uint64_t per_block = hash_block_size / 32;  // sha256 digests per hash block
    std::uint64_t total = 0;
    for (std::uint64_t n = data_blocks; n > 1;) {
        n = (n + per_block - 1) / per_block;  // blocks of this level
        total += n;
    }
    return total * hash_block_size;
}

std::uint64_t verity_sectors(const VerityInfo& v) {
    return v.data_blocks * static_cast<std::uint64_t>(v.data_block_size) / 512;
}

Result<std::string> verity_table(const VerityInfo& v, const std::string& data_dev,
                                 const std::string& hash_dev) {
    // Manifest::parse checked every field; this guards what the table needs
    // for a manifest built in memory.
    if (v.algorithm != "sha256" || v.version != 1 || v.data_blocks == 0 || v.hash_block_size <= 0 ||
        v.data_block_size <= 0)
        return fail(Errc::invalid, "verity parameters cannot make a device (algorithm " +
                                       v.algorithm + ", format " + std::to_string(v.version) + ")");
    return "1 " + data_dev + " " + hash_dev + " " + std::to_string(v.data_block_size) + " " +
           std::to_string(v.hash_block_size) + " " + std::to_string(v.data_blocks) + " " +
           std::to_string(v.hash_offset / static_cast<std::uint64_t>(v.hash_block_size)) + " " +
           v.algorithm + " " + v.root_hash + " " + (v.salt.empty() ? "-" : v.salt);
}

Status check_verity_files(const VerityInfo& v, std::uint64_t data_size, std::uint64_t hash_size) {
    const std::uint64_t want = v.data_blocks * static_cast<std::uint64_t>(v.data_block_size);
    if (data_size != want)
        return fail(Errc::verification, v.data_path + " is " + std::to_string(data_size) +
                                            " bytes, the manifest says " + std::to_string(want));
    const std::uint64_t tree =
        v.hash_offset + verity_tree_bytes(v.data_blocks, static_cast<std::uint64_t>(v.hash_block_size));
    if (hash_size < tree)
        return fail(Errc::verification, v.hash_path + " is " + std::to_string(hash_size) +
                                            " bytes, the hash tree needs " + std::to_string(tree));
    return {};
}

Result<ByteRange> squashfs_metadata_range(std::span<const std::uint8_t> sb, std::uint64_t device_size,
                                          std::uint64_t block) {
    // struct squashfs_super_block (fs/squashfs/squashfs_fs.h): magic at 0,
    // s_major at 28, bytes_used at 40, inode_table_start at 64.
    if (sb.size() < 96 || le(sb, 0, 4) != 0x73717368)
        return fail(Errc::corrupted, "no squashfs superblock (bad magic)");
    if (le(sb, 28, 2) != 4) return fail(Errc::corrupted, "squashfs major version is not 4");
    const std::uint64_t used = le(sb, 40, 8), inodes = le(sb, 64, 8);
    if (used > device_size || inodes >= used)
        return fail(Errc::corrupted, "squashfs tables lie outside the image (bytes_used " +
                                         std::to_string(used) + ", image " +
                                         std::to_string(device_size) + ")");
    const std::uint64_t start = inodes / block * block;
    const std::uint64_t end = std::min(device_size, (used + block - 1) / block * block);
    return ByteRange{start, end - start};
}

Result<NfsSource> parse_nfs_source(std::string_view value) {
    auto colon = value.find(':');
    if (colon == std::string_view::npos || colon + 1 >= value.size() || value[colon + 1] != '/')
        return fail(Errc::invalid, "pib.nfs: must be SERVER:/PATH, not \"" + std::string(value) + "\"");
    NfsSource s{std::string(value.substr(0, colon)), std::string(value.substr(colon + 1))};
    // No resolver in the initramfs: the server must be an address.
    if (!parse_ipv4(s.server))
        return fail(Errc::invalid, "pib.nfs: the server must be an IPv4 address, not \"" + s.server + "\"");
    if (s.path.find(',') != std::string::npos || s.path.find(' ') != std::string::npos)
        return fail(Errc::invalid, "pib.nfs: the path must not contain ',' or spaces");
    return s;
}

std::string nfs_mount_options(const std::string& server, const std::string& client) {
    // hard: a server that goes away stalls reads rather than failing them
    // (the root is on it); nocto + long actimeo: releases never change, so
    // there is nothing to revalidate.
    return "vers=4,proto=tcp,port=2049,hard,nocto,actimeo=3600,addr=" + server +
           ",clientaddr=" + client;
}

}  // namespace pib::client
