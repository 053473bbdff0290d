// docs/troubleshooting.md documents every log event netbootd (and the shared
// libraries and pib-agent) can emit. The events are read from the sources, so
// a new `log.event(level, "subsystem", "event")` without a section in the page
// fails here, naming the event and where it is logged; a section for an event
// that is no longer emitted fails too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kSource(PIB_SOURCE_DIR);
const fs::path kPage = kSource / "docs/troubleshooting.md";

/// Directories whose events the page must cover: the daemon, the libraries it
/// links, and the on-node agent whose lines an operator reads in a node's journal.
const std::vector<fs::path> kScanned = {kSource / "netbootd", kSource / "lib",
                                        kSource / "client/agent"};

/// One `subsystem event` pair and where it is emitted.
struct Event {
    std::string subsystem, name;
    std::string where;  ///< file:line of the first call that emits it
};

/// A call that names its event in a way the extractor cannot follow.
struct Unresolved {
    std::string where, text;
};

struct Extracted {
    std::vector<Event> events;
    std::vector<Unresolved> unresolved;
};

// The index just past the ')' matching the '(' at `open`; strings and
// character literals are skipped. npos when unbalanced.
std::size_t close_paren(const std::string& s, std::size_t open) {
    int depth = 0;
    for (std::size_t i = open; i < s.size(); ++i) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            for (++i; i < s.size() && s[i] != c; ++i)
                if (s[i] == '\\') ++i;
            continue;
        }
        if (c == '(') ++depth;
        if (c == ')' && --depth == 0) return i + 1;
    }
    return std::string::npos;
}

