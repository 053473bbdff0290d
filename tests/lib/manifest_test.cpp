// manifest.json: canonical bytes (golden), round trip, and strict parsing.
#include "release/manifest.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>

#include "crypto/sha256.hpp"
#include "release_fixture.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

using nlohmann::json;

const std::filesystem::path kGolden = std::filesystem::path(PIB_TEST_DATA) / "manifest_golden.json";

TEST(Manifest, GoldenCanonicalBytes) {
    std::string bytes = test::sample_manifest().to_json();
    if (const char* u = std::getenv("PIB_UPDATE_GOLDEN"); u && std::string(u) == "1") {
        test::write_text(kGolden, bytes);
    }
    std::string golden = test::read_text(kGolden);
    ASSERT_FALSE(golden.empty()) << kGolden << " missing; run with PIB_UPDATE_GOLDEN=1";
    EXPECT_EQ(bytes, golden);

    // Canonical bytes survive parse + serialise unchanged.
    auto m = Manifest::parse(golden);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->to_json(), golden);
}

TEST(Manifest, CanonicalForm) {
    std::string bytes = test::sample_manifest().to_json();
    EXPECT_EQ(bytes.back(), '\n');
    EXPECT_EQ(bytes.rfind("{\n  \"arch\": \"arm64\",\n", 0), 0u) << "sorted keys, 2-space indent";
    EXPECT_EQ(bytes.find('\t'), std::string::npos);
    // Non-ASCII stays UTF-8, not \u escapes.
    EXPECT_NE(bytes.find("ünïcode"), std::string::npos);
}

TEST(Manifest, RoundTrip) {
    Manifest m = test::sample_manifest();
    auto back = Manifest::parse(m.to_json());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, m);
}

TEST(Manifest, RoundTripOfEmptyLists) {
    Manifest m = test::sample_manifest();
    m.inputs.clear();
    m.artifacts.clear();
    m.boot = json::object();
    m.root = json::object();
    m.board = "";
    m.description = "";
    auto back = Manifest::parse(m.to_json());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, m);
}

TEST(Manifest, SerialisationSortsArtifacts) {
    Manifest m = test::sample_manifest();
    Manifest shuffled = m;
    std::reverse(shuffled.artifacts.begin(), shuffled.artifacts.end());
    EXPECT_EQ(shuffled.to_json(), m.to_json());
}

TEST(Manifest, ReleaseId) {
    Manifest m = test::sample_manifest();
    std::string bytes = m.to_json();
    EXPECT_EQ(release_id(m, bytes), "pi4-k3s-2026.11.1-" + sha256_hex(bytes).substr(0, 12));
    Manifest other = m;
    other.description = "changed";
    EXPECT_NE(release_id(other, other.to_json()), release_id(m, bytes));
}

TEST(Manifest, ValidateAcceptsSampleAndRejectsBadNames) {
    EXPECT_TRUE(test::sample_manifest().validate().ok());
    for (const char* bad : {"", "a/b", "..", ".hidden", "a b", "x\n"}) {
        Manifest m = test::sample_manifest();
        m.name = bad;
        EXPECT_FALSE(m.validate().ok()) << "name \"" << bad << "\"";
        m = test::sample_manifest();
        m.version = bad;
        EXPECT_FALSE(m.validate().ok()) << "version \"" << bad << "\"";
    }
}

TEST(Manifest, ValidateRejectsInvalidUtf8) {
    // to_json() would otherwise sign U+FFFD instead of what the caller holds.
    Manifest m = test::sample_manifest();
    m.description = "bad \xff byte";
    m.boot["cmdline"] = "also \xc3";
    auto st = m.validate();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("description: not valid UTF-8"), std::string::npos);
    EXPECT_NE(st.error().message.find("boot: not valid UTF-8"), std::string::npos);
}

// ---- strict parsing -------------------------------------------------------

struct BadCase {
    const char* what;
    std::function<void(json&)> mutate;
    const char* expect;  ///< substring of the error message (the field)
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.what; }

class ManifestRejects : public testing::TestWithParam<BadCase> {};

TEST_P(ManifestRejects, Malformed) {
    json j = json::parse(test::sample_manifest().to_json());
    GetParam().mutate(j);
    auto m = Manifest::parse(j.dump(2) + "\n");
    ASSERT_FALSE(m.ok()) << GetParam().what;
    EXPECT_EQ(m.error().code, Errc::corrupted);
    EXPECT_NE(m.error().message.find(GetParam().expect), std::string::npos)
        << GetParam().what << ": " << m.error().message;
}

