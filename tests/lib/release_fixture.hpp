// Shared by the lib tests: a fixed sample manifest, a deterministic test key,
// and a small release directory built on disk.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "common/hex.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"
#include "support/test_support.hpp"

namespace pib::test {

/// A manifest touching every field, with artifacts in path order.
inline Manifest sample_manifest() {
    Manifest m;
    m.name = "pi4-k3s";
    m.version = "2026.11.1";
    m.arch = "arm64";
    m.board = "rpi4";
    m.description = "Raspberry Pi 4 k3s node \"ünïcode\" <ok>";
    m.tool_version = "0.1.0";
    m.recipe_sha256 = std::string(64, 'a');
    m.source_date_epoch = 1767225600;
    m.inputs = {
        {"recipe", "recipes/pi4.yaml", std::string(64, 'a')},
        {"debian", "bookworm http://deb.debian.org/debian", ""},
        {"firmware", "/srv/firmware", std::string(64, '0')},
    };
    m.artifacts = {
        {"boot/bcm2711-rpi-4-b.dtb", std::string(64, '1'), 52593},
        {"boot/config.txt", std::string(64, '2'), 120},
        {"boot/vmlinuz", std::string(64, '3'), 31457280},
        {"root.squashfs", std::string(64, '4'), 187695104},
    };
    m.boot = {{"kernel", "boot/vmlinuz"},
              {"initramfs", "boot/initrd.img"},
              {"dtbs", {"boot/bcm2711-rpi-4-b.dtb"}},
              {"cmdline", "console=serial0,115200 quiet"}};
    m.root = {{"compression", "zstd"}, {"level", 15}, {"block_size", 131072}, {"inodes", 15323}};
    return m;
}

/// A fixed key (the RFC 8032 section 7.1 test 1 secret), so that signatures are reproducible.
inline SigningKey test_key() {
    auto seed = from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    auto key = SigningKey::from_seed(*seed);
    EXPECT_TRUE(key.ok());
    return *key;
}

/// `n` bytes of fixed pseudo-random data.
inline std::string random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xff);
    return s;
}

/// Builds and signs a small release in `dir`: root.squashfs, boot/vmlinuz, boot/config.txt.
inline Manifest make_release(const std::filesystem::path& dir, const SigningKey& key) {
    write_text(dir / "root.squashfs", random_bytes(300 * 1024, 1));
    write_text(dir / "boot/vmlinuz", random_bytes(70 * 1024, 2));
    write_text(dir / "boot/config.txt", "arm_64bit=1\nkernel=vmlinuz\n");
    Manifest m = sample_manifest();
    auto artifacts = hash_artifacts(dir);
    EXPECT_TRUE(artifacts.ok()) << artifacts.error().message;
    m.artifacts = *artifacts;
    auto st = write_signed_manifest(dir, m, key);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return m;
}

}  // namespace pib::test
