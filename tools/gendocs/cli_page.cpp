#include "tools/gendocs/cli_page.hpp"

#include "tools/gendocs/cli_walk.hpp"

namespace pib::gendocs {

namespace {

// Help texts are phrases; a man page wants sentences.
std::string sentence(std::string s) {
    if (!s.empty() && s.back() != '.' && s.back() != '!' && s.back() != '?') s += '.';
    return s;
}

std::string value_roff(const CLI::Option& o) {
    const ValueKind v = value_kind(o);
    if (v.kind == ValueKind::none) return "";
    return italic(v.name);
}

std::string names_roff(const CLI::Option& o) {
    std::string out;
    for (const auto& n : option_names(o)) out += (out.empty() ? "" : ", ") + bold(n);
    const std::string value = value_roff(o);
    if (!value.empty()) out += " " + value;
    return out;
}

std::string option_body(const CLI::Option& o) {
    std::string body = roff_prose(sentence(o.get_description()));
    const ValueKind v = value_kind(o);
    if (o.get_required()) body += " Required.";
    if (v.kind == ValueKind::choice) {
        body += " One of";
        for (std::size_t i = 0; i < v.choices.size(); ++i)
            body += (i == 0 ? " " : i + 1 == v.choices.size() ? " or " : ", ") + bold(v.choices[i]);
        body += ".";
    }
    if (!o.get_default_str().empty()) body += " Default: " + bold(o.get_default_str()) + ".";
    for (const CLI::Option* x : o.get_excludes()) {
        const auto names = option_names(*x);
        if (!names.empty()) body += " Not with " + bold(names.back()) + ".";
    }
    if (!o.get_envname().empty()) body += " Environment: " + bold(o.get_envname()) + ".";
    return body;
}

}  // namespace

std::string summary(const CLI::App& app) {
    std::string d = app.get_description();
    const std::string prefix = app.get_name() + ": ";
    if (d.rfind(prefix, 0) == 0) d = d.substr(prefix.size());
    return d;
}

std::string synopsis_roff(const CLI::App& cmd) {
    std::string out = bold(command_path(cmd));
    bool optional = false;
    for (const CLI::Option* o : named_options(cmd, false)) {
        if (!o->get_required()) {
            optional = true;
            continue;
        }
        out += " " + bold(option_names(*o).back());
        if (const std::string v = value_roff(*o); !v.empty()) out += " " + v;
    }
    if (optional) out += " [" + italic("options") + "]";
    for (const CLI::Option* p : positionals(cmd)) {
        const std::string name = italic(value_kind(*p).name);
        out += " " + (p->get_required() ? name : "[" + name + "]");
    }
    if (!visible_subcommands(cmd).empty()) {
        const bool needed = cmd.get_require_subcommand_min() > 0;
        out += " " + std::string(needed ? "" : "[") + italic("COMMAND") + (needed ? "" : "]");
    }
    return out;
}

void write_options(ManPage& page, const CLI::App& cmd, bool with_help) {
    for (const CLI::Option* o : named_options(cmd, with_help))
        page.tagged_roff(names_roff(*o), option_body(*o));
}

void write_commands(ManPage& page, const CLI::App& app) {
    for (const CLI::App* cmd : visible_subcommands(app)) {
        page.subsection(command_path(*cmd));
        page.para_roff(synopsis_roff(*cmd));
        page.para(sentence(cmd->get_description()));
        for (const CLI::Option* p : positionals(*cmd)) {
            page.tagged_roff(italic(value_kind(*p).name), option_body(*p));
        }
        write_options(page, *cmd, false);
        // CLI11 hands a parent's footer down to the subcommands made after it.
        const std::string footer = cmd->get_footer();
        if (!footer.empty() && footer != cmd->get_parent()->get_footer()) page.para(footer);
        write_commands(page, *cmd);
    }
}

}  // namespace pib::gendocs
