#include "tools/gendocs/key_page.hpp"

namespace pib::gendocs {

namespace {

std::string sentence(std::string_view s) {
    std::string out(s);
    if (!out.empty() && out.back() != '.') out += '.';
    return out;
}

std::string key_body(const KeyDoc& k) {
    std::string body = roff_prose(sentence(k.doc));
    if (k.required)
        body += "\n.br\nRequired.";
    else if (!k.default_yaml.empty())
        body += "\n.br\nDefault: " + bold(k.default_yaml) + ".";
    else if (!k.default_note.empty())
        body += "\n.br\nDefault: " + roff_prose(sentence(k.default_note));
    if (!k.example.empty())
        body += "\n.br\nExample: " + bold(std::string(k.name) + ": " + std::string(k.example));
    return body;
}

}  // namespace

void write_keys(ManPage& page, std::span<const MapDoc> maps) {
    for (const MapDoc& m : maps) {
        page.subsection(m.path.empty() ? "Top level" : m.path);
        std::string intro(m.doc);
        if (m.one_of)
            intro += std::string(intro.empty() ? "" : " ") + "Exactly one of these keys is given.";
        if (!intro.empty()) page.para(sentence(intro));
        for (const KeyDoc& k : m.keys)
            page.tagged_roff(bold(k.name) + " (" + roff_text(k.type) + ")", key_body(k));
    }
}

}  // namespace pib::gendocs
