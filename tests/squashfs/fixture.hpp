// A source tree with every kind of inode a Debian root holds, for the
// squashfs writer and tree tests. Built as root (devices, owners, trusted.*).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "squashfs/tree.hpp"
#include "support/test_support.hpp"

namespace pib::test {

namespace fs = std::filesystem;

constexpr std::uint32_t kBlock = 131072;
constexpr std::int64_t kBaseTime = 1600000000;  // fixture mtimes start here

/// Deterministic bytes: half text-like (compressible), half noise, so blocks
/// exercise both compressed and stored-raw paths.
inline std::string pattern(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s[i] = (i / 4096) % 2 ? static_cast<char>(x) : static_cast<char>('a' + x % 7);
    }
    return s;
}

inline void put(const fs::path& p, const std::string& data, unsigned mode = 0644) {
    write_text(p, data, mode);
}

/// system.posix_acl_access granting uid 1234 read, in the kernel's xattr
/// format (version 2; USER_OBJ, USER, GROUP_OBJ, MASK, OTHER entries).
inline std::string acl_blob() {
    struct Entry {
        std::uint16_t tag, perm;
        std::uint32_t id;
    };
    const Entry entries[] = {{0x01, 6, 0xffffffffu},
                             {0x02, 4, 1234},
                             {0x04, 4, 0xffffffffu},
                             {0x10, 4, 0xffffffffu},
                             {0x20, 4, 0xffffffffu}};
    std::string blob(4, '\0');
    blob[0] = 2;
    for (const auto& e : entries) blob.append(reinterpret_cast<const char*>(&e), sizeof e);
    return blob;
}

inline void set_time(const fs::path& p, std::int64_t t) {
    timespec ts[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0)
        << p << ": " << std::strerror(errno);
}

inline void set_xattr(const fs::path& p, const std::string& key, const std::string& value) {
    ASSERT_EQ(::lsetxattr(p.c_str(), key.c_str(), value.data(), value.size(), 0), 0)
        << p << " " << key << ": " << std::strerror(errno);
}

/// Leaves a bound unix socket's inode at `p` (the socket fd is closed).
inline void make_socket(const fs::path& p) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    ASSERT_LT(p.string().size(), sizeof addr.sun_path);
    std::strcpy(addr.sun_path, p.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0)
        << std::strerror(errno);
    ::close(fd);
}

/// Builds the fixture under `root` (which must exist).
inline void make_fixture(const fs::path& root, bool with_socket = true) {
    ASSERT_EQ(::geteuid(), 0u) << "squashfs fixture needs root (devices, owners, trusted.* xattrs)";
    put(root / "empty", "");
    put(root / "small.txt", "hello squashfs\n");
    put(root / "one_block.bin", pattern(kBlock, 1));
    put(root / "multi_block.bin", pattern(3 * kBlock + 1234, 2));
    put(root / "two_blocks.bin", pattern(2 * kBlock, 3));
    put(root / "dup_a.bin",
        pattern(2 * kBlock + 777, 4));  // identical files: block + fragment dedup
    put(root / "dup_b.bin", pattern(2 * kBlock + 777, 4));
    put(root / "dup_small_a", "same tail\n");
    put(root / "dup_small_b", "same tail\n");
    {  // 1 MiB with one data block in the middle, holes around it
        std::ofstream(root / "sparse.img").close();
        fs::resize_file(root / "sparse.img", 8 * kBlock);
        std::fstream f(root / "sparse.img", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(3 * kBlock + 100);
        f << "data inside a sparse file";
    }
    fs::create_directories(root / "d1/d2/d3");
    fs::create_directories(root / "empty_dir");
    put(root / "d1/d2/d3/deep.txt", "deep\n");
    put(root / "d1/readme", pattern(5000, 5));

    fs::create_symlink("small.txt", root / "rel_link");
    fs::create_symlink("/etc/hostname", root / "abs_link");
    fs::create_symlink("does/not/exist", root / "dangling");
    fs::create_directories(root / "dev");
    ASSERT_EQ(::mknod((root / "dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0)
        << std::strerror(errno);
    ASSERT_EQ(::mknod((root / "dev/loop0").c_str(), S_IFBLK | 0660, makedev(7, 0)), 0)
        << std::strerror(errno);
    ASSERT_EQ(::mknod((root / "dev/big_minor").c_str(), S_IFCHR | 0600, makedev(259, 70000)), 0);
    ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0640), 0);
    if (with_socket) {
        ASSERT_NO_FATAL_FAILURE(make_socket(root / "sock"));
    }

    put(root / "hl_one", pattern(kBlock + 99, 6));  // three names, one inode
    fs::create_hard_link(root / "hl_one", root / "d1/hl_two");
    fs::create_hard_link(root / "hl_one", root / "d1/d2/hl_three");

    ASSERT_EQ(::chown((root / "small.txt").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::chown((root / "d1/d2").c_str(), 1234, 5678), 0);
    ASSERT_EQ(::lchown((root / "rel_link").c_str(), 4321, 8765), 0);
    fs::permissions(root / "small.txt", static_cast<fs::perms>(04755));
    fs::permissions(root / "empty_dir", static_cast<fs::perms>(01777));
    fs::permissions(root / "d1", static_cast<fs::perms>(02750));

    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "small.txt", "user.comment", "packed by pibuild"));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "small.txt", "trusted.overlay.opaque", "y"));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "d1", "security.label", std::string("bin\0ary", 7)));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "hl_one", "user.shared", "one inode, one set"));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "abs_link", "trusted.on_link", "x"));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "dup_small_a", "user.same", "value"));
    ASSERT_NO_FATAL_FAILURE(set_xattr(root / "dup_small_b", "user.same", "value"));
    ASSERT_NO_FATAL_FAILURE(
        set_xattr(root / "one_block.bin", "system.posix_acl_access", acl_blob()));

    // Fixed mtimes, deepest first so that setting them does not disturb parents.
    std::vector<fs::path> all;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
         ++it)
        all.push_back(it->path());
    std::sort(all.begin(), all.end(),
              [](const fs::path& a, const fs::path& b) { return a.string() > b.string(); });
    std::int64_t t = kBaseTime;
    for (const auto& p : all) ASSERT_NO_FATAL_FAILURE(set_time(p, t += 10));
    ASSERT_NO_FATAL_FAILURE(set_time(root, kBaseTime));
}

