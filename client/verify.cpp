// Release verification for pib-init.
#include "client/verify.hpp"

namespace pib::client {

std::string debian_arch(std::string_view machine) {
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64" || machine == "arm64") return "arm64";
    if (machine == "armv7l" || machine == "armv8l") return "armhf";
    if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686")
        return "i386";
    if (machine == "riscv64") return "riscv64";
    return std::string(machine);
}

Result<Manifest> verify_manifest(std::string_view manifest_bytes, std::string_view signature,
                                 const PublicKey& key, std::string_view arch) {
    if (!key.verify(manifest_bytes, signature))
        return fail(Errc::verification,
                    "manifest.json signature does not verify with " + key.fingerprint());
    auto m = Manifest::parse(manifest_bytes);
    if (!m)
        return fail(Errc::verification,
                    "manifest.json is signed but does not parse: " + m.error().message);
    if (m->arch != arch)
        return fail(Errc::verification,
                    "manifest.json arch " + m->arch + " != this machine's " + std::string(arch));
    return m;
}

Status check_release_id(const Manifest& m, std::string_view manifest_bytes,
                        std::string_view asked) {
    const std::string id = release_id(m, manifest_bytes);
    if (id == asked) return {};
    return fail(Errc::verification,
                "manifest.json is release " + id + ", not " + std::string(asked));
}

Result<Artifact> find_artifact(const std::vector<Artifact>& artifacts, std::string_view path) {
    for (const auto& a : artifacts)
        if (a.path == path) return a;
    return fail(Errc::not_found, "the signed manifest lists no " + std::string(path));
}

Status check_artifact(const Artifact& want, std::string_view got_sha256, std::uint64_t got_size) {
    if (got_sha256 == want.sha256 && got_size == want.size) return {};
    std::string msg =
        want.path + " sha256 " + std::string(got_sha256) + " != manifest " + want.sha256;
    if (got_size != want.size)
        msg += " (size " + std::to_string(got_size) + " != manifest " + std::to_string(want.size) +
               ")";
    return fail(Errc::verification, msg);
}

std::string refusal_line(const Error& e) {
    return "VERIFICATION FAILED: " + e.message + "; refusing to boot";
}

}  // namespace pib::client
