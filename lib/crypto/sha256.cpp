#include "crypto/sha256.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <vector>

#include "common/fs.hpp"
#include "common/hex.hpp"

namespace pib {

struct Sha256::Impl {
    EVP_MD_CTX* ctx = nullptr;
    ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
    impl_->ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::uint8_t> data) {
    EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

void Sha256::update(std::string_view data) {
    EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::array<std::uint8_t, 32> Sha256::finish() {
    std::array<std::uint8_t, 32> out{};
    unsigned len = 0;
    EVP_DigestFinal_ex(impl_->ctx, out.data(), &len);
    return out;
}

std::string Sha256::finish_hex() {
    auto d = finish();
    return to_hex(d);
}

std::string sha256_hex(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish_hex();
}

Result<FileDigest> sha256_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return fail(errno == ENOENT ? Errc::not_found : Errc::io, errno_message(path.string()));
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    Sha256 h;
    FileDigest d;
    std::vector<std::uint8_t> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            auto e = fail(Errc::io, errno_message("read " + path.string()));
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        h.update(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(n)));
        d.size += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    d.sha256 = h.finish_hex();
    return d;
}

}  // namespace pib
