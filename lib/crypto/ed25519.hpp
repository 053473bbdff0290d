// Ed25519 keys and signatures (OpenSSL 3; one-shot EVP_DigestSign with a NULL digest).
// Key files are PEM (PKCS#8 private, SubjectPublicKeyInfo public) so that
// `openssl pkey` and `openssl pkeyutl -verify -rawin` read them too.
// Signatures are the raw 64 bytes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pib {

/// A public key that verifies signatures.
class PublicKey {
public:
    /// Reads a PEM public key file.
    static Result<PublicKey> load(const std::filesystem::path& path);
    /// Parses PEM text.
    static Result<PublicKey> from_pem(std::string_view pem);
    /// From the raw 32-byte key.
    static Result<PublicKey> from_raw(std::span<const std::uint8_t> raw);

    /// True when `sig` (64 bytes) is a valid signature of `message` by this key.
    bool verify(std::string_view message, std::string_view sig) const;
    /// The raw 32-byte key.
    std::array<std::uint8_t, 32> raw() const { return raw_; }
    /// PEM text.
    std::string to_pem() const;
    /// "ed25519:" + first 16 hex digits of sha256(raw key), for logs and manifests.
    std::string fingerprint() const;

private:
    std::array<std::uint8_t, 32> raw_{};
};

/// A private key that signs.
class SigningKey {
public:
    /// Generates a new random key.
    static Result<SigningKey> generate();
    /// Reads a PEM private key file; refuses keys that are not Ed25519.
    static Result<SigningKey> load(const std::filesystem::path& path);

    /// The 64-byte signature of `message`.
    Result<std::string> sign(std::string_view message) const;
    PublicKey public_key() const;
    /// PKCS#8 PEM text of the private key.
    std::string to_pem() const;

private:
    std::array<std::uint8_t, 32> seed_{};
    PublicKey pub_;
};

/// `pibuild keygen -o NAME`: writes NAME.key (mode 0600) and NAME.pub (0644).
/// Refuses to overwrite an existing NAME.key (Errc::exists).
Status write_key_pair(const std::filesystem::path& name, const SigningKey& key);

}  // namespace pib
