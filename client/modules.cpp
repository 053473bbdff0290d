// finit_module(2) loading for pib-init.
#include "client/modules.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace pib::client {

namespace {
// include/uapi/linux/module.h; absent from older libc headers.
constexpr unsigned kModuleInitCompressedFile = 4;

std::string normalise(std::string s) {
    std::replace(s.begin(), s.end(), '-', '_');
    return s;
}

bool is_compressed(const std::string& p) {
    auto ends = [&](const char* sfx) {
        std::size_t n = std::strlen(sfx);
        return p.size() >= n && p.compare(p.size() - n, n, sfx) == 0;
    };
    return ends(".xz") || ends(".zst") || ends(".gz");
}
}  // namespace

std::vector<std::string> read_module_list(const std::filesystem::path& list) {
    std::vector<std::string> out;
    std::ifstream in(list);
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '\t'))
            line.pop_back();
        std::size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#') continue;
        out.push_back(line.substr(start));
    }
    return out;
}

Result<std::string> find_module(const std::filesystem::path& tree, const std::string& name) {
    const std::string want = normalise(name);
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(tree, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::string file = it->path().filename().string();
        std::size_t ko = file.find(".ko");
        if (ko == std::string::npos || normalise(file.substr(0, ko)) != want) continue;
        std::string rest = file.substr(ko);
        if (rest == ".ko" || rest == ".ko.xz" || rest == ".ko.zst" || rest == ".ko.gz")
            return std::filesystem::relative(it->path(), tree).string();
    }
    return fail(Errc::not_found, "module " + name + " not found under " + tree.string());
}

int load_modules(const std::filesystem::path& tree, const std::vector<std::string>& modules,
                 const std::function<void(const std::string&)>& say) {
    int failures = 0;
    for (const auto& rel : modules) {
        const std::filesystem::path path = tree / rel;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            say("module " + rel + ": open: " + std::strerror(errno));
            ++failures;
            continue;
        }
        unsigned flags = is_compressed(rel) ? kModuleInitCompressedFile : 0;
        long rc = ::syscall(SYS_finit_module, fd, "", flags);
        int err = errno;
        ::close(fd);
        if (rc != 0 && err != EEXIST) {
            say("module " + rel + ": finit_module: " + std::strerror(err));
            ++failures;
        }
    }
    return failures;
}

}  // namespace pib::client
