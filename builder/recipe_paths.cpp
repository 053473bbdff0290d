// Host paths named by a recipe: `${VAR}` expansion, resolution against the
// recipe's directory, URL rules and existence checks.
#include <cstdlib>
#include <system_error>

#include "builder/recipe_reader.hpp"

namespace pib::recipe {

namespace {

bool valid_var_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

// "scheme" of "scheme://rest" when the text has that shape, else "".
std::string_view url_scheme(std::string_view text) {
    auto end = text.find("://");
    if (end == std::string_view::npos || end == 0) return {};
    std::string_view scheme = text.substr(0, end);
    for (char c : scheme) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '.' || c == '-';
        if (!ok) return {};
    }
    return scheme;
}

}  // namespace

std::optional<std::string> Reader::expand(const Value& v, std::string_view text) {
    std::string out;
    bool ok = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
            out += text[i];
            continue;
        }
        std::size_t close = text.find('}', i + 2);
        std::string name(text.substr(i + 2, close == std::string_view::npos ? 0 : close - i - 2));
        if (close == std::string_view::npos || !valid_var_name(name)) {
            error(
                pos_of_text(v, text.substr(i, close == std::string_view::npos ? 2 : close - i + 1)),
                v.path, "malformed variable reference: write ${NAME} with NAME of A-Z a-z 0-9 _");
            return std::nullopt;
        }
        std::optional<std::string> value;
        if (auto it = ctx_.env.find(name); it != ctx_.env.end())
            value = it->second;
        else if (const char* env = ctx_.use_process_env ? std::getenv(name.c_str()) : nullptr)
            value = env;
        if (!value || value->empty()) {
            error(pos_of_text(v, "${" + name + "}"), v.path,
                  "environment variable " + name + (value ? " is empty" : " is not set"));
            ok = false;
        } else {
            out += *value;
        }
        i = close;
    }
    if (!ok) return std::nullopt;
    return out;
}

std::optional<Source> Reader::host_source(const Value& v, Kind kind, bool url_ok) {
    auto text = string(v);
    if (!text) return std::nullopt;
    if (text->empty()) {
        error(v, "must not be empty");
        return std::nullopt;
    }
    auto expanded = expand(v, *text);
    if (!expanded) return std::nullopt;
    Source src;
    src.pos = value_pos(v);
    if (std::string_view scheme = url_scheme(*expanded); !scheme.empty()) {
        if (!url_ok) {
            error(v, "must be a host path (only base.image and base.tarball may be URLs), got " +
                         quote_value(*expanded));
            return std::nullopt;
        }
        if (scheme != "http" && scheme != "https") {
            error(v,
                  "unsupported URL scheme '" + std::string(scheme) + "' (use http:// or https://)");
            return std::nullopt;
        }
        src.location = *expanded;
        return src;
    }
    // Relative paths are relative to the recipe, not to wherever pibuild runs.
    std::filesystem::path p(*expanded);
    if (p.is_relative()) p = dir_ / p;
    p = p.lexically_normal();
    if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
    src.location = p.string();
    if (!ctx_.check_files) return src;

    std::error_code ec;
    auto st = std::filesystem::status(p, ec);
    if (!std::filesystem::exists(st)) {
        error(v, src.location + " does not exist");
        return std::nullopt;
    }
    if (kind == Kind::dir && !std::filesystem::is_directory(st)) {
        error(v, src.location + " is not a directory");
        return std::nullopt;
    }
    if (kind == Kind::file && std::filesystem::is_directory(st)) {
        error(v, src.location + " is a directory, expected a file");
        return std::nullopt;
    }
    return src;
}

}  // namespace pib::recipe