// Top-level comma-separated arguments of the call whose '(' is at `open`.
std::vector<std::string> split_args(const std::string& s, std::size_t open, std::size_t end) {
    std::vector<std::string> args;
    std::string cur;
    int depth = 0;
    for (std::size_t i = open + 1; i + 1 < end; ++i) {
        char c = s[i];
        if (c == '"' || c == '\'') {
            std::size_t j = i + 1;
            for (; j < end && s[j] != c; ++j)
                if (s[j] == '\\') ++j;
            cur.append(s, i, j - i + 1);
            i = j;
            continue;
        }
        if (c == '(' || c == '{' || c == '[') ++depth;
        if (c == ')' || c == '}' || c == ']') --depth;
        if (c == ',' && depth == 0) {
            args.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    args.push_back(cur);
    for (auto& a : args) {
        a.erase(0, a.find_first_not_of(" \t\n"));
        a.erase(a.find_last_not_of(" \t\n") + 1);
    }
    return args;
}

// Every string literal in `text`.
std::vector<std::string> literals(const std::string& text) {
    static const std::regex lit(R"re("([A-Za-z0-9_]+)")re");
    std::vector<std::string> out;
    for (std::sregex_iterator it(text.begin(), text.end(), lit), e; it != e; ++it)
        out.push_back((*it)[1]);
    return out;
}

// The names a non-literal event argument can take, read from the same file:
// `ident` -> every `ident = "x"`; `fn(...)` -> every `return "x";` in fn's body.
std::vector<std::string> resolve_dynamic(const std::string& file, const std::string& arg) {
    static const std::regex ident(R"(^[A-Za-z_][A-Za-z0-9_]*$)");
    static const std::regex call(R"(^([A-Za-z_][A-Za-z0-9_]*)\s*\()");
    std::vector<std::string> out;
    std::smatch m;
    if (std::regex_match(arg, ident)) {
        const std::regex assign("\\b" + arg + R"re(\s*=\s*"([A-Za-z0-9_]+)")re");
        for (std::sregex_iterator it(file.begin(), file.end(), assign), e; it != e; ++it)
            out.push_back((*it)[1]);
    } else if (std::regex_search(arg, m, call)) {
        // The definition: `name(` followed by its parameter list and a '{'.
        const std::regex def("\\b" + m[1].str() + R"(\s*\([^;{)]*\)\s*\{)");
        std::smatch d;
        if (std::regex_search(file, d, def)) {
            std::size_t open = static_cast<std::size_t>(d.position(0) + d.length(0)) - 1;
            int depth = 0;
            std::size_t close = open;
            for (; close < file.size(); ++close) {
                if (file[close] == '{') ++depth;
                if (file[close] == '}' && --depth == 0) break;
            }
            const std::string body = file.substr(open, close - open);
            // Every literal of every `return ...;` (`return a ? "x" : "y";` names both).
            static const std::regex ret(R"(\breturn\s+([^;]*);)");
            for (std::sregex_iterator it(body.begin(), body.end(), ret), e; it != e; ++it)
                for (auto& l : literals((*it)[1])) out.push_back(l);
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

// Every event emitted by `text`: calls `X.event(LEVEL, "subsystem", EVENT)`,
// whatever expression gives the level. `origin` names the file in messages.
Extracted extract_events(const std::string& text, const std::string& origin) {
    Extracted out;
    static const std::regex event_call(R"((\.|->)event\s*\()");
    static const std::regex literal(R"re(^"([A-Za-z0-9_]+)"$)re");
    for (std::sregex_iterator it(text.begin(), text.end(), event_call), e; it != e; ++it) {
        const std::size_t open = static_cast<std::size_t>(it->position(0) + it->length(0)) - 1;
        const std::size_t end = close_paren(text, open);
        const std::string where =
            origin + ":" +
            std::to_string(1 + std::count(text.begin(), text.begin() + it->position(0), '\n'));
        if (end == std::string::npos) {
            out.unresolved.push_back({where, "unbalanced call"});
            continue;
        }
        auto args = split_args(text, open, end);
        // Logger::event(level, subsystem, event); other `event(` calls take other arguments.
        if (args.size() != 3) continue;
        std::smatch sub, ev;
        if (!std::regex_match(args[1], sub, literal)) {
            out.unresolved.push_back({where, "subsystem " + args[1]});
            continue;
        }
        std::vector<std::string> names;
        if (std::regex_match(args[2], ev, literal)) {
            names.push_back(ev[1]);
        } else if (args[2].find('?') != std::string::npos) {
            names = literals(args[2]);  // cond ? "a" : "b"
        } else {
            names = resolve_dynamic(text, args[2]);
        }
        if (names.empty()) out.unresolved.push_back({where, "event " + args[2]});
        for (auto& n : names) out.events.push_back({sub[1], n, where});
    }
    return out;
}

Extracted scan_sources() {
    Extracted all;
    for (const auto& dir : kScanned) {
        for (const auto& f : fs::recursive_directory_iterator(dir)) {
            const auto ext = f.path().extension();
            if (!f.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
            // The Logger itself (LogEvent's declaration) emits nothing.
            if (f.path().parent_path().filename() == "common" && f.path().stem() == "log") continue;
            auto got = extract_events(pib::test::read_text(f.path()),
                                      fs::relative(f.path(), kSource).string());
            all.events.insert(all.events.end(), got.events.begin(), got.events.end());
            all.unresolved.insert(all.unresolved.end(), got.unresolved.begin(),
                                  got.unresolved.end());
        }
    }
    return all;
}

// `needle` occurs in `doc` not as part of a longer identifier.
bool mentions(const std::string& doc, const std::string& needle) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    for (std::size_t at = doc.find(needle); at != std::string::npos;
         at = doc.find(needle, at + 1)) {
        const bool before = at > 0 && word(doc[at - 1]);
        const std::size_t after = at + needle.size();
        if (!before && !(after < doc.size() && word(doc[after]))) return true;
    }
    return false;
}

TEST(TroubleshootingExtractor, ReadsLiteralTernaryVariableAndFunctionNames) {
    const std::string src = R"cpp(
        const char* state_event(int to) {
            switch (to) {
                case 1:
                    return "resumed";
                case 2:
                    return to > 1 ? "halted" : "aborted";
            }
            return "changed";
        }
        void f(const Logger& log_, bool bad) {
            log_.event(Level::warn, "dhcp", "packet_dropped").kv("reason", "a, b (c)");
            log.event(bad ? Level::warn : Level::info, "agent", bad ? "reboot" : "stay");
            const Level lvl = Level::info;
            log.event(lvl, "tftp", "listening");
            const char* event = "lease_ack";
            if (bad) event = "lease_nak";
            auto l = log_.event(Level::info, "dhcp", event);
            auto r = log_.event(Level::info, "rollout", state_event(3));
            timeline.event("not a log call");
            log_.event(Level::info, "x", name_from_somewhere);
        }
    )cpp";
    auto got = extract_events(src, "t.cpp");
    std::set<std::string> names;
    for (const auto& e : got.events) names.insert(e.subsystem + " " + e.name);
    EXPECT_EQ(names, (std::set<std::string>{"dhcp packet_dropped", "agent reboot", "agent stay",
                                            "dhcp lease_ack", "dhcp lease_nak", "rollout resumed",
                                            "tftp listening", "rollout halted", "rollout aborted",
                                            "rollout changed"}));
    ASSERT_EQ(got.unresolved.size(), 1u);
    EXPECT_EQ(got.unresolved[0].where, "t.cpp:21");
}

TEST(TroubleshootingDocs, SourcesAreReadAndEveryCallIsUnderstood) {
    auto all = scan_sources();
    std::string msg;
    for (const auto& u : all.unresolved)
        msg += "  " + u.where + ": cannot tell the event name (" + u.text +
               "); use a string literal, a variable assigned literals, or a function returning "
               "literals\n";
    EXPECT_TRUE(all.unresolved.empty()) << msg;
    // The extractor must see the events everyone knows, or it reads nothing.
    std::set<std::string> names;
    for (const auto& e : all.events) names.insert(e.subsystem + " " + e.name);
    for (const char* known :
         {"dhcp client_ignored", "boot no_release", "http overlay_refused",
          "netbootd reload_failed", "tftp request_refused", "rollout halted", "dhcp lease_offer"})
        EXPECT_TRUE(names.count(known)) << known << " not found in the sources";
}

TEST(TroubleshootingDocs, EveryLogEventHasASection) {
    const std::string doc = pib::test::read_text(kPage);
    ASSERT_FALSE(doc.empty()) << kPage << " is missing";
    std::map<std::string, std::string> missing;  // "subsystem event" -> where
    for (const auto& e : scan_sources().events) {
        const std::string key = e.subsystem + " " + e.name;
        if (!mentions(doc, "### `" + key + "`")) missing.emplace(key, e.where);
    }
    std::string msg;
    for (const auto& [key, where] : missing)
        msg += "  ### `" + key + "`   (logged at " + where + ")\n";
    EXPECT_TRUE(missing.empty()) << "docs/troubleshooting.md has no section for " << missing.size()
                                 << " log event(s); add a heading, its cause and fix:\n"
                                 << msg;
}

TEST(TroubleshootingDocs, EverySectionNamesAnEventThatExists) {
    const std::string doc = pib::test::read_text(kPage);
    std::set<std::string> emitted;
    for (const auto& e : scan_sources().events) emitted.insert(e.subsystem + " " + e.name);
    static const std::regex heading(R"(\n### `([a-z0-9_]+ [a-z0-9_]+)`)");
    std::string msg;
    int sections = 0;
    for (std::sregex_iterator it(doc.begin(), doc.end(), heading), e; it != e; ++it) {
        ++sections;
        if (!emitted.count((*it)[1])) msg += "  " + (*it)[1].str() + "\n";
    }
    EXPECT_GT(sections, 0);
    EXPECT_TRUE(msg.empty()) << "docs/troubleshooting.md documents events nothing logs any more:\n"
                             << msg;
}

}  // namespace
