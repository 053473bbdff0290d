#include "tools/gendocs/bash_completion.hpp"

#include <stdexcept>

#include "tools/gendocs/cli_walk.hpp"

namespace pib::gendocs {

namespace {

// Words go into the script unquoted inside "..." strings: keep them plain.
const std::string& plain(const std::string& w) {
    for (char c : w) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
        if (!ok) throw std::runtime_error("completion: cannot quote \"" + w + "\"");
    }
    return w;
}

// Where a release id goes: the positional `release`, the options --to and
// --release. Named so in builder/fleet_cli.cpp; nothing else marks them.
bool is_release(const CLI::Option& o) {
    if (o.get_positional()) return o.get_name(true) == "release";
    for (const auto& l : o.get_lnames())
        if (l == "to" || l == "release") return true;
    return false;
}

// file, dir, release, choice:a|b, number (nothing to offer), any (files,
// as bash would); "" for a flag.
std::string kind_word(const CLI::Option& o) {
    const ValueKind v = value_kind(o);
    if (v.kind == ValueKind::none) return "";
    if (is_release(o)) return "release";
    switch (v.kind) {
        case ValueKind::file:
            return "file";
        case ValueKind::dir:
            return "dir";
        case ValueKind::choice: {
            std::string s = "choice:";
            for (std::size_t i = 0; i < v.choices.size(); ++i)
                s += (i ? "|" : "") + plain(v.choices[i]);
            return s;
        }
        case ValueKind::number:
            return "number";
        default:
            return "any";
    }
}

std::string join(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
    return s;
}

std::string spec_case(const CLI::App& cmd, const CLI::App& root) {
    std::vector<std::string> subs, opts, vals, pos;
    for (const CLI::App* s : visible_subcommands(cmd)) subs.push_back(plain(s->get_name()));
    for (const CLI::Option* o : named_options(cmd, true)) {
        const std::string kind = kind_word(*o);
        for (const auto& n : option_names(*o)) {
            opts.push_back(plain(n));
            if (!kind.empty()) vals.push_back(n + "=" + kind);
        }
    }
    // `pibuild RECIPE` is `pibuild build RECIPE` (builder/cli/app.cpp).
    const CLI::App* for_pos = &cmd;
    if (&cmd == &root) {
        for_pos = nullptr;
        for (const CLI::App* s : visible_subcommands(root))
            if (s->get_name() == "build") for_pos = s;
    }
    if (for_pos)
        for (const CLI::Option* p : positionals(*for_pos)) pos.push_back(kind_word(*p));
    std::string path = command_path(cmd);
    path = path.find(' ') == std::string::npos ? "" : path.substr(path.find(' ') + 1);
    return "        \"" + path + "\")\n" + "            _pibuild_subs=\"" + join(subs) + "\"\n" +
           "            _pibuild_opts=\"" + join(opts) + "\"\n" + "            _pibuild_vals=\"" +
           join(vals) + "\"\n" + "            _pibuild_pos=\"" + join(pos) + "\" ;;\n";
}

}  // namespace

std::string bash_completion(const CLI::App& app, const std::string& script_template) {
    std::string spec;
    for (const CLI::App* cmd : all_commands(app)) spec += spec_case(*cmd, app);
    const std::string mark = "@SPEC@\n";
    const std::size_t at = script_template.find(mark);
    if (at == std::string::npos) throw std::runtime_error("completion template without " + mark);
    std::string out = script_template;
    out.replace(at, mark.size(), spec);
    return out;
}

}  // namespace pib::gendocs
