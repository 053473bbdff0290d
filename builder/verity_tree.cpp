// dm-verity hash tree writer (format 1, sha256, no superblock).
//
// Layout, as cryptsetup's VERITY_create and the kernel's verity_ctr agree:
// level 0 holds the digests of the data blocks, level i+1 the digests of the
// blocks of level i, until a level fits in one block. Each level is padded to
// whole hash blocks with zeros, and the levels are stored top (smallest)
// first. The root hash is the digest of the single top block. In format 1 a
// digest is sha256(salt || block). With one data block there are no levels
// and the root hash is that block's digest (verity_hash_for_block with
// v->levels == 0).
#include "builder/verity_tree.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/fs.hpp"
#include "common/hex.hpp"
#include "crypto/sha256.hpp"

namespace pib {

namespace {

constexpr std::size_t kDigest = 32;

using Bytes = std::vector<std::uint8_t>;

std::array<std::uint8_t, kDigest> salted_digest(const Bytes& salt, const std::uint8_t* block,
                                                std::size_t size) {
    Sha256 h;
    h.update(std::span<const std::uint8_t>(salt.data(), salt.size()));
    h.update(std::span<const std::uint8_t>(block, size));
    return h.finish();
}

// Digests of consecutive `block`-sized pieces of `level`, packed into
// hash blocks of `hash_block` bytes, the last one zero-padded.
Bytes hash_level(const Bytes& salt, const Bytes& level, std::size_t block, std::size_t hash_block) {
    Bytes out;
    const std::size_t per_block = hash_block / kDigest;
    const std::size_t count = level.size() / block;
    out.reserve((count + per_block - 1) / per_block * hash_block);
    for (std::size_t i = 0; i < count; ++i) {
        auto d = salted_digest(salt, level.data() + i * block, block);
        out.insert(out.end(), d.begin(), d.end());
    }
    out.resize((count + per_block - 1) / per_block * hash_block, 0);
    return out;
}

Error sys_fail(const std::string& what) {
    return fail(Errc::io, what + ": " + std::strerror(errno));
}

}  // namespace

Result<VerityInfo> write_verity_tree(const std::filesystem::path& data,
                                     const std::filesystem::path& hash_out,
                                     const VerityParams& params) {
    auto pow2 = [](std::int64_t v) { return v >= 512 && v <= 4096 && (v & (v - 1)) == 0; };
    if (!pow2(params.data_block_size) || !pow2(params.hash_block_size))
        return fail(Errc::invalid, "verity block sizes must be powers of two in 512..4096");
    const auto block = static_cast<std::size_t>(params.data_block_size);
    const auto hash_block = static_cast<std::size_t>(params.hash_block_size);

    VerityInfo info;
    info.data_path = data.filename().string();
    info.hash_path = hash_out.filename().string();
    info.data_block_size = params.data_block_size;
    info.hash_block_size = params.hash_block_size;
    info.salt = params.salt_hex;
    if (info.salt.empty()) {
        auto digest = sha256_file(data);
        if (!digest) return digest.error();
        info.salt = digest->sha256;
    }
    auto salt = from_hex(info.salt);
    if (!salt || salt->size() > 256) return fail(Errc::invalid, "verity salt: not hex, or over 256 bytes");

    // Level 0 is streamed from the file (a root image can be large); the
    // levels above are 1/128 of it and below, and are kept in memory.
    int fd = ::open(data.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_fail("open " + data.string());
    Bytes level0;
    const std::size_t per_block = hash_block / kDigest;
    std::vector<std::uint8_t> buf(block * 256);
    std::uint64_t size = 0;
    std::size_t fill = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf.data() + fill, buf.size() - fill);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            Error e = sys_fail("read " + data.string());
            ::close(fd);
            return e;
        }
        fill += static_cast<std::size_t>(n);
        size += static_cast<std::uint64_t>(n);
        if (n == 0 || fill == buf.size()) {
            for (std::size_t off = 0; off + block <= fill; off += block) {
                auto d = salted_digest(*salt, buf.data() + off, block);
                level0.insert(level0.end(), d.begin(), d.end());
            }
            if (fill % block != 0) break;  // only possible at the end: refused below
            fill = 0;
        }
        if (n == 0) break;
    }
    ::close(fd);
    if (size == 0 || size % block != 0) {
        return fail(Errc::invalid, data.string() + ": size " + std::to_string(size) +
                                       " is not a non-zero multiple of the verity block size " +
                                       std::to_string(block));
    }
    info.data_blocks = size / block;

    std::vector<Bytes> levels;  // levels[0] = digests of data blocks, padded
    if (info.data_blocks > 1) {
        level0.resize((level0.size() / kDigest + per_block - 1) / per_block * hash_block, 0);
        levels.push_back(std::move(level0));
        while (levels.back().size() > hash_block)
            levels.push_back(hash_level(*salt, levels.back(), hash_block, hash_block));
        info.root_hash = to_hex(salted_digest(*salt, levels.back().data(), hash_block));
    } else {
        info.root_hash = to_hex(std::span<const std::uint8_t>(level0.data(), kDigest));
    }
    std::string tree;
    for (auto it = levels.rbegin(); it != levels.rend(); ++it)
        tree.append(reinterpret_cast<const char*>(it->data()), it->size());
    PIB_TRY(write_file_atomic(hash_out, tree));
    return info;
}

}  // namespace pib
