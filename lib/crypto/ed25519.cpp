#include "crypto/ed25519.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>

#include "common/fs.hpp"
#include "common/hex.hpp"
#include "crypto/sha256.hpp"

namespace pib {
namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

constexpr std::size_t kKeySize = 32;
constexpr std::size_t kSignatureSize = 64;

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// Drains OpenSSL's thread-local error queue into one line, so that no stale
// error is reported by a later, unrelated call.
std::string openssl_errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    return out.empty() ? "no detail from OpenSSL" : out;
}

// Pass-phrase callback that refuses: a library must never read the terminal,
// which OpenSSL's default callback does for an encrypted PEM key.
int refuse_passphrase(char*, int, int, void*) { return -1; }

BioPtr read_bio(std::string_view text) {
    return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Status require_ed25519(const EVP_PKEY* k) {
    if (EVP_PKEY_get_id(k) == EVP_PKEY_ED25519) return {};
    const char* type = EVP_PKEY_get0_type_name(k);
    return fail(Errc::unsupported, std::string("not an Ed25519 key (found ") +
                                       (type ? type : "an unknown type") + ")");
}

// Reads a PEM file and parses it with `parse`; errors name the file. The text
// is wiped afterwards, as it may hold a private key.
template <class Key>
Result<Key> load_pem_file(const std::filesystem::path& path,
                          Result<Key> (*parse)(std::string_view)) {
    auto text = read_file(path);
    if (!text) return text.error();
    auto key = parse(*text);
    OPENSSL_cleanse(text->data(), text->size());
    if (!key) return fail(key.error().code, path.string() + ": " + key.error().message);
    return key;
}

}  // namespace

// ---- PublicKey ------------------------------------------------------------

Result<PublicKey> PublicKey::load(const std::filesystem::path& path) {
    return load_pem_file(path, &PublicKey::from_pem);
}

Result<PublicKey> PublicKey::from_pem(std::string_view pem) {
    ERR_clear_error();
    auto bio = read_bio(pem);
    PkeyPtr k(PEM_read_bio_PUBKEY(bio.get(), nullptr, refuse_passphrase, nullptr));
    if (!k) return fail(Errc::corrupted, "not a PEM public key: " + openssl_errors());
    PIB_TRY(require_ed25519(k.get()));
    PublicKey p;
    std::size_t len = p.raw_.size();
    if (EVP_PKEY_get_raw_public_key(k.get(), p.raw_.data(), &len) != 1 || len != kKeySize) {
        return fail(Errc::corrupted, "cannot read the raw public key: " + openssl_errors());
    }
    p.valid_ = true;
    return p;
}

Result<PublicKey> PublicKey::from_raw(std::span<const std::uint8_t> raw) {
    if (raw.size() != kKeySize) {
        return fail(Errc::invalid,
                    "an Ed25519 public key is 32 bytes, got " + std::to_string(raw.size()));
    }
    PublicKey p;
    std::copy(raw.begin(), raw.end(), p.raw_.begin());
    p.valid_ = true;
    return p;
}

bool PublicKey::verify(std::string_view message, std::string_view sig) const {
    if (!valid_ || sig.size() != kSignatureSize) return false;
    PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw_.data(), raw_.size()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    // Ed25519 is one-shot in OpenSSL 3: DigestVerifyInit with a NULL digest,
    // then a single EVP_DigestVerify over the whole message.
    bool ok =
        k && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), bytes_of(sig), sig.size(), bytes_of(message), message.size()) ==
            1;
    ERR_clear_error();
    return ok;
}

std::string PublicKey::to_pem() const {
    PkeyPtr k(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw_.data(), raw_.size()));
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!k || !bio || PEM_write_bio_PUBKEY(bio.get(), k.get()) != 1) {
        ERR_clear_error();
        return {};
    }
    return bio_text(bio.get());
}

std::string PublicKey::fingerprint() const {
    Sha256 h;
    h.update(std::span<const std::uint8_t>(raw_));
    return "ed25519:" + h.finish_hex().substr(0, 16);
}

// ---- SigningKey -----------------------------------------------------------

SigningKey::~SigningKey() { OPENSSL_cleanse(seed_.data(), seed_.size()); }

Result<SigningKey> SigningKey::generate() {
    std::array<std::uint8_t, kKeySize> seed{};
    if (RAND_priv_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
        return fail(Errc::io, "no random bytes for a new key: " + openssl_errors());
    }
    auto key = from_seed(seed);
    OPENSSL_cleanse(seed.data(), seed.size());
    return key;
}

