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
    /// Always false for a default-constructed key (it holds no key).
    bool verify(std::string_view message, std::string_view sig) const;
    /// The raw 32-byte key.
    std::array<std::uint8_t, 32> raw() const { return raw_; }
    /// PEM text.
    std::string to_pem() const;
    /// "ed25519:" + first 16 hex digits of sha256(raw key), for logs and manifests.
    std::string fingerprint() const;

private:
    std::array<std::uint8_t, 32> raw_{};
    // Set only by the factories: an all-zero key is a small-order point that
    // would accept forged signatures, so a default-constructed key verifies nothing.
    bool valid_ = false;
};

/// A private key that signs.
class SigningKey {
public:
    /// Generates a new random key.
    static Result<SigningKey> generate();
    /// Reads a PEM private key file; refuses keys that are not Ed25519.
    static Result<SigningKey> load(const std::filesystem::path& path);
    /// Parses PKCS#8 PEM text; refuses keys that are not Ed25519 and encrypted
    /// keys (a library never prompts for a pass phrase).
    static Result<SigningKey> from_pem(std::string_view pem);
    /// From the raw 32-byte private key (RFC 8032 "seed"); for test vectors.
    static Result<SigningKey> from_seed(std::span<const std::uint8_t> seed);

    SigningKey() = default;
    SigningKey(const SigningKey&) = default;
    SigningKey& operator=(const SigningKey&) = default;
    /// Wipes the private key from memory.
    ~SigningKey();

    /// The 64-byte signature of `message` (Errc::invalid for a default-constructed key).
    Result<std::string> sign(std::string_view message) const;
    /// The matching public key.
    PublicKey public_key() const;
    /// PKCS#8 PEM text of the private key.
    std::string to_pem() const;

private:
    std::array<std::uint8_t, 32> seed_{};
    PublicKey pub_;
    bool valid_ = false;  ///< set only by the factories
};

/// `pibuild keygen -o NAME`: writes NAME.key (mode 0600) and NAME.pub (0644).
/// Refuses to overwrite an existing NAME.key (Errc::exists).
Status write_key_pair(const std::filesystem::path& name, const SigningKey& key);

}  // namespace pib
