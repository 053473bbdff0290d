// Shared by the overlay tests: a three-node inventory, running pibuild, and
// reading an overlay back through unsquashfs (an independent reader).
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace pib::overlays::test {

using pib::test::TempDir;
namespace fs = std::filesystem;

inline const std::string kAdminKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjqgU5M7pNcGjmWBnMOLReUYQrdTVlciAiDZJ9JVFyL admin@lab";
inline const std::string kOpsKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOH9ZTsRNFvk4SNVKOwcRH5evfqpdLmoD0ypN32LrgMX ops@lab";

inline std::string pibuild() { return pib::test::built_binary("builder/pibuild").string(); }

/// Three nodes: one with everything (FQDN, fstab, keys, inline and source
/// files with owners and modes), one with defaults only, one with no keys.
/// `pi01_host` lets a test change one node's hostname.
inline std::string three_nodes(const std::string& pi01_host = "pi-01.lab.example.net") {
    return "defaults:\n"
           "  authorized-keys: [\"" +
           kAdminKey +
           "\"]\n"
           "nodes:\n"
           "  - name: pi-01\n"
           "    serial: 1a2b3c4d\n"
           "    hostname: " +
           pi01_host +
           "\n"
           "    fstab:\n"
           "      - {device: \"nas:/srv/data\", mountpoint: /data, type: nfs4, options: "
           "\"ro,noatime\"}\n"
           "      - {device: LABEL=scratch, mountpoint: /scratch, type: ext4, pass: 2}\n"
           "    authorized-keys: [\"" +
           kAdminKey + "\", \"" + kOpsKey +
           "\"]\n"
           "    files:\n"
           "      - {path: /etc/motd, content: \"welcome to pi-01\\n\"}\n"
           "      - {path: /opt/app/run.sh, content: \"#!/bin/sh\\nexec true\\n\", mode: \"0750\", "
           "owner: \"1000\", group: \"100\"}\n"
           "      - {path: /etc/app/secret.conf, source: files/secret.conf, mode: \"0600\"}\n"
           "  - name: pi-02\n"
           "    mac: dc:a6:32:01:02:03\n"
           "  - name: x86-03\n"
           "    mac: 52:54:00:12:34:56\n"
           "    authorized-keys: []\n";
}

/// One entry as `unsquashfs -lln` lists it.
struct Listed {
    std::string perms;  ///< "-rw-r--r--"
    std::string owner;  ///< "0/0"
};

/// path ("/etc/hostname") -> perms and numeric owner.
inline std::map<std::string, Listed> list_image(const fs::path& image) {
    std::string out;
    EXPECT_EQ(pib::test::run({"unsquashfs", "-lln", image.string()}, &out), 0) << out;
    std::map<std::string, Listed> m;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream f(line);
        std::string perms, owner, size, date, time, path;
        if (!(f >> perms >> owner >> size >> date >> time >> path)) continue;
        if (!path.starts_with("squashfs-root")) continue;
        path = path.substr(std::string("squashfs-root").size());
        m[path.empty() ? "/" : path] = {perms, owner};
    }
    return m;
}

/// Unpacks an image with unsquashfs -d into `dir` (which must not exist).
inline void unpack(const fs::path& image, const fs::path& dir) {
    std::string out;
    ASSERT_EQ(
        pib::test::run({"unsquashfs", "-no-progress", "-d", dir.string(), image.string()}, &out), 0)
        << out;
}

inline unsigned mode_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
    return st.st_mode & 07777;
}

/// Names in a directory starting with '.' and containing ".tmp-" (leftovers).
inline std::vector<std::string> temporaries(const fs::path& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
        const std::string n = e.path().filename().string();
        if (n.starts_with(".") && n.find(".tmp-") != std::string::npos)
            out.push_back(e.path().string());
    }
    return out;
}

}  // namespace pib::overlays::test
