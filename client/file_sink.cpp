// Streaming a download into a file while hashing it.
#include "client/file_sink.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pib::client {

HashingFileSink::~HashingFileSink() {
    if (fd_ >= 0) ::close(fd_);
}

Status HashingFileSink::begin() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) return fail(Errc::io, "open " + path_.string() + ": " + std::strerror(errno));
    hash_ = Sha256();
    size_ = 0;
    return {};
}

Status HashingFileSink::write(std::string_view data) {
    if (fd_ < 0) return fail(Errc::invalid, "write before begin: " + path_.string());
    hash_.update(data);
    size_ += data.size();
    while (!data.empty()) {
        ssize_t n = ::write(fd_, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail(Errc::io, "write " + path_.string() + ": " + std::strerror(errno));
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

Result<std::string> HashingFileSink::finish() {
    if (fd_ < 0) return fail(Errc::invalid, "finish before begin: " + path_.string());
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return fail(Errc::io, "close " + path_.string() + ": " + std::strerror(errno));
    return hash_.finish_hex();
}

}  // namespace pib::client
