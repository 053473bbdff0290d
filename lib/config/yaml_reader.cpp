#include "config/yaml_reader.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "common/fs.hpp"

namespace pib {

namespace {

// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
// so that "nmae" is one edit from "name".
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
}

std::string join(std::span<const std::string_view> words) {
    std::string s;
    for (auto w : words) s += (s.empty() ? "" : ", ") + std::string(w);
    return s;
}

// YAML plain scalars carry the non-specific tag "?"; quoted and block scalars "!".
bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

}  // namespace

std::string quote_value(std::string_view text) {
    std::string s = "'";
    std::size_t shown = 0;
    for (char c : text) {
        if (++shown > 60) {
            s += "...";
            break;
        }
        if (c == '\n')
            s += "\\n";
        else if (c == '\t')
            s += "\\t";
        else if (static_cast<unsigned char>(c) < 0x20)
            s += '?';
        else
            s += c;
    }
    return s + "'";
}

std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
    std::optional<std::string_view> best;
    std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1;
    for (auto c : candidates) {
        std::size_t d = edit_distance(word, c);
        if (d < best_d) best_d = d, best = c;
    }
    return best;
}

std::string child_path(std::string_view parent, std::string_view key) {
    return parent.empty() ? std::string(key) : std::string(parent) + "." + std::string(key);
}

std::string item_path(std::string_view parent, std::size_t index) {
    return std::string(parent) + "[" + std::to_string(index) + "]";
}

YamlReader::YamlReader(std::string_view text, std::string file) : file_(std::move(file)) {
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        lines_.push_back(text.substr(start, end - start));
        start = end + 1;
    }
}

SourcePos YamlReader::value_pos(const YamlValue& v) const {
    if ((v.node.IsNull() || v.node.Mark().is_null()) && !v.key_mark.is_null())
        return pos(v.key_mark);
    return v.node.Mark().is_null() ? SourcePos{} : pos(v.node.Mark());
}

SourcePos YamlReader::pos_of_text(const YamlValue& v, std::string_view needle) const {
    SourcePos p = value_pos(v);
    for (int l = p.line - 1, from = p.col - 1; l >= 0 && l < static_cast<int>(lines_.size());
         ++l, from = 0) {
        auto at = lines_[l].find(needle, static_cast<std::size_t>(std::max(from, 0)));
        if (at != std::string_view::npos) return {l + 1, static_cast<int>(at) + 1};
        if (l >= p.line + 20) break;  // a block scalar is not searched forever
    }
    return p;
}

void YamlReader::error(SourcePos p, std::string_view path, std::string_view message) {
    std::string m =
        path.empty() ? std::string(message) : std::string(path) + ": " + std::string(message);
    diags_.push_back(Diagnostic{file_, p.line, p.col, std::move(m)});
    error_paths_.emplace_back(path);
}

void YamlReader::error_at_key(const YamlValue& v, std::string_view message) {
    error(v.key_mark.is_null() ? value_pos(v) : pos(v.key_mark), v.path, message);
}

void YamlReader::type_error(const YamlValue& v, std::string_view what) {
    std::string got;
    switch (v.node.Type()) {
        case YAML::NodeType::Map:
            got = "a map";
            break;
        case YAML::NodeType::Sequence:
            got = "a list";
            break;
        case YAML::NodeType::Scalar:
            got = quote_value(v.node.Scalar());
            break;
        default:
            got = "nothing";
            break;
    }
    error(v, "expected " + std::string(what) + ", got " + got);
}

std::vector<Diagnostic> YamlReader::take_sorted() {
    std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
        return std::pair(a.line, a.col) < std::pair(b.line, b.col);
    });
    return std::move(diags_);
}

std::size_t YamlReader::report_to(Diagnostics& diags) {
    std::vector<Diagnostic> found = take_sorted();
    for (auto& d : found) diags.add(std::move(d));
    return found.size();
}

const Where* YamlReader::where(const std::string& path) const {
    auto it = where_.find(path);
    return it == where_.end() ? nullptr : &it->second;
}

bool YamlReader::clean(const std::string& path) const {
    if (!where(path)) return false;
    return std::none_of(error_paths_.begin(), error_paths_.end(), [&](const std::string& e) {
        return e.starts_with(path) &&
               (e.size() == path.size() || e[path.size()] == '.' || e[path.size()] == '[');
    });
}

std::optional<std::string> YamlReader::string(const YamlValue& v, ScalarCheck check) {
    if (!v.node.IsScalar()) {
        type_error(v, "a string");
        return std::nullopt;
    }
    std::string s = v.node.Scalar();
    if (check) {
        if (std::string problem = check(s); !problem.empty()) {
            error(v, problem);
            return std::nullopt;
        }
    }
    return s;
}

