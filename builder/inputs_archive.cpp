// extract_tarball and copy_tree: GNU tar and cp do the work (they know every
// file type, xattrs and ACLs); we check what they are asked to do.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>

#include "builder/inputs.hpp"
#include "builder/inputs_internal.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"

namespace pib {

namespace {

constexpr std::size_t kMaxNamedMembers = 5;

std::int64_t ms_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
}

Status ensure_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(Errc::io, "create " + dir.string() + ": " + ec.message());
    return {};
}

// Lists the members with -P so that tar shows names as stored: without it GNU
// tar strips a leading '/' from the listing too, and we want to see it.
Result<std::size_t> check_members(const fs::path& tarball) {
    auto listed =
        run_checked(Command{.argv = {"tar", "-tPf", tarball.string()}, .capture_stdout = true});
    if (!listed)
        return fail(listed.error().code,
                    "list " + tarball.string() + ": " + listed.error().message);
    std::istringstream in(listed->out);
    std::string name;
    std::size_t count = 0;
    std::vector<std::string> bad;
    while (std::getline(in, name)) {
        ++count;
        std::string why = unsafe_member_reason(name);
        if (!why.empty()) bad.push_back("'" + name + "' (" + why + ")");
    }
    if (bad.empty()) return count;
    std::string msg = tarball.string() + ": refusing to extract " + std::to_string(bad.size()) +
                      " unsafe member" + (bad.size() == 1 ? "" : "s") + ": ";
    for (std::size_t i = 0; i < bad.size() && i < kMaxNamedMembers; ++i)
        msg += (i ? ", " : "") + bad[i];
    if (bad.size() > kMaxNamedMembers) msg += ", ...";
    return fail(Errc::corrupted, msg);
}

// FAT stores no owners and reports every file as 0755 (MACHINE-NOTES); give the
// tree the modes a boot partition's files are expected to have.
Status normalise_tree(const fs::path& root) {
    const bool as_root = ::geteuid() == 0;
    std::error_code ec;
    auto apply = [&](const fs::path& p) -> Status {
        struct stat st;
        if (::lstat(p.c_str(), &st) != 0)
            return fail(Errc::io, errno_message("stat " + p.string()));
        if (as_root && ::lchown(p.c_str(), 0, 0) != 0)
            return fail(Errc::io, errno_message("chown " + p.string()));
        if (S_ISLNK(st.st_mode)) return {};
        mode_t mode = S_ISDIR(st.st_mode) ? 0755 : 0644;
        if (::chmod(p.c_str(), mode) != 0)
            return fail(Errc::io, errno_message("chmod " + p.string()));
        return {};
    };
    PIB_TRY(apply(root));
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        PIB_TRY(apply(it->path()));
    }
    if (ec) return fail(Errc::io, "walk " + root.string() + ": " + ec.message());
    return {};
}

}  // namespace

std::string unsafe_member_reason(std::string_view name) {
    if (!name.empty() && name.front() == '/') return "absolute path";
    std::size_t start = 0;
    while (start <= name.size()) {
        auto end = name.find('/', start);
        if (end == std::string_view::npos) end = name.size();
        if (name.substr(start, end - start) == "..") return "'..' component";
        start = end + 1;
    }
    return "";
}

namespace inputs_detail {

Status extract_archive(const fs::path& tarball, const fs::path& root, Metadata metadata,
                       const Logger& log) {
    auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    if (!fs::is_regular_file(tarball, ec))
        return fail(Errc::not_found, tarball.string() + ": no such file");
    auto members = check_members(tarball);
    if (!members) return members.error();
    PIB_TRY(ensure_dir(root));

    // -f without a compression option: GNU tar recognises gzip, bzip2, xz, lzip,
    // lzma, lzop and zstd by their magic bytes and runs the matching program.
    std::vector<std::string> argv{"tar"};
    if (metadata == Metadata::keep) {
        // --xattrs-include=*: on extraction tar restores only user.* unless told otherwise.
        argv.insert(argv.end(),
                    {"--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "-xpf"});
    } else {
        argv.insert(argv.end(), {"--no-same-owner", "--no-same-permissions", "-xf"});
    }
    argv.insert(argv.end(), {tarball.string(), "-C", root.string()});
    auto r = run_checked(Command{.argv = argv});
    if (!r) return fail(r.error().code, "extract " + tarball.string() + ": " + r.error().message);
    if (metadata == Metadata::normalise) PIB_TRY(normalise_tree(root));
    log.event(Level::info, "inputs", "tar_extracted")
        .kv("path", tarball.string())
        .kv("root", root.string())
        .kv("members", static_cast<std::uint64_t>(*members))
        .kv("ms", ms_since(start));
    return {};
}

}  // namespace inputs_detail

Status extract_tarball(const fs::path& tarball, const fs::path& root, const Logger& log) {
    return inputs_detail::extract_archive(tarball, root, inputs_detail::Metadata::keep, log);
}

Status copy_tree(const fs::path& src, const fs::path& root, const Logger& log) {
    auto start = std::chrono::steady_clock::now();
    std::error_code ec;
    if (!fs::is_directory(src, ec))
        return fail(Errc::not_found, src.string() + ": not a directory");
    PIB_TRY(ensure_dir(root));
    // -a = -dR --preserve=all, which keeps hard links, devices, owners, modes and
    // ACLs, but treats a failure to copy an xattr as a warning; naming xattr
    // explicitly makes it an error, so nothing is dropped silently.
    auto r = run_checked(Command{.argv = {"cp", "-a", "--preserve=all", "--preserve=xattr",
                                          (src / ".").string(), root.string() + "/"}});
    if (!r) return fail(r.error().code, "copy " + src.string() + ": " + r.error().message);
    log.event(Level::info, "inputs", "tree_copied")
        .kv("src", src.string())
        .kv("root", root.string())
        .kv("ms", ms_since(start));
    return {};
}

}  // namespace pib
