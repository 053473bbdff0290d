// manifest.json serialisation and strict parsing. The bytes are signed, so
// there is exactly one serialisation of a manifest (to_json) and parse()
// refuses anything a verifier might read differently from the signer.
#include "release/manifest.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

namespace pib {

using nlohmann::json;

namespace {

bool is_sha256_hex(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// A name or version becomes part of a directory name (release_id), so it is
// kept to characters that are safe in paths, URLs and shell words.
bool is_id_part(std::string_view s) {
    return !s.empty() && s.front() != '.' && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '+' || c == '~' || c == '-';
    });
}

// Why `path` is not a canonical relative path inside a release, or "" when it is.
std::string artifact_path_problem(std::string_view path) {
    if (path.empty()) return "must not be empty";
    if (path.front() == '/') return "must be relative (no leading '/')";
    if (path.find('\0') != std::string_view::npos) return "must not contain NUL";
    if (path == "manifest.json" || path == "manifest.json.sig") return "names the manifest itself";
    std::size_t start = 0;
    for (;;) {
        std::size_t end = path.find('/', start);
        std::string_view part =
            path.substr(start, end == std::string_view::npos ? end : end - start);
        if (part == "..") return "must not contain \"..\"";
        if (part.empty() || part == ".")
            return "must be in canonical form (no empty or \".\" parts)";
        if (end == std::string_view::npos) return "";
        start = end + 1;
    }
}

// JSON path of the first float in `v`, or "" when there is none. Floats have
// more than one text form, so a signed manifest holds integers only.
std::string find_float(const json& v, const std::string& where) {
    if (v.is_number_float()) return where;
    if (v.is_object()) {
        for (const auto& [k, child] : v.items()) {
            if (auto f = find_float(child, where + "." + k); !f.empty()) return f;
        }
    } else if (v.is_array()) {
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (auto f = find_float(v[i], where + "[" + std::to_string(i) + "]"); !f.empty())
                return f;
        }
    }
    return "";
}

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += (out.empty() ? "" : "; ") + l;
    return out;
}

// Reads typed fields out of JSON objects, collecting every problem instead of
// stopping at the first, each prefixed with its field path.
class FieldReader {
  public:
    std::vector<std::string> problems;

    void bad(const std::string& field, const std::string& what) {
        problems.push_back(field + ": " + what);
    }

    bool object(const json& v, const std::string& field) {
        if (v.is_object()) return true;
        bad(field, std::string("expected an object, found ") + v.type_name());
        return false;
    }

    void only_keys(const json& obj, std::initializer_list<std::string_view> known,
                   const std::string& prefix) {
        for (const auto& [k, v] : obj.items()) {
            if (std::find(known.begin(), known.end(), k) == known.end()) {
                bad(prefix + k, "unknown key");
            }
        }
    }

    const json* member(const json& obj, const std::string& prefix, const char* key) {
        auto it = obj.find(key);
        if (it != obj.end()) return &*it;
        bad(prefix + key, "missing");
        return nullptr;
    }

    void get(const json& obj, const std::string& prefix, const char* key, std::string& out) {
        const json* v = member(obj, prefix, key);
        if (!v) return;
        if (v->is_string())
            out = v->get<std::string>();
        else
            bad(prefix + key, std::string("expected a string, found ") + v->type_name());
    }

    void get(const json& obj, const std::string& prefix, const char* key, std::int64_t& out) {
        const json* v = member(obj, prefix, key);
        if (!v) return;
        if (v->is_number_unsigned() &&
            v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
            bad(prefix + key, "out of range");
        } else if (v->is_number_integer()) {
            out = v->get<std::int64_t>();
        } else {
            bad(prefix + key, std::string("expected an integer, found ") + v->type_name());
        }
    }

    void get(const json& obj, const std::string& prefix, const char* key, std::uint64_t& out) {
        const json* v = member(obj, prefix, key);
        if (!v) return;
        if (v->is_number_unsigned())
            out = v->get<std::uint64_t>();
        else
            bad(prefix + key, "expected a non-negative integer");
    }

