// Touching paths inside a staged root safely: a recipe path like /etc/motd is
// resolved with openat2(RESOLVE_IN_ROOT), so an absolute symlink inside the
// image (/etc -> /host/etc) can never make the build write on the host.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pib {

/// Resolves `path` (absolute, inside the image) to a host path under `root`,
/// following the image's symlinks as the image would see them. The parent
/// directories are created (mode 0755) when `create_parents`. The last
/// component is not followed when it is a symlink.
Result<std::filesystem::path> resolve_in_root(const std::filesystem::path& root,
                                              const std::string& path, bool create_parents);

/// Expands a shell glob inside the root; every match is checked to stay inside.
Result<std::vector<std::filesystem::path>> glob_in_root(const std::filesystem::path& root,
                                                       const std::string& pattern);

/// Looks a user (or numeric uid) up in the root's /etc/passwd.
Result<uid_t> lookup_user(const std::filesystem::path& root, const std::string& name);
/// Looks a group (or numeric gid) up in the root's /etc/group.
Result<gid_t> lookup_group(const std::filesystem::path& root, const std::string& name);

/// The image-side path ("/etc/motd") of a host path under root.
std::string image_path(const std::filesystem::path& root, const std::filesystem::path& host);

}  // namespace pib