std::function<void(json&)> set(const json::json_pointer& p, json v) {
    return [p, v](json& j) { j[p] = v; };
}
std::function<void(json&)> erase(const std::string& key) {
    return [key](json& j) { j.erase(key); };
}
json::json_pointer ptr(const char* s) { return json::json_pointer(s); }

INSTANTIATE_TEST_SUITE_P(
    Fields, ManifestRejects,
    testing::Values(
        BadCase{"unknown top-level key", set(ptr("/signed_by"), "me"), "signed_by: unknown key"},
        BadCase{"missing name", erase("name"), "name: missing"},
        BadCase{"missing artifacts", erase("artifacts"), "artifacts: missing"},
        BadCase{"missing boot", erase("boot"), "boot: missing"},
        BadCase{"name is a number", set(ptr("/name"), 7), "name: expected a string"},
        BadCase{"description null", set(ptr("/description"), nullptr), "description: expected"},
        BadCase{"format_version 2", set(ptr("/format_version"), 2), "format_version: 2"},
        BadCase{"format_version 0", set(ptr("/format_version"), 0), "format_version: 0"},
        BadCase{"format_version string", set(ptr("/format_version"), "1"), "format_version"},
        BadCase{"format_version huge", set(ptr("/format_version"), 4294967297LL), "format_version"},
        BadCase{"epoch string", set(ptr("/source_date_epoch"), "1"), "source_date_epoch"},
        BadCase{"epoch float", set(ptr("/source_date_epoch"), 1.5), "source_date_epoch"},
        BadCase{"epoch negative", set(ptr("/source_date_epoch"), -1), "source_date_epoch"},
        BadCase{"epoch too big", set(ptr("/source_date_epoch"), 18446744073709551615ULL),
                "source_date_epoch: out of range"},
        BadCase{"recipe_sha256 short", set(ptr("/recipe_sha256"), std::string(63, 'a')),
                "recipe_sha256"},
        BadCase{"recipe_sha256 upper", set(ptr("/recipe_sha256"), std::string(64, 'A')),
                "recipe_sha256"},
        BadCase{"empty name", set(ptr("/name"), ""), "name: must be"},
        BadCase{"name with slash", set(ptr("/name"), "../etc"), "name: must be"},
        BadCase{"empty version", set(ptr("/version"), ""), "version: must be"},
        BadCase{"empty arch", set(ptr("/arch"), ""), "arch: must not be empty"},
        BadCase{"inputs not array", set(ptr("/inputs"), json::object()),
                "inputs: expected an array"},
        BadCase{"input not object", set(ptr("/inputs/0"), "recipe"),
                "inputs[0]: expected an object"},
        BadCase{"input unknown key", set(ptr("/inputs/1/url"), "x"), "inputs[1].url: unknown key"},
        BadCase{"input missing ref", [](json& j) { j["inputs"][2].erase("ref"); },
                "inputs[2].ref: missing"},
        BadCase{"input empty kind", set(ptr("/inputs/0/kind"), ""), "inputs[0].kind"},
        BadCase{"input bad sha256", set(ptr("/inputs/0/sha256"), "xyz"), "inputs[0].sha256"},
        BadCase{"artifacts not array", set(ptr("/artifacts"), "x"), "artifacts: expected an array"},
        BadCase{"artifact unknown key", set(ptr("/artifacts/0/mode"), 420),
                "artifacts[0].mode: unknown key"},
        BadCase{"artifact missing size", [](json& j) { j["artifacts"][1].erase("size"); },
                "artifacts[1].size: missing"},
        BadCase{"size negative", set(ptr("/artifacts/0/size"), -1), "artifacts[0].size"},
        BadCase{"size float", set(ptr("/artifacts/0/size"), 1.0), "artifacts[0].size"},
        BadCase{"size string", set(ptr("/artifacts/0/size"), "12"), "artifacts[0].size"},
        BadCase{"absolute path", set(ptr("/artifacts/3/path"), "/root.squashfs"),
                "artifacts[3].path: must be relative"},
        BadCase{"dotdot path", set(ptr("/artifacts/3/path"), "../root.squashfs"),
                "artifacts[3].path: must not contain \"..\""},
        BadCase{"inner dotdot", set(ptr("/artifacts/2/path"), "boot/../../x"),
                "artifacts[2].path: must not contain \"..\""},
        BadCase{"empty path", set(ptr("/artifacts/0/path"), ""), "artifacts[0].path"},
        BadCase{"double slash", set(ptr("/artifacts/1/path"), "boot//config.txt"),
                "artifacts[1].path: must be in canonical form"},
        BadCase{"dot part", set(ptr("/artifacts/3/path"), "./root.squashfs"), "artifacts[3].path"},
        BadCase{"trailing slash", set(ptr("/artifacts/3/path"), "root/"), "artifacts[3].path"},
        BadCase{"NUL in path", set(ptr("/artifacts/3/path"), std::string("root\0x", 6)),
                "artifacts[3].path: must not contain NUL"},
        BadCase{"names the manifest", set(ptr("/artifacts/3/path"), "manifest.json"),
                "artifacts[3].path: names the manifest"},
        BadCase{"duplicate path", set(ptr("/artifacts/1/path"), "boot/bcm2711-rpi-4-b.dtb"),
                "artifacts[1].path: duplicate"},
        BadCase{"unsorted", set(ptr("/artifacts/0/path"), "zzz"), "artifacts[1].path: not sorted"},
        BadCase{"sha256 upper", set(ptr("/artifacts/0/sha256"), std::string(64, 'F')),
                "artifacts[0].sha256"},
        BadCase{"sha256 non-hex", set(ptr("/artifacts/0/sha256"), std::string(64, 'g')),
                "artifacts[0].sha256"},
        BadCase{"sha256 empty", set(ptr("/artifacts/0/sha256"), ""), "artifacts[0].sha256"},
        BadCase{"boot not object", set(ptr("/boot"), json::array()), "boot: expected an object"},
        BadCase{"root string", set(ptr("/root"), "zstd"), "root: expected an object"},
        BadCase{"float in root", set(ptr("/root/ratio"), 0.5), "root.ratio: floating-point"},
        BadCase{"float deep in boot", set(ptr("/boot/dtbs/0"), 2.5), "boot.dtbs[0]: floating"}),
    [](const testing::TestParamInfo<BadCase>& info) {
        return "case" + std::to_string(info.index);
    });

