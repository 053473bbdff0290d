#include "overlays/secrets.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <sstream>

#include "common/fs.hpp"
#include "common/hex.hpp"
#include "common/process.hpp"
#include "crypto/sha256.hpp"

namespace pib::overlays {

namespace {

struct KeyType {
    const char* name;  ///< "ed25519"
    const char* file;  ///< "ssh_host_ed25519_key"
    std::vector<std::string> keygen_args;
};

const KeyType kKeyTypes[] = {
    {"ed25519", "ssh_host_ed25519_key", {"-t", "ed25519"}},
    {"rsa", "ssh_host_rsa_key", {"-t", "rsa", "-b", "3072"}},
};

Status ensure_dir_0700(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return fail(Errc::io, "create " + dir.string() + ": " + ec.message());
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0)
        return fail(Errc::io, errno_message("stat " + dir.string()));
    if (!S_ISDIR(st.st_mode)) return fail(Errc::invalid, dir.string() + " is not a directory");
    if ((st.st_mode & 07777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
        return fail(Errc::io, errno_message("chmod 0700 " + dir.string()));
    }
    return {};
}

bool present(const fs::path& p) {
    struct stat st {};
    return ::lstat(p.c_str(), &st) == 0;
}

// Generates one key pair with ssh-keygen into a temporary directory beside
// the final files and renames them in, the public half first: the private
// key is what says "this node has a key", so it appears last.
Status generate_key(const fs::path& node_dir, const KeyType& t) {
    auto tmp = make_temp_dir(node_dir, std::string("keygen-") + t.name);
    if (!tmp) return tmp.error();
    const fs::path key = *tmp / t.file;
    Command cmd;
    cmd.argv = {"ssh-keygen", "-q", "-N", "", "-C", "", "-f", key.string()};
    cmd.argv.insert(cmd.argv.begin() + 1, t.keygen_args.begin(), t.keygen_args.end());
    auto r = run_checked(cmd);
    Status st;
    if (!r) {
        st = fail(Errc::io, r.error().message +
                                (have_program("ssh-keygen") ? "" : " (install openssh-client)"));
    } else if (::chmod(key.c_str(), 0600) != 0 ||
               ::chmod((key.string() + ".pub").c_str(), 0644) != 0) {
        st = fail(Errc::io, errno_message("chmod " + key.string()));
    } else if (::rename((key.string() + ".pub").c_str(),
                        (node_dir / (std::string(t.file) + ".pub")).c_str()) != 0 ||
               ::rename(key.c_str(), (node_dir / t.file).c_str()) != 0) {
        st = fail(Errc::io, errno_message("rename into " + node_dir.string()));
    }
    (void)remove_tree(*tmp);
    if (!st) return st;
    return fsync_dir(node_dir);
}

// The public half of an existing private key.
Status restore_public_key(const fs::path& node_dir, const KeyType& t) {
    Command cmd;
    cmd.argv = {"ssh-keygen", "-y", "-f", (node_dir / t.file).string()};
    cmd.capture_stdout = true;
    auto r = run_checked(cmd);
    if (!r) return r.error();
    return write_file_atomic(node_dir / (std::string(t.file) + ".pub"), r->out, 0644);
}

std::string base64(std::span<const std::uint8_t> bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::optional<std::string> unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    std::string out(text.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return std::nullopt;
    // EVP_DecodeBlock counts padding as zero bytes.
    std::size_t len = static_cast<std::size_t>(n);
    if (text.ends_with("=="))
        len -= 2;
    else if (text.ends_with("="))
        len -= 1;
    out.resize(len);
    return out;
}

}  // namespace

Result<std::string> ssh_fingerprint(std::string_view line) {
    // "type base64 [comment]"
    auto sp = line.find(' ');
    if (sp == std::string_view::npos)
        return fail(Errc::corrupted, "not an OpenSSH public key line");
    std::string_view rest = line.substr(sp + 1);
    auto end = rest.find_first_of(" \n");
    auto blob = unbase64(rest.substr(0, end));
    if (!blob) return fail(Errc::corrupted, "public key data is not base64");
    Sha256 h;
    h.update(*blob);
    auto digest = h.finish();
    std::string b = base64(digest);
    while (!b.empty() && b.back() == '=') b.pop_back();
    return "SHA256:" + b;
}

Result<std::string> new_machine_id() {
    std::array<std::uint8_t, 16> id{};
    if (RAND_bytes(id.data(), static_cast<int>(id.size())) != 1) {
        return fail(Errc::io, "no random bytes for a machine-id");
    }
    // systemd's id128_make_v4_uuid: version 4, variant DCE.
    id[6] = static_cast<std::uint8_t>((id[6] & 0x0F) | 0x40);
    id[8] = static_cast<std::uint8_t>((id[8] & 0x3F) | 0x80);
    return to_hex(id) + "\n";
}

bool valid_machine_id(std::string_view text) {
    if (text.size() != 33 || text.back() != '\n') return false;
    bool nonzero = false;
    for (char c : text.substr(0, 32)) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
        nonzero |= c != '0';
    }
    return nonzero;
}

Result<NodeSecrets> load_or_create_secrets(const fs::path& secrets_dir, const std::string& node,
                                           const Logger& log, bool& created) {
    created = false;
    PIB_TRY(ensure_dir_0700(secrets_dir));
    const fs::path dir = secrets_dir / node;
    PIB_TRY(ensure_dir_0700(dir));
    // A render killed while generating a key or writing the machine-id
    // leaves a hidden temporary (`.keygen-*.tmp-*`, `.machine-id.tmp-*`).
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.starts_with(".") && name.find(".tmp-") != std::string::npos) {
            PIB_TRY(remove_tree(e.path()));
        }
    }
    if (ec) return fail(Errc::io, "list " + dir.string() + ": " + ec.message());

    NodeSecrets s;
    const fs::path mid = dir / "machine-id";
    if (!present(mid)) {
        auto id = new_machine_id();
        if (!id) return id.error();
        PIB_TRY(write_file_atomic(mid, *id, 0600));
        PIB_TRY(fsync_dir(dir));
        created = true;
        log.event(Level::info, "overlays", "machine_id_created").kv("node", node);
    }
    auto id = read_file(mid);
    if (!id) return id.error();
    if (!valid_machine_id(*id)) {
        return fail(Errc::corrupted,
                    mid.string() + ": not a machine-id (32 lower-case hex digits and a newline)");
    }
    s.machine_id = *id;

    for (const auto& t : kKeyTypes) {
        const fs::path key = dir / t.file, pub = dir / (std::string(t.file) + ".pub");
        if (!present(key)) {
            PIB_TRY(generate_key(dir, t));
            created = true;
            log.event(Level::info, "overlays", "host_key_created")
                .kv("node", node)
                .kv("type", t.name);
        } else if (!present(pub)) {
            PIB_TRY(restore_public_key(dir, t));
            log.event(Level::warn, "overlays", "host_key_public_restored")
                .kv("node", node)
                .kv("type", t.name);
        }
        auto k = read_file(key);
        if (!k) return k.error();
        auto p = read_file(pub);
        if (!p) return p.error();
        auto fp = ssh_fingerprint(*p);
        if (!fp) return fail(Errc::corrupted, pub.string() + ": " + fp.error().message);
        // "type base64\n": how the public half was written (ssh-keygen with an
        // empty comment, or -y after a loss) must not change the overlay's bytes.
        std::istringstream fields(*p);
        std::string type, data;
        fields >> type >> data;
        (t.name == std::string("ed25519") ? s.ed25519_key : s.rsa_key) = std::move(*k);
        (t.name == std::string("ed25519") ? s.ed25519_pub : s.rsa_pub) = type + " " + data + "\n";
    }
    return s;
}

}  // namespace pib::overlays
