#include "release/release_store.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "common/fs.hpp"

namespace pib {

namespace {

constexpr const char* kIncoming = ".incoming-";
constexpr const char* kGc = ".gc-";

fs::path releases_dir(const fs::path& store) { return store / "releases"; }

std::string pid_suffix() { return "-" + std::to_string(::getpid()); }

// Copies one regular file and fsyncs the copy.
Status copy_file_durably(const fs::path& from, const fs::path& to) {
    const int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0) return fail(Errc::io, errno_message("open " + from.string()));
    const int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0 || ::fchmod(out, 0644) != 0) {
        ::close(in);
        if (out >= 0) ::close(out);
        return fail(Errc::io, errno_message("create " + to.string()));
    }
    std::array<char, 1 << 16> buf;
    Status st;
    for (;;) {
        const ssize_t n = ::read(in, buf.data(), buf.size());
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            st = fail(Errc::io, errno_message("read " + from.string()));
            break;
        }
        for (ssize_t done = 0; done < n && st;) {
            const ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
            if (w < 0 && errno != EINTR) st = fail(Errc::io, errno_message("write " + to.string()));
            if (w > 0) done += w;
        }
        if (!st) break;
    }
    if (st && ::fsync(out) != 0) st = fail(Errc::io, errno_message("fsync " + to.string()));
    ::close(in);
    if (::close(out) != 0 && st) st = fail(Errc::io, errno_message("close " + to.string()));
    return st;
}

// Copies the tree `from` (regular files and directories only, as
// verify_release allows) into the new directory `to`, fsyncing every file and
// directory so that the rename that follows publishes durable content.
Status copy_tree_durably(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    std::vector<fs::path> dirs{to};
    for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::path target = to / fs::relative(it->path(), from);
        if (it->is_directory(ec)) {
            // 0755 whatever the umask: netbootd may serve it root-squashed over NFS.
            if (::mkdir(target.c_str(), 0755) != 0 || ::chmod(target.c_str(), 0755) != 0)
                return fail(Errc::io, errno_message("mkdir " + target.string()));
            dirs.push_back(target);
        } else if (it->is_regular_file(ec)) {
            PIB_TRY(copy_file_durably(it->path(), target));
        } else {
            return fail(Errc::unsupported, it->path().string() + ": not a regular file or directory");
        }
    }
    if (ec) return fail(Errc::io, "read " + from.string() + ": " + ec.message());
    std::reverse(dirs.begin(), dirs.end());  // children before parents
    for (const auto& d : dirs) PIB_TRY(fsync_dir(d));
    return {};
}

// Every name in <store>/releases, sorted; none when it does not exist yet.
Result<std::vector<std::string>> entry_names(const fs::path& store) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::exists(releases_dir(store), ec)) return out;
    for (const auto& e : fs::directory_iterator(releases_dir(store), ec)) out.push_back(e.path().filename().string());
    if (ec) return fail(Errc::io, releases_dir(store).string() + ": " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

// Same signed manifest bytes and the published copy still verifies: the same release.
Result<bool> same_release(const fs::path& published, const std::string& manifest_bytes, const PublicKey& key) {
    auto existing = read_file(published / "manifest.json");
    if (!existing || *existing != manifest_bytes) return false;
    VerifyReport report;
    return verify_release(published, key, report).ok();
}

}  // namespace

Result<PublishResult> publish_release(const fs::path& src, const fs::path& store, const PublicKey& key,
                                      VerifyReport& report) {
    auto m = verify_release(src, key, report);
    if (!m) return m.error();
    auto bytes = read_file(src / "manifest.json");
    if (!bytes) return bytes.error();
    PublishResult out;
    out.id = release_id(*m, *bytes);
    out.dir = releases_dir(store) / out.id;
    out.manifest = *m;
    std::error_code ec;
    fs::create_directories(releases_dir(store), ec);
    if (ec) return fail(Errc::io, "mkdir " + releases_dir(store).string() + ": " + ec.message());
    auto exists_check = [&]() -> Result<bool> {
        if (!fs::exists(out.dir)) return false;
        auto same = same_release(out.dir, *bytes, key);
        if (!same) return same.error();
        if (!*same)
            return fail(Errc::exists, "release " + out.id + " is already published in " + store.string() +
                                          " with different content; refusing to replace it");
        return true;
    };
    auto present = exists_check();
    if (!present) return present.error();
    if (*present) {
        out.already_present = true;
        return out;
    }
    auto cleaned = clean_release_leftovers(store);
    if (!cleaned) return cleaned.error();
    const fs::path incoming = releases_dir(store) / (kIncoming + out.id + pid_suffix());
    PIB_TRY(remove_tree(incoming));
    if (::mkdir(incoming.c_str(), 0755) != 0 || ::chmod(incoming.c_str(), 0755) != 0)
        return fail(Errc::io, errno_message("mkdir " + incoming.string()));
    auto copied = copy_tree_durably(src, incoming);
    // The copy is what gets published: verify it, not only the source, in
    // case the source changed while it was read.
    VerifyReport copy_report;
    if (copied) {
        auto again = verify_release(incoming, key, copy_report);
        if (!again) copied = fail(Errc::verification, "the copy does not verify (did " + src.string() +
                                                          " change while it was published?)");
        else if (again->to_json() != m->to_json())
            copied = fail(Errc::verification, src.string() + " changed while it was published");
    }
    if (copied) copied = rename_noreplace(incoming, out.dir);
    if (!copied) {
        (void)remove_tree(incoming);
        report.problems.insert(report.problems.end(), copy_report.problems.begin(), copy_report.problems.end());
        // Another publisher may have put the same release in place meanwhile.
        if (copied.error().code == Errc::exists) {
            auto raced = exists_check();
            if (!raced) return raced.error();
            out.already_present = true;
            return out;
        }
        return copied.error();
    }
    return out;
}

Result<std::vector<std::string>> list_releases(const fs::path& store) {
    auto names = entry_names(store);
    if (!names) return names.error();
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& name : *names)
        if (name[0] != '.' && fs::is_directory(releases_dir(store) / name, ec)) out.push_back(name);
    return out;
}

Status remove_release(const fs::path& store, const std::string& id) {
    if (id.empty() || id[0] == '.' || id.find('/') != std::string::npos)
        return fail(Errc::invalid, "not a release id: " + id);
    const fs::path aside = releases_dir(store) / (kGc + id + pid_suffix());
    PIB_TRY(rename_noreplace(releases_dir(store) / id, aside));
    return remove_tree(aside);
}

Result<std::vector<std::string>> clean_release_leftovers(const fs::path& store) {
    auto names = entry_names(store);
    if (!names) return names.error();
    std::vector<std::string> removed;
    for (const auto& name : *names) {
        if (name.rfind(kIncoming, 0) != 0 && name.rfind(kGc, 0) != 0) continue;
        // <prefix><id>-<pid>: leave what a running process is still writing.
        const auto dash = name.rfind('-');
        const long pid = dash == std::string::npos ? 0 : std::strtol(name.c_str() + dash + 1, nullptr, 10);
        if (pid > 0 && pid != ::getpid() && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM)) continue;
        PIB_TRY(remove_tree(releases_dir(store) / name));
        removed.push_back(name);
    }
    return removed;
}

}  // namespace pib
