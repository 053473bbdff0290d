#include "release/store_release.hpp"

#include "common/fs.hpp"

namespace pib {

namespace {

bool is_pi(const Manifest& m) { return m.board == "rpi4" || m.board == "rpi5"; }

}  // namespace

StoreReleaseCheck check_store_release(const std::filesystem::path& dir, const std::string& id,
                                      const PublicKey& key) {
    StoreReleaseCheck c;
    VerifyReport report;
    auto m = verify_release(dir, key, report);
    if (!m) {
        c.problems =
            report.problems.empty() ? std::vector<std::string>{m.error().message} : report.problems;
        return c;
    }
    // The directory name must be the content-derived id: a renamed copy of
    // another release would otherwise be served under a name it does not have.
    auto bytes = read_file(dir / "manifest.json");
    if (!bytes) {
        c.problems.push_back(bytes.error().message);
        return c;
    }
    const std::string want = release_id(*m, *bytes);
    if (want != id) {
        c.problems.push_back("directory is named '" + id + "' but its manifest gives the id '" +
                             want + "'");
        return c;
    }
    if (is_pi(*m))
        for (const auto& a : m->artifacts) {
            if (!a.path.starts_with("boot/") || a.size <= kPiTftpSafeSize) continue;
            c.warnings.push_back(a.path + " is " + std::to_string(a.size) +
                                 " bytes, above 65535 x 1024: Raspberry Pi bootloaders whose TFTP "
                                 "cannot roll the block counter over fail to load it");
        }
    c.manifest = std::move(*m);
    return c;
}

}  // namespace pib