/// Drops the keys squashfs cannot store (and the writer reports) from a scan.
inline std::vector<TreeEntry> without_acls(std::vector<TreeEntry> v) {
    for (auto& e : v)
        std::erase_if(e.xattrs, [](const auto& kv) { return kv.first.rfind("system.", 0) == 0; });
    return v;
}

/// Readable difference for failure messages.
inline std::string describe_diff(const std::vector<TreeEntry>& want,
                                 const std::vector<TreeEntry>& got) {
    std::string out;
    auto show = [](const TreeEntry& e) {
        std::string s = e.path + " mode=" + std::to_string(e.mode) +
                        " uid=" + std::to_string(e.uid) + " gid=" + std::to_string(e.gid) +
                        " mtime=" + std::to_string(e.mtime) + " size=" + std::to_string(e.size) +
                        " link=" + e.link_target + " rdev=" + std::to_string(e.rdev_major) + ":" +
                        std::to_string(e.rdev_minor) + " nlink=" + std::to_string(e.nlink) +
                        " group=" + e.link_group + " sha=" + e.sha256.substr(0, 12);
        for (const auto& [k, v] : e.xattrs) s += " " + k + "(" + std::to_string(v.size()) + ")";
        return s;
    };
    std::size_t n = std::max(want.size(), got.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (i < want.size() && i < got.size() && want[i] == got[i]) continue;
        out += "  want: " + (i < want.size() ? show(want[i]) : std::string("(none)")) + "\n";
        out += "  got:  " + (i < got.size() ? show(got[i]) : std::string("(none)")) + "\n";
    }
    return out;
}

/// Expects `got` to be the scan of `src` except for the ACLs squashfs cannot hold.
inline void expect_same_tree(const fs::path& src, const Result<std::vector<TreeEntry>>& got) {
    auto want = scan_directory(src);
    ASSERT_TRUE(want.ok()) << want.error().message;
    ASSERT_TRUE(got.ok()) << got.error().message;
    auto expected = without_acls(*want);
    EXPECT_TRUE(expected == *got) << describe_diff(expected, *got);
}

/// A scratch directory with the fixture built in `src()`.
class FixtureTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(is_root()) << "these tests create devices and chown files: run them as root";
        std::filesystem::create_directory(src());
        ASSERT_NO_FATAL_FAILURE(make_fixture(src()));
    }
    std::filesystem::path src() const { return dir_ / "src"; }

    TempDir dir_;
};

}  // namespace pib::test
