#include "crypto/sha256.hpp"

#include <openssl/evp.h>


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
    Sha256 h;
    FileDigest d;
    auto st = read_chunks(path, 1 << 20, [&](std::span<const std::uint8_t> b) {
        h.update(b);
        d.size += b.size();
    });
    if (!st) return st.error();
    d.sha256 = h.finish_hex();
    return d;
}

}  // namespace pib