    template <class T, class ReadOne>
    void list(const json& obj, const char* key, std::vector<T>& out, ReadOne read_one) {
        const json* v = member(obj, "", key);
        if (!v) return;
        if (!v->is_array()) {
            bad(key, std::string("expected an array, found ") + v->type_name());
            return;
        }
        for (std::size_t i = 0; i < v->size(); ++i) {
            std::string field = std::string(key) + "[" + std::to_string(i) + "]";
            if (object((*v)[i], field)) out.push_back(read_one((*v)[i], field + "."));
        }
    }
};

// nlohmann::json keeps the last of duplicate keys silently; a verifier that
// kept the first would read a different manifest from the same signed bytes.
Result<json> parse_json_no_duplicates(std::string_view bytes) {
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    auto track = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            open_objects.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            open_objects.pop_back();
        } else if (event == json::parse_event_t::key && !open_objects.empty()) {
            auto key = parsed.get<std::string>();
            if (!open_objects.back().insert(key).second && duplicate.empty()) duplicate = key;
        }
        return true;
    };
    try {
        json j = json::parse(bytes.begin(), bytes.end(), track);
        if (!duplicate.empty()) return fail(Errc::corrupted, "duplicate key \"" + duplicate + "\"");
        return j;
    } catch (const json::exception& e) {
        return fail(Errc::corrupted, std::string("not valid JSON: ") + e.what());
    }
}

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

bool is_power_of_two_in(std::int64_t v, std::int64_t lo, std::int64_t hi) {
    return v >= lo && v <= hi && (v & (v - 1)) == 0;
}

// Field -> problem for a verity object; the kernel's own limits
// (drivers/md/dm-verity-target.c: block sizes 512..PAGE_SIZE powers of two).
std::vector<std::pair<std::string, std::string>> verity_problems(
    const VerityInfo& v, const std::vector<Artifact>& artifacts) {
    std::vector<std::pair<std::string, std::string>> out;
    auto listed = [&](const std::string& path) {
        return std::any_of(artifacts.begin(), artifacts.end(),
                           [&](const Artifact& a) { return a.path == path; });
    };
    for (const auto& [field, path] : {std::pair<const char*, const std::string&>{"data_path", v.data_path},
                                      {"hash_path", v.hash_path}}) {
        if (!listed(path)) out.emplace_back(field, "\"" + path + "\" is not an artifact");
    }
    if (v.algorithm != "sha256") out.emplace_back("algorithm", "only sha256 is supported");
    if (v.version != 1) out.emplace_back("version", "only hash format 1 is supported");
    if (!is_power_of_two_in(v.data_block_size, 512, 4096))
        out.emplace_back("data_block_size", "must be a power of two in 512..4096");
    if (!is_power_of_two_in(v.hash_block_size, 512, 4096))
        out.emplace_back("hash_block_size", "must be a power of two in 512..4096");
    if (v.data_blocks == 0) out.emplace_back("data_blocks", "must not be 0");
    if (v.hash_block_size > 0 && v.hash_offset % static_cast<std::uint64_t>(v.hash_block_size) != 0)
        out.emplace_back("hash_offset", "must be a multiple of hash_block_size");
    if (v.salt.size() > 512 || v.salt.size() % 2 != 0 || !is_hex(v.salt))
        out.emplace_back("salt", "expected up to 256 bytes as lower-case hex");
    if (!is_sha256_hex(v.root_hash)) out.emplace_back("root_hash", "expected 64 lower-case hex digits");
    for (const auto& a : artifacts) {
        if (a.path == v.data_path && v.data_block_size > 0 &&
            a.size != v.data_blocks * static_cast<std::uint64_t>(v.data_block_size))
            out.emplace_back("data_blocks", "does not match the size of " + a.path);
    }
    return out;
}

