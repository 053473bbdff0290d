// Network namespaces for the netbootd tests: a guard that creates named
// namespaces (names carry the test's pid) joined by veth pairs and deletes them
// in its destructor whatever happened, plus a way to move a thread into one.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace netbootd::test {

/// Joins the calling thread to a named network namespace.
inline bool enter_netns(const std::string& name) {
    int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    return ok;
}

/// Namespaces `<prefix>-<pid>-<suffix>`, removed in the destructor (deleting a
/// namespace removes the veth ends inside it too).
class NetnsGuard {
public:
    explicit NetnsGuard(std::string prefix) : base_(std::move(prefix) + "-" + std::to_string(getpid())) {}
    ~NetnsGuard() {
        for (auto it = made_.rbegin(); it != made_.rend(); ++it) pib::test::run({"ip", "netns", "del", *it});
    }
    NetnsGuard(const NetnsGuard&) = delete;
    NetnsGuard& operator=(const NetnsGuard&) = delete;

    /// The full name of namespace `suffix`.
    std::string name(const std::string& suffix) const { return base_ + "-" + suffix; }

    /// Creates namespace `suffix` with lo up; false (reason in `why`) on error.
    bool add(const std::string& suffix, std::string& why) {
        const std::string ns = name(suffix);
        if (!step({"ip", "netns", "add", ns}, why)) return false;
        made_.push_back(ns);
        return step({"ip", "-n", ns, "link", "set", "lo", "up"}, why);
    }

    /// A veth pair between namespaces `a` (end `if_a`, address `cidr_a`) and `b`;
    /// an empty cidr leaves that end without an address. Both ends are set up.
    bool link(const std::string& a, const std::string& if_a, const std::string& cidr_a, const std::string& b,
              const std::string& if_b, const std::string& cidr_b, std::string& why) {
        const std::string na = name(a), nb = name(b);
        if (!step({"ip", "-n", na, "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", nb}, why))
            return false;
        if (!cidr_a.empty() && !step({"ip", "-n", na, "addr", "add", cidr_a, "dev", if_a}, why)) return false;
        if (!cidr_b.empty() && !step({"ip", "-n", nb, "addr", "add", cidr_b, "dev", if_b}, why)) return false;
        return step({"ip", "-n", na, "link", "set", if_a, "up"}, why) &&
               step({"ip", "-n", nb, "link", "set", if_b, "up"}, why);
    }

private:
    static bool step(const std::vector<std::string>& argv, std::string& why) {
        std::string out;
        if (pib::test::run(argv, &out) == 0) return true;
        why.clear();
        for (const auto& a : argv) why += a + " ";
        why += ": " + out;
        return false;
    }

    std::string base_;
    std::vector<std::string> made_;
};

}  // namespace netbootd::test
