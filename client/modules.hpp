// Kernel module loading for pib-init: finit_module(2) on the files the
// initramfs builder listed, dependencies first (it resolved modules.dep).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace pib::client {

/// The lines of a module list file: paths relative to the module tree, in
/// order; blank lines and '#' comments skipped. A missing file is an empty list.
std::vector<std::string> read_module_list(const std::filesystem::path& list);

/// Finds `<name>.ko` (optionally .xz/.zst/.gz; '-' and '_' equivalent) under
/// `tree`, as a path relative to it; Errc::not_found.
Result<std::string> find_module(const std::filesystem::path& tree, const std::string& name);

/// Loads each module (relative to `tree`) with finit_module; EEXIST is
/// success. Compressed files use MODULE_INIT_COMPRESSED_FILE (Linux 6.2+).
/// Every failure is reported through `say` and counted; the count is returned.
int load_modules(const std::filesystem::path& tree, const std::vector<std::string>& modules,
                 const std::function<void(const std::string&)>& say);

}  // namespace pib::client