// Every problem validate() reports, one entry each.
std::vector<std::string> manifest_problems(const Manifest& m) {
    std::vector<std::string> problems;
    auto bad = [&](const std::string& field, const std::string& what) {
        problems.push_back(field + ": " + what);
    };
    // to_json() would replace invalid UTF-8, signing other text than the caller holds.
    auto utf8 = [&](const std::string& field, const json& v) {
        try {
            (void)v.dump();
        } catch (const json::type_error&) {
            bad(field, "not valid UTF-8");
        }
    };
    for (const auto& [field, v] : {std::pair<const char*, const std::string&>{"name", m.name},
                                   {"version", m.version},
                                   {"arch", m.arch},
                                   {"board", m.board},
                                   {"description", m.description},
                                   {"tool_version", m.tool_version}}) {
        utf8(field, v);
    }
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        utf8("inputs[" + std::to_string(i) + "].ref", m.inputs[i].ref);
        utf8("inputs[" + std::to_string(i) + "].kind", m.inputs[i].kind);
    }
    for (std::size_t i = 0; i < m.artifacts.size(); ++i) {
        utf8("artifacts[" + std::to_string(i) + "].path", m.artifacts[i].path);
    }
    utf8("boot", m.boot);
    utf8("root", m.root);
    if (m.format_version != kManifestFormatVersion) {
        bad("format_version", std::to_string(m.format_version) + " is not supported (expected " +
                                  std::to_string(kManifestFormatVersion) + ")");
    }
    if (!is_id_part(m.name))
        bad("name", "must be non-empty, [A-Za-z0-9._+~-], not starting with '.'");
    if (!is_id_part(m.version)) {
        bad("version", "must be non-empty, [A-Za-z0-9._+~-], not starting with '.'");
    }
    if (m.arch.empty()) bad("arch", "must not be empty");
    if (!is_sha256_hex(m.recipe_sha256)) bad("recipe_sha256", "expected 64 lower-case hex digits");
    if (m.source_date_epoch < 0) bad("source_date_epoch", "must not be negative");
    for (std::size_t i = 0; i < m.inputs.size(); ++i) {
        std::string field = "inputs[" + std::to_string(i) + "]";
        if (m.inputs[i].kind.empty()) bad(field + ".kind", "must not be empty");
        if (!m.inputs[i].sha256.empty() && !is_sha256_hex(m.inputs[i].sha256)) {
            bad(field + ".sha256", "expected \"\" or 64 lower-case hex digits");
        }
    }
    std::set<std::string_view> paths;
    for (std::size_t i = 0; i < m.artifacts.size(); ++i) {
        std::string field = "artifacts[" + std::to_string(i) + "]";
        const Artifact& a = m.artifacts[i];
        if (auto why = artifact_path_problem(a.path); !why.empty()) bad(field + ".path", why);
        if (!paths.insert(a.path).second) bad(field + ".path", "duplicate \"" + a.path + "\"");
        if (!is_sha256_hex(a.sha256)) bad(field + ".sha256", "expected 64 lower-case hex digits");
    }
    for (const auto& [field, v] :
         {std::pair<const char*, const json&>{"boot", m.boot}, {"root", m.root}}) {
        if (!v.is_object()) {
            bad(field, std::string("expected an object, found ") + v.type_name());
        } else if (auto f = find_float(v, field); !f.empty()) {
            bad(f, "floating-point numbers are not allowed");
        }
    }
    if (m.verity) {
        for (const auto& p : verity_problems(*m.verity, m.artifacts)) bad("verity." + p.first, p.second);
    }
    return problems;
}

}  // namespace

std::string Manifest::to_json() const {
    json j = json::object();  // std::map underneath: keys come out sorted
    j["format_version"] = format_version;
    j["name"] = name;
    j["version"] = version;
    j["arch"] = arch;
    j["board"] = board;
    j["description"] = description;
    j["tool_version"] = tool_version;
    j["recipe_sha256"] = recipe_sha256;
    j["source_date_epoch"] = source_date_epoch;
    j["inputs"] = json::array();
    for (const auto& in : inputs) {
        j["inputs"].push_back({{"kind", in.kind}, {"ref", in.ref}, {"sha256", in.sha256}});
    }
    std::vector<const Artifact*> sorted;
    for (const auto& a : artifacts) sorted.push_back(&a);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Artifact* x, const Artifact* y) { return x->path < y->path; });
    j["artifacts"] = json::array();
    for (const Artifact* a : sorted) {
        j["artifacts"].push_back({{"path", a->path}, {"sha256", a->sha256}, {"size", a->size}});
    }
    j["boot"] = boot;
    j["root"] = root;
    if (verity) {
        const VerityInfo& v = *verity;
        j["verity"] = {{"data_path", v.data_path},
                       {"hash_path", v.hash_path},
                       {"algorithm", v.algorithm},
                       {"version", v.version},
                       {"data_block_size", v.data_block_size},
                       {"hash_block_size", v.hash_block_size},
                       {"data_blocks", v.data_blocks},
                       {"hash_offset", v.hash_offset},
                       {"salt", v.salt},
                       {"root_hash", v.root_hash}};
    }
    // Strings always came from parse() (valid UTF-8) or from the builder; an
    // invalid byte is replaced rather than thrown, and validate() is what
    // guarantees a signed manifest parses back to itself.
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Status Manifest::validate() const {
    auto problems = manifest_problems(*this);
    if (!problems.empty()) return fail(Errc::corrupted, join(problems));
    return {};
}