std::optional<std::int64_t> YamlReader::integer(const YamlValue& v, std::int64_t min,
                                                std::int64_t max) {
    // Quoted numbers are strings in YAML; accepting them would hide a typo'd type.
    const std::string text = v.node.IsScalar() ? v.node.Scalar() : "";
    std::int64_t n = 0;
    const char* first = text.data() + (text.starts_with('+') ? 1 : 0);
    auto [end, ec] = std::from_chars(first, text.data() + text.size(), n);
    if (!v.node.IsScalar() || !is_plain(v.node) || text.empty() ||
        end != text.data() + text.size() || ec == std::errc::invalid_argument) {
        type_error(v, "an integer");
        return std::nullopt;
    }
    if (ec == std::errc::result_out_of_range || n < min || n > max) {
        error(v, "must be between " + std::to_string(min) + " and " + std::to_string(max) +
                     ", got " + text);
        return std::nullopt;
    }
    return n;
}

std::optional<bool> YamlReader::boolean(const YamlValue& v) {
    // YAML 1.2 core schema booleans only: "yes"/"on" are strings, not booleans.
    if (v.node.IsScalar() && is_plain(v.node)) {
        const std::string& s = v.node.Scalar();
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
    }
    type_error(v, "true or false");
    return std::nullopt;
}

std::optional<std::string> YamlReader::choice(const YamlValue& v,
                                              std::span<const std::string_view> allowed) {
    auto s = string(v);
    if (!s) return std::nullopt;
    if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
    std::string m = quote_value(*s) + " is not one of " + join(allowed);
    if (auto near = closest(*s, allowed)) m += " (did you mean '" + std::string(*near) + "'?)";
    error(v, m);
    return std::nullopt;
}

std::optional<std::vector<std::string>> YamlReader::strings(const YamlValue& v, bool scalar_ok,
                                                            bool non_empty, ScalarCheck check) {
    std::vector<YamlValue> items;
    if (v.node.IsSequence()) {
        for (auto it = v.node.begin(); it != v.node.end(); ++it) {
            items.push_back(YamlValue{*it, item_path(v.path, items.size())});
            note(items.back().path, Where{value_pos(items.back()), value_pos(items.back())});
        }
    } else if (scalar_ok && v.node.IsScalar()) {
        items.push_back(v);
    } else {
        type_error(v, scalar_ok ? "a string or a list of strings" : "a list of strings");
        return std::nullopt;
    }
    if (non_empty && items.empty()) {
        error(v, "must not be empty");
        return std::nullopt;
    }
    std::vector<std::string> out;
    bool ok = true;
    for (const auto& item : items) {
        auto s = string(item, check);
        if (s) out.push_back(std::move(*s));
        ok = ok && s;
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<std::vector<std::optional<YamlValue>>> YamlReader::entries(
    const YamlValue& v, std::span<const KeyDoc> keys, bool one_of) {
    if (!v.node.IsMap()) {
        type_error(v, "a map");
        return std::nullopt;
    }
    std::vector<std::string_view> names;
    for (const auto& k : keys) names.push_back(k.name);
    std::vector<std::optional<YamlValue>> found(keys.size());
    std::map<std::string, int> seen;  // key -> 1-based line of its first occurrence
    std::optional<std::size_t> chosen;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
        // Copies: yaml-cpp's iterator hands out a temporary pair proxy.
        const YAML::Node key = it->first;
        YamlValue entry{YAML::Node(it->second),
                        child_path(v.path, key.IsScalar() ? key.Scalar() : "?"), key.Mark()};
        if (!key.IsScalar()) {
            error_at_key(entry, "keys must be strings");
            continue;
        }
        auto [first, fresh] = seen.emplace(key.Scalar(), pos(key.Mark()).line);
        if (!fresh) {
            error_at_key(
                entry, "duplicate key (first given at line " + std::to_string(first->second) + ")");
            continue;
        }
        auto at = std::find(names.begin(), names.end(), key.Scalar());
        if (at == names.end()) {
            auto near = closest(key.Scalar(), names);
            error_at_key(entry, near ? "unknown key (did you mean '" + std::string(*near) + "'?)"
                                     : "unknown key (expected one of: " + join(names) + ")");
            continue;
        }
        std::size_t index = static_cast<std::size_t>(at - names.begin());
        if (one_of && chosen) {
            error_at_key(entry, "cannot be combined with '" + std::string(names[*chosen]) +
                                    "' (give exactly one of: " + join(names) + ")");
            continue;
        }
        if (one_of) chosen = index;
        note(entry.path, Where{pos(key.Mark()), value_pos(entry)});
        found[index] = std::move(entry);
    }
    if (one_of && !chosen && seen.empty()) {
        error(v, "expected one of: " + join(names));
        return std::nullopt;
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i].required && !found[i])
            error(value_pos(v), child_path(v.path, keys[i].name), "missing required key");
    }
    return found;
}

YamlValue YamlReader::default_value(const YamlValue& parent, const KeyDoc& key) const {
    // Table defaults are fixed YAML text: a test parses every one of them.
    return YamlValue{YAML::Load(std::string(key.default_yaml)), child_path(parent.path, key.name),
                     YAML::Mark::null_mark()};
}

