// A body sink that streams into a file while hashing (SHA-256) and counting:
// root.squashfs is never held in memory and never read twice.
#pragma once

#include <filesystem>
#include <string>

#include "client/fetch.hpp"
#include "crypto/sha256.hpp"

namespace pib::client {

class HashingFileSink : public BodySink {
  public:
    explicit HashingFileSink(std::filesystem::path path) : path_(std::move(path)) {}
    ~HashingFileSink() override;
    HashingFileSink(const HashingFileSink&) = delete;
    HashingFileSink& operator=(const HashingFileSink&) = delete;

    /// Creates or truncates the file and starts a new hash.
    Status begin() override;
    Status write(std::string_view data) override;
    /// Closes the file; the digest (lower-case hex) of what was written.
    Result<std::string> finish();
    std::uint64_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
    int fd_ = -1;
    Sha256 hash_;
    std::uint64_t size_ = 0;
};

}  // namespace pib::client
