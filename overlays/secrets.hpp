// The secrets directory: each node's SSH host keys and machine-id, created
// once and reused by every later render, so that a node keeps its identity
// across releases and re-renders. Nothing here ever deletes a key.
//
//   <secrets>/                        0700
//     <node>/                         0700
//       machine-id                    0600  32 lower-case hex digits + "\n"
//       ssh_host_ed25519_key{,.pub}   0600 / 0644  (ssh-keygen -t ed25519)
//       ssh_host_rsa_key{,.pub}       0600 / 0644  (ssh-keygen -t rsa -b 3072)
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/result.hpp"
#include "overlays/overlay_files.hpp"

namespace pib::overlays {

/// Where secrets live when --secrets is not given: outside any store, since
/// netbootd serves the store.
inline constexpr const char* kDefaultSecretsDir = "/var/lib/pibuild/secrets";

/// The node's secrets, reading what exists and creating what is missing
/// (keys with ssh-keygen, the machine-id from the system's random source).
/// `created` is set when anything was created. A private key without its
/// public half gets the public half back from `ssh-keygen -y`. Public keys
/// are returned as "type base64\n" (no comment).
Result<NodeSecrets> load_or_create_secrets(const std::filesystem::path& secrets_dir,
                                           const std::string& node, const Logger& log,
                                           bool& created);

/// "SHA256:<unpadded base64 of sha256(key blob)>" of an OpenSSH public key
/// line, exactly as `ssh-keygen -l` prints it.
Result<std::string> ssh_fingerprint(std::string_view public_key_line);

/// A new random machine-id: 128 bits formatted as systemd does
/// (sd_id128_randomize: a version 4 UUID's bits), 32 lower-case hex + "\n".
Result<std::string> new_machine_id();

/// True for 32 lower-case hex digits and "\n", not all zero (machine-id(5)).
bool valid_machine_id(std::string_view text);

}  // namespace pib::overlays
