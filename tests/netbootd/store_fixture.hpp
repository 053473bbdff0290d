// A release store for netbootd tests: signed releases written with the same
// library calls pibuild uses (hash_artifacts + write_signed_manifest), named
// by their content-derived id, plus the key, an inventory and a config.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>

#include "common/fs.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"
#include "support/test_support.hpp"

namespace netbootd::test {

/// `n` bytes of fixed pseudo-random data.
inline std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
}

inline pib::SigningKey fixed_key(unsigned char fill = 7) {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(fill);
    auto key = pib::SigningKey::from_seed(seed);
    EXPECT_TRUE(key.ok());
    return *key;
}

/// Writes `files` (path -> bytes) as a release signed by `key` under `releases`,
/// in a directory named by its id; returns the id.
inline std::string make_release(const std::filesystem::path& releases, const std::string& name,
                                const std::string& board, const std::map<std::string, std::string>& files,
                                const pib::SigningKey& key) {
    namespace fs = std::filesystem;
    const fs::path tmp = releases / (".build-" + name);
    fs::remove_all(tmp);
    for (const auto& [path, bytes] : files) pib::test::write_text(tmp / path, bytes);
    pib::Manifest m;
    m.name = name;
    m.version = "1.0";
    m.arch = board == "pc" ? "amd64" : "arm64";
    m.board = board;
    m.tool_version = "0.1.0";
    m.recipe_sha256 = std::string(64, 'a');
    m.source_date_epoch = 1700000000;
    m.inputs = {{"recipe", name + ".yaml", std::string(64, 'a')}};
    auto arts = pib::hash_artifacts(tmp);
    EXPECT_TRUE(arts.ok()) << arts.error().message;
    m.artifacts = *arts;
    m.boot = {{"kernel", files.count("boot/vmlinuz") ? "boot/vmlinuz" : "boot/kernel8.img"},
              {"initramfs", "boot/initrd.img"},
              {"cmdline", "console=ttyS0"}};
    m.root = {{"compression", "zstd"}};
    auto st = pib::write_signed_manifest(tmp, m, key);
    EXPECT_TRUE(st.ok()) << st.error().message;
    auto bytes = pib::read_file(tmp / "manifest.json");
    const std::string id = pib::release_id(m, *bytes);
    fs::rename(tmp, releases / id);
    return id;
}

}  // namespace netbootd::test
