// manifest.json's optional "verity" object: round trip, absent in old
// manifests, and every bad value named.
#include <gtest/gtest.h>

#include "release/manifest.hpp"
#include "release_fixture.hpp"

namespace pib {
namespace {

Manifest with_verity() {
    Manifest m = test::sample_manifest();
    m.artifacts.push_back({"root.verity", std::string(64, '5'), 1490944});
    VerityInfo v;
    v.data_blocks = 187695104 / 4096;
    v.salt = std::string(64, 'a');
    v.root_hash = std::string(64, 'b');
    m.verity = v;
    return m;
}

TEST(ManifestVerity, RoundTrip) {
    Manifest m = with_verity();
    ASSERT_TRUE(m.validate().ok()) << m.validate().error().message;
    const std::string bytes = m.to_json();
    EXPECT_NE(bytes.find("\"verity\": {\n    \"algorithm\": \"sha256\""), std::string::npos) << bytes;
    auto back = Manifest::parse(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, m);
    EXPECT_EQ(back->to_json(), bytes);
}

TEST(ManifestVerity, AbsentInOlderManifestsAndNotWritten) {
    Manifest m = test::sample_manifest();
    EXPECT_EQ(m.to_json().find("verity"), std::string::npos);
    auto back = Manifest::parse(m.to_json());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_FALSE(back->verity.has_value());
}

TEST(ManifestVerity, BadValuesAreAllNamed) {
    Manifest m = with_verity();
    m.verity->hash_path = "root.hashes";
    m.verity->algorithm = "md5";
    m.verity->version = 0;
    m.verity->data_block_size = 3000;
    m.verity->hash_block_size = 8192;
    m.verity->data_blocks = 7;
    m.verity->hash_offset = 100;
    m.verity->salt = "abc";
    m.verity->root_hash = "XYZ";
    auto s = m.validate();
    ASSERT_FALSE(s.ok());
    for (const char* field :
         {"verity.hash_path: \"root.hashes\" is not an artifact", "verity.algorithm", "verity.version",
          "verity.data_block_size", "verity.hash_block_size", "verity.hash_offset", "verity.salt",
          "verity.root_hash"}) {
        EXPECT_NE(s.error().message.find(field), std::string::npos) << field << "\n" << s.error().message;
    }
    // Parsing refuses the same bytes.
    auto parsed = Manifest::parse(m.to_json());
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("verity.algorithm"), std::string::npos);
}

TEST(ManifestVerity, DataBlocksMustMatchTheImage) {
    Manifest m = with_verity();
    m.verity->data_blocks += 1;
    auto s = m.validate();
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("verity.data_blocks: does not match the size of root.squashfs"),
              std::string::npos)
        << s.error().message;
}

TEST(ManifestVerity, UnknownKeysAndWrongTypesRefused) {
    std::string bytes = with_verity().to_json();
    auto at = bytes.find("\"version\": 1\n");
    ASSERT_NE(at, std::string::npos);
    std::string extra = bytes;
    extra.insert(at, "\"uuid\": \"x\",\n    ");
    auto p = Manifest::parse(extra);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("verity.uuid: unknown key"), std::string::npos) << p.error().message;
    std::string typed = bytes;
    typed.replace(at, 12, "\"version\": \"1\"");
    p = Manifest::parse(typed);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message.find("verity.version: expected an integer"), std::string::npos)
        << p.error().message;
}

}  // namespace
}  // namespace pib