TEST(ManifestParse, RejectsNonJsonAndNonObjects) {
    for (const char* text : {"", "{", "not json", "[]", "1", "\"x\"", "null", "{} {}"}) {
        auto m = Manifest::parse(text);
        ASSERT_FALSE(m.ok()) << text;
        EXPECT_EQ(m.error().code, Errc::corrupted) << text;
    }
}

TEST(ManifestParse, RejectsDuplicateKeys) {
    std::string bytes = test::sample_manifest().to_json();
    std::string dup = bytes;
    dup.insert(2, "\"name\": \"evil\",\n  ");
    auto m = Manifest::parse(dup);
    ASSERT_FALSE(m.ok());
    EXPECT_NE(m.error().message.find("duplicate key \"name\""), std::string::npos)
        << m.error().message;

    // Also inside nested objects.
    std::string nested = bytes;
    auto at = nested.find("\"kernel\":");
    ASSERT_NE(at, std::string::npos);
    nested.insert(at, "\"kernel\": \"boot/evil\",\n    ");
    EXPECT_FALSE(Manifest::parse(nested).ok());
}

TEST(ManifestParse, RejectsInvalidUtf8) {
    std::string bytes = test::sample_manifest().to_json();
    auto at = bytes.find("k3s node");
    bytes[at] = '\xff';
    EXPECT_FALSE(Manifest::parse(bytes).ok());
}

TEST(ManifestParse, ReportsEveryProblem) {
    json j = json::parse(test::sample_manifest().to_json());
    j["name"] = 1;
    j["extra"] = true;
    j["artifacts"][0]["size"] = "big";
    auto m = Manifest::parse(j.dump());
    ASSERT_FALSE(m.ok());
    for (const char* field : {"name:", "extra:", "artifacts[0].size:"}) {
        EXPECT_NE(m.error().message.find(field), std::string::npos) << m.error().message;
    }
}

TEST(ManifestParse, AcceptsNonCanonicalWhitespace) {
    // Layout is not meaning: compact JSON parses to the same manifest (the
    // signature, not the parser, is what pins the exact bytes).
    Manifest m = test::sample_manifest();
    auto back = Manifest::parse(json::parse(m.to_json()).dump());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, m);
}

}  // namespace
}  // namespace pib
