// A scratch directory that only root can write, for tests of files netbootd
// serves as the administrator's own (trusted_files.hpp): /tmp is world-writable,
// so anything below it is refused by design. Removed in the destructor.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

#include "netbootd/trusted_files.hpp"
#include "support/test_support.hpp"

namespace netbootd::test {

/// The account the tests guard against: nobody/nogroup (netbootd's stand-in).
inline pib::netbootd::Account nobody() {
    return pib::netbootd::lookup_account("nobody", "nogroup");
}

class TrustedDir {
  public:
    TrustedDir() {
        namespace fs = std::filesystem;
        // The build tree, else /run: whichever no one but root can write.
        for (const fs::path& base : {fs::path(PIB_BINARY_DIR), fs::path("/run")}) {
            std::string tmpl = (base / "pibtrust.XXXXXX").string();
            if (!mkdtemp(tmpl.data())) continue;
            fs::permissions(tmpl, fs::perms::owner_all | fs::perms::group_read |
                                      fs::perms::group_exec | fs::perms::others_read |
                                      fs::perms::others_exec);
            pib::test::write_text(fs::path(tmpl) / "probe", "probe");
            if (pib::netbootd::resolve_trusted(fs::path(tmpl) / "probe", nobody())) {
                fs::remove(fs::path(tmpl) / "probe");
                path_ = tmpl;
                return;
            }
            fs::remove_all(tmpl);
        }
        ADD_FAILURE() << "no directory only root can write under " << PIB_BINARY_DIR << " or /run";
    }
    ~TrustedDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    TrustedDir(const TrustedDir&) = delete;
    TrustedDir& operator=(const TrustedDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

  private:
    std::filesystem::path path_;
};

}  // namespace netbootd::test
