// The shared YAML reader on its own: positions, key tables, duplicate and
// unknown keys with suggestions, typed values and defaults.
#include "config/yaml_reader.hpp"

#include <gtest/gtest.h>

namespace pib {
namespace {

struct Demo {
    std::string name;
    std::int64_t count = 0;
    bool on = false;
};

const TableKey<YamlReader, Demo> kKeys[] = {
    {{.name = "name", .type = "string", .required = true},
     [](YamlReader& r, const YamlValue& v, Demo& o) {
         if (auto s = r.string(v)) o.name = *s;
     }},
    {{.name = "count", .type = "integer", .default_yaml = "3"},
     [](YamlReader& r, const YamlValue& v, Demo& o) {
         if (auto n = r.integer(v, 1, 10)) o.count = *n;
     }},
    {{.name = "enabled", .type = "boolean"},
     [](YamlReader& r, const YamlValue& v, Demo& o) {
         if (auto b = r.boolean(v)) o.on = *b;
     }},
};

std::vector<std::string> read(const std::string& text, Demo& out) {
    YamlReader r(text, "d.yaml");
    read_table(r, YamlValue{YAML::Load(text), "", YAML::Mark::null_mark()}, kKeys, out);
    std::vector<std::string> got;
    for (const auto& d : r.take_sorted()) got.push_back(d.str());
    return got;
}

TEST(YamlReader, ReadsKnownKeysAndAppliesDefaults) {
    Demo d;
    EXPECT_TRUE(read("name: x\nenabled: true\n", d).empty());
    EXPECT_EQ(d.name, "x");
    EXPECT_EQ(d.count, 3);
    EXPECT_TRUE(d.on);
}

TEST(YamlReader, ReportsEveryProblemWithItsPosition) {
    Demo d;
    auto got = read("count: 11\nenabeld: true\ncount: 2\nfoo: 1\n", d);
    std::vector<std::string> want = {
        "d.yaml:1:1: name: missing required key",
        "d.yaml:1:8: count: must be between 1 and 10, got 11",
        "d.yaml:2:1: enabeld: unknown key (did you mean 'enabled'?)",
        "d.yaml:3:1: count: duplicate key (first given at line 1)",
        "d.yaml:4:1: foo: unknown key (expected one of: name, count, enabled)",
    };
    EXPECT_EQ(got, want);
}

TEST(YamlReader, TypeErrorsNameWhatWasFound) {
    Demo d;
    auto got = read("name: [a]\ncount: \"2\"\nenabled: yes\n", d);
    std::vector<std::string> want = {
        "d.yaml:1:7: name: expected a string, got a list",
        "d.yaml:2:8: count: expected an integer, got '2'",
        "d.yaml:3:10: enabled: expected true or false, got 'yes'",
    };
    EXPECT_EQ(got, want);
}

TEST(YamlReader, ClosestOnlySuggestsNearWords) {
    std::string_view words[] = {"proxy", "full"};
    EXPECT_EQ(closest("prxoy", words), "proxy");
    EXPECT_EQ(closest("something", words), std::nullopt);
}

TEST(YamlReader, SingleDocumentIsRequired) {
    Diagnostics diags;
    EXPECT_FALSE(load_single_document("a: 1\n---\nb: 2\n", "f.yaml", diags, "config", "empty"));
    EXPECT_FALSE(load_single_document("", "f.yaml", diags, "config", "the config is empty"));
    EXPECT_FALSE(load_single_document("a: [\n", "f.yaml", diags, "config", "empty"));
    ASSERT_EQ(diags.size(), 3u);
    EXPECT_EQ(diags.items()[0].str(),
              "f.yaml:3:1: a config is a single YAML document; remove the second");
    EXPECT_EQ(diags.items()[1].str(), "f.yaml:1:1: the config is empty");
    EXPECT_TRUE(diags.items()[2].message.starts_with("YAML syntax error: ")) << diags.str();
}

TEST(YamlReader, KeyReferenceIsAMarkdownTable) {
    MapDoc maps[] = {table_doc("demo", "A demo.", kKeys)};
    std::string md = key_reference_markdown(maps);
    EXPECT_NE(md.find("### `demo`\n\nA demo.\n\n| key | type |"), std::string::npos) << md;
    EXPECT_NE(md.find("| `name` | string | **required** |"), std::string::npos) << md;
    EXPECT_NE(md.find("| `count` | integer | `3` |"), std::string::npos) << md;
}

}  // namespace
}  // namespace pib
