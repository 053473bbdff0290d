// The commands docs/guide.md and docs/troubleshooting.md tell a reader to type
// exist: every `pibuild VERB [SUBVERB]` in their shell blocks is a command of
// the built pibuild, and every option given to it is one that command takes
// (read from its --help). A renamed verb or flag fails here, naming the line.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kSource(PIB_SOURCE_DIR);

/// Lines of the ```sh blocks of a Markdown file that run `program`, with
/// leading VAR=value words and trailing comments removed.
std::vector<std::string> command_lines(const std::string& doc, const std::string& program) {
    std::vector<std::string> out;
    std::istringstream in(doc);
    std::string line;
    bool in_sh = false;
    while (std::getline(in, line)) {
        if (line.rfind("```", 0) == 0) {
            in_sh = !in_sh && line == "```sh";
            continue;
        }
        if (!in_sh) continue;
        if (auto hash = line.find(" #"); hash != std::string::npos) line.erase(hash);
        // One command per `&&`-separated piece.
        std::size_t start = 0;
        while (start <= line.size()) {
            std::size_t end = line.find("&&", start);
            std::string piece = line.substr(start, end == std::string::npos ? end : end - start);
            std::istringstream words(piece);
            std::string w, cmd;
            bool found = false;
            while (words >> w) {
                if (!found && w.find('=') != std::string::npos && w[0] != '-')
                    continue;  // VAR=value
                if (!found && w != program) break;
                found = true;
                cmd += (cmd.empty() ? "" : " ") + w;
            }
            if (found) out.push_back(cmd);
            if (end == std::string::npos) break;
            start = end + 2;
        }
    }
    return out;
}

/// The subcommand names a CLI11 --help lists under "Subcommands:".
std::set<std::string> subcommands(const std::string& help) {
    std::set<std::string> out;
    auto at = help.find("Subcommands:");
    if (at == std::string::npos) return out;
    std::istringstream in(help.substr(at));
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        if (line.empty()) break;
        if (line.rfind("  ", 0) != 0) break;
        std::istringstream w(line);
        std::string name;
        if (w >> name) out.insert(name);
    }
    return out;
}

/// Whether --help text `help` offers option `opt` ("-k" or "--key").
bool offers(const std::string& help, const std::string& opt) {
    for (std::size_t at = help.find(opt); at != std::string::npos; at = help.find(opt, at + 1)) {
        const char before = at > 0 ? help[at - 1] : ' ';
        const std::size_t after = at + opt.size();
        const char next = after < help.size() ? help[after] : ' ';
        if ((before == ' ' || before == ',') && (next == ' ' || next == ',' || next == '\n'))
            return true;
    }
    return false;
}

// Checks one command line; "" when it is fine, else why not.
std::string check_line(const fs::path& binary, const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    std::vector<std::string> argv = {binary.string()};
    std::size_t i = 1;
    std::string help;
    for (;;) {
        std::vector<std::string> h = argv;
        h.push_back("--help");
        if (pib::test::run(h, &help) != 0) return "`" + line + "`: --help of it failed";
        if (i >= words.size()) break;
        auto subs = subcommands(help);
        if (!subs.count(words[i])) break;
        argv.push_back(words[i++]);
    }
    std::string problems;
    for (; i < words.size(); ++i) {
        std::string opt = words[i];
        if (opt.size() < 2 || opt[0] != '-' || opt == "--") continue;
        if (auto eq = opt.find('='); eq != std::string::npos) opt.erase(eq);
        if (!offers(help, opt)) problems += " " + opt;
    }
    if (!problems.empty()) {
        std::string cmd;
        for (std::size_t k = 1; k < argv.size(); ++k) cmd += " " + argv[k];
        return "`" + line + "`: `" + words[0] + cmd + "` has no option" + problems;
    }
    return "";
}

void check_doc(const std::string& doc_name, const std::string& program, const fs::path& binary) {
    const std::string doc = pib::test::read_text(kSource / "docs" / doc_name);
    ASSERT_FALSE(doc.empty()) << doc_name << " is missing";
    ASSERT_TRUE(fs::exists(binary)) << binary << " is not built (build it first)";
    std::string msg;
    for (const auto& line : command_lines(doc, program)) {
        auto why = check_line(binary, line);
        if (!why.empty()) msg += "  " + why + "\n";
    }
    EXPECT_TRUE(msg.empty()) << doc_name << " names commands or options " << program
                             << " does not have:\n"
                             << msg;
}

TEST(GuideCommands, ReadsCommandLinesOfShellBlocks) {
    const std::string doc =
        "text pibuild status\n"
        "```sh\n"
        "pibuild channel set stable R   # comment --nope\n"
        "mkdir -p x && cd x && pibuild build r.yaml -o out\n"
        "PIBUILD_RPI_FIRMWARE=/srv/fw pibuild build pi4.yaml --key k\n"
        "netbootd --check-config c\n"
        "```\n"
        "```yaml\n"
        "pibuild: not a command\n"
        "```\n";
    EXPECT_EQ(
        command_lines(doc, "pibuild"),
        (std::vector<std::string>{"pibuild channel set stable R", "pibuild build r.yaml -o out",
                                  "pibuild build pi4.yaml --key k"}));
    EXPECT_EQ(command_lines(doc, "netbootd"),
              (std::vector<std::string>{"netbootd --check-config c"}));
}

TEST(GuideCommands, ReadsSubcommandsAndOptionsFromHelp) {
    const std::string help =
        "Usage: pibuild [OPTIONS] SUBCOMMAND\n\nOptions:\n  -h,--help  Print\n"
        "  -k,--key TEXT  key\n\nSubcommands:\n  build   Build\n  channel  Channels\n\nfooter\n";
    EXPECT_EQ(subcommands(help), (std::set<std::string>{"build", "channel"}));
    EXPECT_TRUE(offers(help, "-k"));
    EXPECT_TRUE(offers(help, "--key"));
    EXPECT_FALSE(offers(help, "--ke"));
    EXPECT_FALSE(offers(help, "--output"));
}

TEST(GuideCommands, PibuildCommandsOfTheGuideExist) {
    check_doc("guide.md", "pibuild", pib::test::built_binary("builder/pibuild"));
}

TEST(GuideCommands, NetbootdCommandsOfTheGuideExist) {
    check_doc("guide.md", "netbootd", pib::test::built_binary("netbootd/netbootd"));
}

TEST(GuideCommands, PibuildCommandsOfTroubleshootingExist) {
    check_doc("troubleshooting.md", "pibuild", pib::test::built_binary("builder/pibuild"));
}

}  // namespace
