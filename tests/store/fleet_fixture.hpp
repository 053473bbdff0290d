// A store for the fleet command tests (tests/builder/fleet_cli_test.cpp,
// tests/store/crash_test.cpp): small signed releases written with the
// library calls pibuild uses, the public key at <store>/fleet.pub, an
// inventory at <store>/nodes.yaml, and running the real pibuild binary with
// stdout and stderr apart.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/fs.hpp"
#include "crypto/ed25519.hpp"
#include "release/manifest.hpp"
#include "support/test_support.hpp"

namespace pib::test::fleet {

namespace fs = std::filesystem;

inline SigningKey key(unsigned char fill = 11) {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(fill);
    auto k = SigningKey::from_seed(seed);
    EXPECT_TRUE(k.ok());
    return *k;
}

/// Writes a small signed release into `dir` (created); returns its id.
inline std::string make_release(const fs::path& dir, const std::string& version, const SigningKey& k,
                                std::size_t root_bytes = 64 * 1024, bool ships_agent = false) {
    std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(version)));
    std::string root(root_bytes, '\0');
    for (auto& c : root) c = static_cast<char>(rng() & 0xff);
    write_text(dir / "root.squashfs", root);
    write_text(dir / "boot/vmlinuz", "kernel " + version);
    Manifest m;
    m.name = "fleet";
    m.version = version;
    m.arch = "amd64";
    m.board = "pc";
    m.tool_version = "0.1.0";
    m.recipe_sha256 = std::string(64, 'a');
    m.source_date_epoch = 1700000000;
    m.inputs = {{"recipe", "fleet.yaml", std::string(64, 'a')}};
    auto arts = hash_artifacts(dir);
    EXPECT_TRUE(arts.ok()) << arts.error().message;
    m.artifacts = *arts;
    m.boot = {{"kernel", "boot/vmlinuz"}, {"cmdline", "console=ttyS0"}};
    if (ships_agent) m.boot["health"] = "pib-agent";
    m.root = {{"compression", "zstd"}};
    auto st = write_signed_manifest(dir, m, k);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return release_id(m, *read_file(dir / "manifest.json"));
}

/// `count` nodes named node-001.. following `channel`, plus `extra` YAML entries.
inline std::string inventory_yaml(int count, const std::string& channel = "stable", const std::string& extra = "") {
    std::string y = "nodes:\n";
    for (int i = 1; i <= count; ++i) {
        char name[32], mac[32];
        std::snprintf(name, sizeof name, "node-%03d", i);
        std::snprintf(mac, sizeof mac, "52:54:00:00:%02x:%02x", i / 256, i % 256);
        y += std::string("  - name: ") + name + "\n    mac: " + mac + "\n    channel: " + channel + "\n";
    }
    return y + extra;
}

struct Output {
    int code = -1;
    std::string out;  ///< stdout
    std::string err;  ///< stderr
};

/// Runs argv with stdout and stderr captured apart; `env` entries ("K=V") are added.
inline Output run_split(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
    TempDir tmp;
    const fs::path out = tmp / "out", err = tmp / "err";
    pid_t pid = fork();
    if (pid == 0) {
        int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    Output r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = read_text(out);
    r.err = read_text(err);
    return r;
}

inline std::string pibuild() { return built_binary("builder/pibuild").string(); }

/// The JSON a command printed on stdout (a failed expectation when it is not JSON).
inline nlohmann::json parse_json(const Output& r) {
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
}

/// A store with the key, `nodes` inventory nodes and releases built on request.
class Store {
public:
    explicit Store(int nodes = 4) : k_(key()) {
        fs::create_directories(store());
        EXPECT_TRUE(write_key_pair(tmp_ / "k", k_).ok());
        fs::copy_file(tmp_ / "k.pub", store() / "fleet.pub");
        write_text(store() / "nodes.yaml", inventory_yaml(nodes));
    }
    fs::path store() const { return tmp_ / "store"; }
    fs::path path(const std::string& rel) const { return tmp_ / rel; }
    const SigningKey& signing_key() const { return k_; }
    /// Builds release `version` in <tmp>/src-<version>; returns its id.
    std::string build(const std::string& version) { return make_release(tmp_ / ("src-" + version), version, k_); }
    fs::path src(const std::string& version) const { return tmp_ / ("src-" + version); }
    /// Builds and publishes; returns the id.
    std::string published(const std::string& version) {
        const std::string id = build(version);
        auto r = cli({"publish", src(version).string()});
        EXPECT_EQ(r.code, 0) << r.err;
        return id;
    }
    /// pibuild <args> --store <store>.
    Output cli(std::vector<std::string> args, const std::vector<std::string>& env = {}) const {
        args.insert(args.begin(), pibuild());
        args.push_back("--store");
        args.push_back(store().string());
        return run_split(args, env);
    }

private:
    TempDir tmp_;
    SigningKey k_;
};

}  // namespace pib::test::fleet