Result<SigningKey> SigningKey::from_seed(std::span<const std::uint8_t> seed) {
    if (seed.size() != kKeySize) {
        return fail(Errc::invalid,
                    "an Ed25519 private key is 32 bytes, got " + std::to_string(seed.size()));
    }
    ERR_clear_error();
    PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    std::array<std::uint8_t, kKeySize> pub{};
    std::size_t len = pub.size();
    if (!k || EVP_PKEY_get_raw_public_key(k.get(), pub.data(), &len) != 1 || len != kKeySize) {
        return fail(Errc::invalid, "cannot derive the public key: " + openssl_errors());
    }
    auto pk = PublicKey::from_raw(pub);
    if (!pk) return pk.error();
    SigningKey s;
    std::copy(seed.begin(), seed.end(), s.seed_.begin());
    s.pub_ = *pk;
    s.valid_ = true;
    return s;
}

Result<SigningKey> SigningKey::load(const std::filesystem::path& path) {
    return load_pem_file(path, &SigningKey::from_pem);
}

Result<SigningKey> SigningKey::from_pem(std::string_view pem) {
    ERR_clear_error();
    auto bio = read_bio(pem);
    PkeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, refuse_passphrase, nullptr));
    if (!k) {
        if (pem.find("ENCRYPTED") != std::string_view::npos) {
            ERR_clear_error();
            return fail(Errc::unsupported, "encrypted private keys are not supported");
        }
        return fail(Errc::corrupted, "not a PEM private key: " + openssl_errors());
    }
    PIB_TRY(require_ed25519(k.get()));
    std::array<std::uint8_t, kKeySize> seed{};
    std::size_t len = seed.size();
    if (EVP_PKEY_get_raw_private_key(k.get(), seed.data(), &len) != 1 || len != kKeySize) {
        return fail(Errc::corrupted, "cannot read the raw private key: " + openssl_errors());
    }
    auto key = from_seed(seed);
    OPENSSL_cleanse(seed.data(), seed.size());
    return key;
}

Result<std::string> SigningKey::sign(std::string_view message) const {
    if (!valid_) return fail(Errc::invalid, "sign: no key loaded");
    ERR_clear_error();
    PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
    MdCtxPtr ctx(EVP_MD_CTX_new());
    std::string sig(kSignatureSize, '\0');
    std::size_t len = sig.size();
    // One-shot, NULL digest: EVP_DigestSignUpdate is not supported for Ed25519.
    if (!k || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, k.get()) != 1 ||
        EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       bytes_of(message), message.size()) != 1 ||
        len != kSignatureSize) {
        return fail(Errc::io, "ed25519 sign: " + openssl_errors());
    }
    return sig;
}

PublicKey SigningKey::public_key() const { return pub_; }

std::string SigningKey::to_pem() const {
    if (!valid_) return {};
    PkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed_.data(), seed_.size()));
    BioPtr bio(BIO_new(BIO_s_mem()));
    // PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("BEGIN PRIVATE KEY").
    if (!k || !bio ||
        PEM_write_bio_PrivateKey(bio.get(), k.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        ERR_clear_error();
        return {};
    }
    return bio_text(bio.get());
}

// ---- key files ------------------------------------------------------------

Status write_key_pair(const std::filesystem::path& name, const SigningKey& key) {
    std::filesystem::path key_path = name, pub_path = name;
    key_path += ".key";
    pub_path += ".pub";
    auto refuse = [&] {
        return fail(Errc::exists,
                    key_path.string() + " already exists; refusing to overwrite a private key");
    };
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::symlink_status(key_path, ec))) return refuse();

    std::string pem = key.to_pem();
    if (pem.empty()) return fail(Errc::invalid, "write_key_pair: no key to write");
    // The private key is written and fsynced (mode 0600 from the start) in a
    // private temporary directory, then renamed into place with
    // RENAME_NOREPLACE: as exclusive as O_EXCL, but a crash never leaves a
    // half-written NAME.key that would block the next attempt.
    std::filesystem::path dir = name.parent_path().empty() ? "." : name.parent_path();
    auto tmp = make_temp_dir(dir, "keygen");
    if (!tmp) return tmp.error();
    Status st = write_file_atomic(*tmp / "key", pem, 0600);
    OPENSSL_cleanse(pem.data(), pem.size());
    if (st) st = rename_noreplace(*tmp / "key", key_path);
    (void)remove_tree(*tmp);
    if (!st) return st.error().code == Errc::exists ? refuse() : st;
    // The public key last: when NAME.key already existed, nothing was touched.
    return write_file_atomic(pub_path, key.public_key().to_pem(), 0644);
}

}  // namespace pib