Result<std::string> read_text_for(const std::filesystem::path& file, Diagnostics& diags,
                                  std::string_view what) {
    auto text = read_file(file);
    if (!text) {
        // read_file's message is "PATH: strerror"; the diagnostic names the file already.
        std::string why = text.error().message;
        if (why.starts_with(file.string() + ": ")) why.erase(0, file.string().size() + 2);
        diags.add(file.string(), 0, 0, "cannot read the " + std::string(what) + ": " + why);
    }
    return text;
}

namespace {

// Where the documents of a stream start and where each one's root node is;
// nothing else. See count_documents.
class DocumentMarks : public YAML::EventHandler {
  public:
    std::vector<YAML::Mark> starts;  ///< each document's start
    std::vector<YAML::Mark> roots;   ///< each document's root node

    void OnDocumentStart(const YAML::Mark& m) override { starts.push_back(m); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark& m, YAML::anchor_t) override { root(m); }
    void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { root(m); }
    void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  const std::string&) override {
        root(m);
    }
    void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {
        root(m);
    }
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {
        root(m);
    }
    void OnMapEnd() override {}

  private:
    void root(const YAML::Mark& m) {
        if (roots.size() < starts.size()) roots.push_back(m);
    }
};

// The first two documents of `text` (throws YAML::Exception on a syntax error).
// yaml-cpp 0.7's LoadAll never returns on a document that begins with a token
// no node can start with (a bare ',' at block level, e.g. the text ","): the
// parser reports an empty document without consuming the token, forever, and
// LoadAll keeps every one of them until memory runs out (found by
// fuzz/netbootd_config_fuzz). So the documents are counted here, at most two,
// and a document that starts where the previous one started is that token.
DocumentMarks count_documents(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentMarks marks;
    while (marks.starts.size() < 2 && parser.HandleNextDocument(marks)) {
        const auto& s = marks.starts;
        if (s.size() == 2 && s[1].pos == s[0].pos) {
            const std::size_t at = static_cast<std::size_t>(s[1].pos);
            const std::string token = at < text.size() ? std::string(1, text[at]) : "end of input";
            throw YAML::ParserException(s[1], "unexpected '" + token + "'");
        }
    }
    return marks;
}

}  // namespace

std::optional<YAML::Node> load_single_document(std::string_view text, const std::string& file,
                                               Diagnostics& diags, std::string_view what,
                                               std::string_view empty_message) {
    const std::string input(text);
    YAML::Node doc;
    try {
        DocumentMarks marks = count_documents(input);
        if (marks.starts.size() > 1) {
            const YAML::Mark m = marks.roots.size() > 1 ? marks.roots[1] : marks.starts[1];
            diags.add(file, m.line + 1, m.column + 1,
                      "a " + std::string(what) + " is a single YAML document; remove the second");
            return std::nullopt;
        }
        if (!marks.starts.empty()) doc = YAML::Load(input);
    } catch (const YAML::Exception& e) {
        // ParserException and friends carry the position; yaml-cpp marks are 0-based.
        int line = e.mark.is_null() ? 0 : e.mark.line + 1;
        int col = e.mark.is_null() ? 0 : e.mark.column + 1;
        diags.add(file, line, col, "YAML syntax error: " + e.msg);
        return std::nullopt;
    }
    if (!doc || doc.IsNull()) {
        diags.add(file, 1, 1, std::string(empty_message));
        return std::nullopt;
    }
    return doc;
}

// ---- docs ----------------------------------------------------------------
namespace {

// A table cell: pipes would end the cell, line breaks the row.
std::string cell(std::string_view text) {
    std::string s;
    for (char c : text) {
        if (c == '|')
            s += "\\|";
        else if (c == '\n')
            s += ' ';
        else
            s += c;
    }
    return s;
}

std::string code(std::string_view text) { return "`" + cell(text) + "`"; }

std::string default_cell(const KeyDoc& k) {
    if (k.required) return "**required**";
    if (!k.default_yaml.empty()) return code(k.default_yaml);
    if (!k.default_note.empty()) return cell(k.default_note);
    return "none";
}

}  // namespace

std::string key_reference_markdown(std::span<const MapDoc> maps) {
    std::string out;
    for (const auto& m : maps) {
        out += "### " + (m.path.empty() ? std::string("Top level") : code(m.path)) + "\n\n";
        if (!m.doc.empty()) out += std::string(m.doc) + "\n";
        if (m.one_of) out += "Exactly one of these keys is given.\n";
        if (!m.doc.empty() || m.one_of) out += "\n";
        out += "| key | type | default | meaning | example |\n";
        out += "|-----|------|---------|---------|---------|\n";
        for (const auto& k : m.keys) {
            out += "| " + code(k.name) + " | " + cell(k.type) + " | " + default_cell(k) + " | " +
                   cell(k.doc) + " | " + code(k.example) + " |\n";
        }
        out += "\n";
    }
    return out;
}

}  // namespace pib