Result<Manifest> Manifest::parse(std::string_view bytes) {
    auto parsed = parse_json_no_duplicates(bytes);
    if (!parsed) return parsed.error();
    const json& j = *parsed;
    FieldReader r;
    if (!r.object(j, "manifest")) return fail(Errc::corrupted, join(r.problems));
    r.only_keys(
        j,
        {"format_version", "name", "version", "arch", "board", "description", "tool_version",
         "recipe_sha256", "source_date_epoch", "inputs", "artifacts", "boot", "root", "verity"},
        "");

    Manifest m;
    std::int64_t format = kManifestFormatVersion;
    r.get(j, "", "format_version", format);
    if (format != kManifestFormatVersion) {
        // Reported here, not by validate(): int would truncate a large value.
        r.bad("format_version", std::to_string(format) + " is not supported (expected " +
                                    std::to_string(kManifestFormatVersion) + ")");
    }
    r.get(j, "", "name", m.name);
    r.get(j, "", "version", m.version);
    r.get(j, "", "arch", m.arch);
    r.get(j, "", "board", m.board);
    r.get(j, "", "description", m.description);
    r.get(j, "", "tool_version", m.tool_version);
    r.get(j, "", "recipe_sha256", m.recipe_sha256);
    r.get(j, "", "source_date_epoch", m.source_date_epoch);
    r.list(j, "inputs", m.inputs, [&](const json& o, const std::string& prefix) {
        BuildInput in;
        r.only_keys(o, {"kind", "ref", "sha256"}, prefix);
        r.get(o, prefix, "kind", in.kind);
        r.get(o, prefix, "ref", in.ref);
        r.get(o, prefix, "sha256", in.sha256);
        return in;
    });
    r.list(j, "artifacts", m.artifacts, [&](const json& o, const std::string& prefix) {
        Artifact a;
        r.only_keys(o, {"path", "sha256", "size"}, prefix);
        r.get(o, prefix, "path", a.path);
        r.get(o, prefix, "sha256", a.sha256);
        r.get(o, prefix, "size", a.size);
        return a;
    });
    if (const json* v = r.member(j, "", "boot")) m.boot = *v;
    if (const json* v = r.member(j, "", "root")) m.root = *v;
    if (auto it = j.find("verity"); it != j.end() && r.object(*it, "verity")) {
        const json& o = *it;
        const std::string prefix = "verity.";
        VerityInfo v;
        r.only_keys(o,
                    {"data_path", "hash_path", "algorithm", "version", "data_block_size",
                     "hash_block_size", "data_blocks", "hash_offset", "salt", "root_hash"},
                    prefix);
        r.get(o, prefix, "data_path", v.data_path);
        r.get(o, prefix, "hash_path", v.hash_path);
        r.get(o, prefix, "algorithm", v.algorithm);
        r.get(o, prefix, "version", v.version);
        r.get(o, prefix, "data_block_size", v.data_block_size);
        r.get(o, prefix, "hash_block_size", v.hash_block_size);
        r.get(o, prefix, "data_blocks", v.data_blocks);
        r.get(o, prefix, "hash_offset", v.hash_offset);
        r.get(o, prefix, "salt", v.salt);
        r.get(o, prefix, "root_hash", v.root_hash);
        m.verity = v;
    }

    // Values are checked once every type is right (else each wrong type
    // would be reported twice).
    if (r.problems.empty()) {
        r.problems = manifest_problems(m);
        for (std::size_t i = 1; i < m.artifacts.size(); ++i) {
            if (m.artifacts[i].path < m.artifacts[i - 1].path) {
                r.bad("artifacts[" + std::to_string(i) + "].path", "not sorted by path");
            }
        }
    }
    if (!r.problems.empty()) return fail(Errc::corrupted, join(r.problems));
    return m;
}

}  // namespace pib
