// Helpers shared by the test areas: scratch directories removed even when a
// test fails, and running this project's binaries.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace pib::test {

/// A scratch directory under $TMPDIR, removed (recursively) in the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    std::filesystem::path path_;
};

/// Writes a file, creating parent directories.
void write_text(const std::filesystem::path& path, const std::string& text, unsigned mode = 0644);

/// Reads a whole file; empty string when missing.
std::string read_text(const std::filesystem::path& path);

/// Runs argv (no shell), returns the exit code; stdout+stderr into *output if given.
int run(const std::vector<std::string>& argv, std::string* output = nullptr);

/// Path of a binary built by this project (e.g. "builder/pibuild").
std::filesystem::path built_binary(const std::string& rel);

/// True when running as root (tests needing root fail loudly, not skip, when not).
bool is_root();

}  // namespace pib::test
