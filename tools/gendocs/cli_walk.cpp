#include "tools/gendocs/cli_walk.hpp"

namespace pib::gendocs {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    int depth = 0;  // a choice list {a,b} may hold the separator
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i < s.size() && s[i] == '{') ++depth;
        if (i < s.size() && s[i] == '}') --depth;
        if (i == s.size() || (s[i] == sep && depth == 0)) {
            parts.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return parts;
}

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

}  // namespace

std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
    return app.get_subcommands(
        [](const CLI::App* s) { return !s->get_name().empty() && !s->get_group().empty(); });
}

std::vector<const CLI::App*> all_commands(const CLI::App& app) {
    std::vector<const CLI::App*> out{&app};
    for (const CLI::App* s : visible_subcommands(app)) {
        auto below = all_commands(*s);
        out.insert(out.end(), below.begin(), below.end());
    }
    return out;
}

std::string command_path(const CLI::App& app) {
    const CLI::App* parent = app.get_parent();
    return parent ? command_path(*parent) + " " + app.get_name() : app.get_name();
}

std::vector<const CLI::Option*> named_options(const CLI::App& app, bool with_help) {
    return app.get_options([&](const CLI::Option* o) {
        if (o->get_group().empty() || !o->nonpositional()) return false;
        if (!with_help && (o == app.get_help_ptr() || o == app.get_version_ptr())) return false;
        return true;
    });
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
    return app.get_options([](const CLI::Option* o) {
        return !o->get_group().empty() && o->get_positional() && !o->nonpositional();
    });
}

ValueKind value_kind(const CLI::Option& opt) {
    ValueKind v;
    if (opt.get_expected_max() == 0) return v;  // a flag
    const auto parts = split(opt.get_type_name(), ':');
    const std::string base = parts.empty() ? "" : parts[0];
    v.kind =
        base == "INT" || base == "UINT" || base == "FLOAT" ? ValueKind::number : ValueKind::text;
    for (std::size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        if (p == "FILE" || p == "PATH(existing)") v.kind = ValueKind::file;
        if (p == "DIR") v.kind = ValueKind::dir;
        if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
            v.kind = ValueKind::choice;
            v.choices = split(p.substr(1, p.size() - 2), ',');
        }
    }
    if (opt.get_positional())
        v.name = upper(opt.get_name(true));
    else if (v.kind == ValueKind::number)
        v.name = "N";
    else if (!opt.get_lnames().empty())
        v.name = upper(opt.get_lnames().front());
    else
        v.name = upper(opt.get_snames().front());
    if (v.kind == ValueKind::file && !opt.get_positional()) v.name = "FILE";
    if (v.kind == ValueKind::dir && !opt.get_positional()) v.name = "DIR";
    return v;
}

std::vector<std::string> option_names(const CLI::Option& opt) {
    std::vector<std::string> names;
    for (const auto& s : opt.get_snames()) names.push_back("-" + s);
    for (const auto& l : opt.get_lnames()) names.push_back("--" + l);
    return names;
}

}  // namespace pib::gendocs
