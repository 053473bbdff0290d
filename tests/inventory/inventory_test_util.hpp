// Helpers for the inventory tests: parse text, get the diagnostics as strings.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "inventory/inventory.hpp"

namespace pib::inventory::test {

// Real public keys (ssh-keygen), so that the key data check passes.
inline const std::string kAdminKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKjqgU5M7pNcGjmWBnMOLReUYQrdTVlciAiDZJ9JVFyL admin@lab";
inline const std::string kOpsKey =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOH9ZTsRNFvk4SNVKOwcRH5evfqpdLmoD0ypN32LrgMX ops@lab";
inline const std::string kEcdsaKey =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBCibBwr23POtcUW0wJK7"
    "jbKxLVVsRI6XS13znsMGIRrGV3Tc5PomDUqXVJ0SdIv/bzBGgvlT6/fS08g+ACYdatg= ci@lab";

/// The outcome of one parse: the inventory, or the diagnostics as `file:line:col: message`.
struct Parsed {
    std::optional<Inventory> inventory;
    std::vector<std::string> errors;
};

inline Parsed parse(const std::string& text, const std::filesystem::path& file = "nodes.yaml") {
    Diagnostics diags;
    auto r = parse_inventory(text, file, diags);
    Parsed p;
    for (const auto& d : diags.items()) p.errors.push_back(d.str());
    if (r.ok()) p.inventory = std::move(r.value());
    // An inventory is returned exactly when there is nothing to report.
    EXPECT_EQ(r.ok(), diags.empty()) << diags.str();
    return p;
}

/// Parses text that must be valid.
inline Inventory parse_ok(const std::string& text) {
    Parsed p = parse(text);
    EXPECT_TRUE(p.inventory.has_value()) << ::testing::PrintToString(p.errors);
    return p.inventory.value_or(Inventory{});
}

/// The diagnostics of text that must be refused.
inline std::vector<std::string> errors(const std::string& text) {
    Parsed p = parse(text);
    EXPECT_FALSE(p.inventory.has_value());
    return p.errors;
}

}  // namespace pib::inventory::test
