// Shared by the pib-init binary tests: a background process killed in the
// destructor, the flaky HTTP server, and running pib-init with split output.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.hpp"

namespace pib::client::test {

namespace fs = std::filesystem;

/// A process started in the background (stdout+stderr to `log`), SIGTERMed and reaped in the
/// destructor.
class Background {
  public:
    Background(const std::vector<std::string>& argv, const fs::path& log) {
        pid_ = ::fork();
        if (pid_ != 0) return;
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ~Background() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int st = 0;
        ::waitpid(pid_, &st, 0);
    }
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;

  private:
    pid_t pid_ = -1;
};

/// tests/client/data/flaky_http.py serving `root` on 127.0.0.1; `url()` once it listens.
class FlakyHttp {
  public:
    /// `prefix` runs it elsewhere, e.g. {"ip", "netns", "exec", NS}.
    FlakyHttp(const fs::path& root, std::vector<std::string> flags,
              std::vector<std::string> prefix = {}) {
        std::vector<std::string> argv = prefix;
        argv.insert(argv.end(), {"/usr/bin/python3", std::string(PIB_TEST_DATA) + "/flaky_http.py",
                                 fs::canonical(root).string(), (root / "port").string()});
        argv.insert(argv.end(), flags.begin(), flags.end());
        proc_ = std::make_unique<Background>(argv, root / "http.log");
        for (int i = 0; i < 200 && !fs::exists(root / "port"); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(25));
        port_ = pib::test::read_text(root / "port");
    }
    std::string url(const std::string& host = "127.0.0.1") const {
        return "http://" + host + ":" + port_;
    }
    bool ok() const { return !port_.empty(); }

  private:
    std::unique_ptr<Background> proc_;
    std::string port_;
};

/// Waits up to 5 s until `process` listens on `port` (udp or tcp) in namespace `ns`.
inline bool wait_for_listener(const std::string& ns, const std::string& proto, int port,
                              const std::string& process) {
    for (int i = 0; i < 100; ++i) {
        std::string out;
        pib::test::run({"ip", "netns", "exec", ns, "ss", proto == "udp" ? "-Hulnp" : "-Htlnp",
                        "sport", "=", ":" + std::to_string(port)},
                       &out);
        if (out.find(process) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
}

struct Ran {
    int rc = -1;
    std::string out;
    std::string err;
};

/// Runs argv with stdout and stderr captured separately.
inline Ran run_split(const std::vector<std::string>& argv, const fs::path& scratch) {
    std::vector<std::string> sh = {"/bin/sh", "-c",
                                   "\"$0\" \"$@\" >" + (scratch / "out.txt").string() + " 2>" +
                                       (scratch / "err.txt").string()};
    sh.insert(sh.end(), argv.begin(), argv.end());
    Ran r;
    r.rc = pib::test::run(sh);
    r.out = pib::test::read_text(scratch / "out.txt");
    r.err = pib::test::read_text(scratch / "err.txt");
    return r;
}

/// True when `path` is an ELF executable without a PT_INTERP program header
/// (a static binary, which is what runs alone in an initramfs). Sanitizer
/// builds link pib-init dynamically.
inline bool is_static_elf(const fs::path& path) {
    const std::string b = pib::test::read_text(path);
    if (b.size() < 64 ||
        b.compare(0, 4,
                  "\x7f"
                  "ELF") != 0 ||
        b[4] != 2)
        return false;  // ELF64 only
    auto u = [&](std::size_t at, int n) {
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
        return v;
    };
    const std::uint64_t phoff = u(32, 8), phentsize = u(54, 2), phnum = u(56, 2);
    for (std::uint64_t i = 0; i < phnum; ++i) {
        const std::uint64_t at = phoff + i * phentsize;
        if (at + 4 > b.size()) return false;
        if (u(at, 4) == 3) return false;  // PT_INTERP
    }
    return true;
}

inline fs::path pib_init() { return pib::test::built_binary("client/pib-init"); }
inline fs::path pib_init_arm64() { return pib::test::built_binary("client-arm64/pib-init"); }

}  // namespace pib::client::test
