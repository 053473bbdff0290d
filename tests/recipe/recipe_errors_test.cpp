// Every kind of refusal, with its exact `file:line:col: key.path: message`.
#include <gtest/gtest.h>

#include "recipe/recipe_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::test {
namespace {

using Lines = std::vector<std::string>;

TEST(RecipeErrors, UnknownKeySuggestsTheClosestKey) {
    EXPECT_EQ(errors("nmae: demo\nversion: \"1\"\narch: amd64\nboard: pc\nbase: {directory: /}\n"),
              (Lines{"recipe.yaml:1:1: nmae: unknown key (did you mean 'name'?)",
                     "recipe.yaml:1:1: name: missing required key"}));
    EXPECT_EQ(errors(kPcHead + "steps:\n  - copy: {src: /etc/hostname, dst: /x}\n"),
              (Lines{"recipe.yaml:7:11: steps[0].copy.dest: missing required key",
                     "recipe.yaml:7:32: steps[0].copy.dst: unknown key (did you mean 'dest'?)"}));
    EXPECT_EQ(
        errors(kPcHead + "output: {compresion: zstd}\n"),
        (Lines{"recipe.yaml:6:10: output.compresion: unknown key (did you mean 'compression'?)"}));
}

TEST(RecipeErrors, UnknownKeyWithoutCloseMatchListsTheKeys) {
    EXPECT_EQ(
        errors(kPcHead + "output: {colour: red}\n"),
        (Lines{"recipe.yaml:6:10: output.colour: unknown key (expected one of: compression, level, "
               "block_size)"}));
}

TEST(RecipeErrors, WrongTypes) {
    EXPECT_EQ(errors(kPcHead + "steps: {run: x}\n"),
              (Lines{"recipe.yaml:6:8: steps: expected a list of steps, got a map"}));
    EXPECT_EQ(errors(kPcHead + "output:\n  level: high\n  block_size: [1]\n"),
              (Lines{"recipe.yaml:7:10: output.level: expected an integer, got 'high'",
                     "recipe.yaml:8:15: output.block_size: expected a size, got a list"}));
    // A quoted number is a string in YAML.
    EXPECT_EQ(errors(kPcHead + "output: {level: \"15\"}\n"),
              (Lines{"recipe.yaml:6:17: output.level: expected an integer, got '15'"}));
    EXPECT_EQ(errors(kPcHead + "steps:\n  - install: vim\n  - user: {name: u, system: yes}\n"),
              (Lines{"recipe.yaml:7:14: steps[0].install: expected a list of strings, got 'vim'",
                     "recipe.yaml:8:29: steps[1].user.system: expected true or false, got 'yes'"}));
    EXPECT_EQ(errors(kPcHead + "description:\nboot: [kernel]\n"),
              (Lines{"recipe.yaml:6:1: description: expected a string, got nothing",
                     "recipe.yaml:7:7: boot: expected a map, got a list"}));
    EXPECT_EQ(errors(kPcHead + "steps:\n  - remove: [/a, {b: c}]\n"),
              (Lines{"recipe.yaml:7:18: steps[0].remove[1]: expected a string, got a map"}));
}

TEST(RecipeErrors, MissingRequiredKeysAtTheParentMap) {
    EXPECT_EQ(errors("# demo\nname: demo\nbase: {directory: /}\n"),
              (Lines{"recipe.yaml:2:1: version: missing required key",
                     "recipe.yaml:2:1: arch: missing required key",
                     "recipe.yaml:2:1: board: missing required key"}));
    EXPECT_EQ(errors(kPcHead + "steps:\n  - write: {path: /etc/x}\n"),
              (Lines{"recipe.yaml:7:12: steps[0].write.content: missing required key"}));
}

TEST(RecipeErrors, BadEnumValues) {
    EXPECT_EQ(
        errors("name: d\nversion: \"1\"\narch: x86_64\nboard: pi4\nbase: {debian: {variant: "
               "minbse}}\n"),
        (Lines{"recipe.yaml:3:7: arch: 'x86_64' is not one of amd64, arm64",
               "recipe.yaml:4:8: board: 'pi4' is not one of pc, rpi4, rpi5 (did you mean 'rpi4'?)",
               "recipe.yaml:5:26: base.debian.variant: 'minbse' is not one of extract, custom, "
               "essential, apt, "
               "required, minbase, buildd, important, debootstrap, standard (did you mean "
               "'minbase'?)"}));
    EXPECT_EQ(errors(kPcHead + "output: {compression: xz}\n"),
              (Lines{"recipe.yaml:6:23: output.compression: 'xz' is not one of zstd"}));
}

TEST(RecipeErrors, BadModes) {
    EXPECT_EQ(
        errors(kPcHead + "steps:\n"
                         "  - write: {path: /a, content: '', mode: \"0999\"}\n"
                         "  - write: {path: /b, content: '', mode: 0o644}\n"
                         "  - write: {path: /c, content: '', mode: rw-r--r--}\n"
                         "  - write: {path: /d, content: '', mode: [6, 4, 4]}\n"),
        (Lines{
            "recipe.yaml:7:42: steps[0].write.mode: '0999' is not an octal mode like \"0644\"",
            "recipe.yaml:8:42: steps[1].write.mode: '0o644' is not an octal mode like \"0644\"",
            "recipe.yaml:9:42: steps[2].write.mode: 'rw-r--r--' is not an octal mode like \"0644\"",
            "recipe.yaml:10:42: steps[3].write.mode: expected an octal mode like \"0644\", got a "
            "list"}));
}

TEST(RecipeErrors, DuplicateKeys) {
    EXPECT_EQ(errors(kPcHead + "name: again\nboot:\n  cmdline: a\n  cmdline: b\n"),
              (Lines{"recipe.yaml:6:1: name: duplicate key (first given at line 1)",
                     "recipe.yaml:9:3: boot.cmdline: duplicate key (first given at line 8)"}));
}

TEST(RecipeErrors, YamlSyntaxErrorsCarryTheirPosition) {
    EXPECT_EQ(errors("name: demo\nsteps: [a, b\n"),
              (Lines{"recipe.yaml:3:1: YAML syntax error: end of sequence flow not found"}));
    EXPECT_EQ(errors("name: demo\n  version: 1\n"),
              (Lines{"recipe.yaml:2:10: YAML syntax error: illegal map value"}));
}

TEST(RecipeErrors, NotOneRecipeMap) {
    EXPECT_EQ(errors(""), (Lines{"recipe.yaml:1:1: the recipe is empty (expected a map with name, "
                                 "version, arch, board and base)"}));
    EXPECT_EQ(errors(kPcHead + "---\nname: two\n"),
              (Lines{"recipe.yaml:7:1: a recipe is a single YAML document; remove the second"}));
    EXPECT_EQ(errors("- name: demo\n"), (Lines{"recipe.yaml:1:1: expected a map, got a list"}));
}

TEST(RecipeErrors, MissingFilesAndWrongKinds) {
    TempDir dir;
    write_text(dir / "file", "x");
    std::filesystem::create_directories(dir / "tree");
    const auto f = dir / "r.yaml";
    const std::string d = dir.path().string();
    EXPECT_EQ(errors(kPcHead + "steps: [{copy: {src: nope, dest: /x}}]\n", f),
              (Lines{f.string() + ":6:22: steps[0].copy.src: " + d + "/nope does not exist"}));
    const std::string head = kPcHead.substr(0, kPcHead.find("base:"));
    EXPECT_EQ(errors(head + "base: {directory: file}\n", f),
              (Lines{f.string() + ":5:19: base.directory: " + d + "/file is not a directory"}));
    EXPECT_EQ(errors(head + "base: {tarball: tree}\n", f),
              (Lines{f.string() + ":5:17: base.tarball: " + d +
                     "/tree is a directory, expected a file"}));
    EXPECT_EQ(
        errors(head + "base: {image: {source: missing.img}}\n", f),
        (Lines{f.string() + ":5:24: base.image.source: " + d + "/missing.img does not exist"}));
}

TEST(RecipeErrors, MissingFirmwareFiles) {
    TempDir dir;
    write_text(dir / "fw/start4.elf", "x");
    const auto f = dir / "r.yaml";
    const std::string pi =
        "name: p\nversion: \"1\"\narch: arm64\nboard: rpi4\nbase: {debian: {}}\n";
    EXPECT_EQ(errors(pi + "boot:\n  firmware: {dir: fw}\n", f),
              (Lines{f.string() + ":7:19: boot.firmware.dir: " + dir.path().string() +
                     "/fw has no fixup4.dat (needed by the board; see files)"}));
    EXPECT_EQ(
        errors(pi + "boot:\n  firmware: {dir: fw, files: [start4.elf, fixup4.dat, \"*.dtb\"]}\n",
               f),
        (Lines{f.string() + ":7:43: boot.firmware.files[1]: fixup4.dat is not in " +
               dir.path().string() + "/fw"}));
    EXPECT_EQ(errors(pi + "boot:\n  firmware: {dir: nofw}\n", f),
              (Lines{f.string() + ":7:19: boot.firmware.dir: " + dir.path().string() +
                     "/nofw does not exist"}));
}

TEST(RecipeErrors, UnsetOrMalformedVariables) {
    const std::string head = kPcHead.substr(0, kPcHead.find("base:"));
    EXPECT_EQ(errors(head + "base:\n  directory: \"/srv/${ROOTS}/${EMPTY}\"\n", "recipe.yaml",
                     context({{"EMPTY", ""}})),
              (Lines{"recipe.yaml:6:20: base.directory: environment variable ROOTS is not set",
                     "recipe.yaml:6:29: base.directory: environment variable EMPTY is empty"}));
    EXPECT_EQ(errors(head + "base: {directory: \"${A-B}\"}\n"),
              (Lines{"recipe.yaml:5:20: base.directory: malformed variable reference: write "
                     "${NAME} with NAME of "
                     "A-Z a-z 0-9 _"}));
}

TEST(RecipeErrors, ImpossibleCombinations) {
    EXPECT_EQ(
        errors("name: d\nversion: \"1\"\narch: amd64\nboard: rpi4\nbase: {debian: {}}\n"
               "boot: {firmware: {from: image}}\n"),
        (Lines{
            "recipe.yaml:4:8: board: rpi4 needs arch arm64 (arch is amd64)",
            "recipe.yaml:6:19: boot.firmware.from: 'image' needs an image base (base is debian)"}));
    EXPECT_EQ(
        errors(kPcHead +
               "boot:\n  dtbs: [/boot/x.dtb]\n  firmware: {from: image}\n  config_txt: a=1\n"),
        (Lines{
            "recipe.yaml:7:3: boot.dtbs: only Raspberry Pi boards use this (board is pc)",
            "recipe.yaml:8:3: boot.firmware: only Raspberry Pi boards use this (board is pc)",
            "recipe.yaml:8:14: boot.firmware.from: 'image' needs an image base (base is directory)",
            "recipe.yaml:9:3: boot.config_txt: only Raspberry Pi boards use this (board is pc)"}));
    const std::string pi =
        "name: p\nversion: \"1\"\narch: arm64\nboard: rpi4\nbase: {image: /etc/hostname}\n";
    EXPECT_EQ(
        errors(pi),
        (Lines{"recipe.yaml:4:8: boot.firmware: board rpi4 needs the closed Raspberry Pi firmware "
               "(start4.elf, fixup4.dat): give dir or from: image"}));
    EXPECT_EQ(
        errors(pi + "boot:\n  cmdline: quiet\n"),
        (Lines{"recipe.yaml:7:3: boot.firmware: board rpi4 needs the closed Raspberry Pi firmware "
               "(start4.elf, fixup4.dat): give dir or from: image"}));
    EXPECT_EQ(errors(pi + "boot: {firmware: {dir: /, from: image}}\n"),
              (Lines{"recipe.yaml:6:27: boot.firmware.from: give dir or from, not both"}));
    EXPECT_EQ(
        errors(pi + "boot: {firmware: {files: [a]}}\n"),
        (Lines{"recipe.yaml:6:18: boot.firmware: needs dir (a host directory) or from: image"}));
    EXPECT_EQ(
        errors(kPcHead.substr(0, kPcHead.find("base:")) +
               "base: {image: {source: /etc/hostname, boot_partition: 2, root_partition: 2}}\n"),
        (Lines{"recipe.yaml:5:58: base.image.root_partition: must differ from boot_partition"}));
}

TEST(RecipeErrors, ExactlyOneKindOfBaseAndStep) {
    const std::string head = kPcHead.substr(0, kPcHead.find("base:"));
    EXPECT_EQ(errors(head + "base: {}\n"),
              (Lines{"recipe.yaml:5:7: base: expected one of: debian, image, directory, tarball"}));
    EXPECT_EQ(errors(head + "base: {debian: {}, directory: /}\n"),
              (Lines{"recipe.yaml:5:20: base.directory: cannot be combined with 'debian' (give "
                     "exactly one of: "
                     "debian, image, directory, tarball)"}));
    EXPECT_EQ(errors(kPcHead + "steps:\n  - run: a\n    remove: /b\n"),
              (Lines{"recipe.yaml:8:5: steps[0].remove: cannot be combined with 'run' (give "
                     "exactly one of: install, "
                     "copy, write, run, enable, disable, mask, group, user, remove)"}));
}

TEST(RecipeErrors, PathsInsideTheRoot) {
    EXPECT_EQ(
        errors(kPcHead + "steps:\n"
                         "  - copy: {src: /etc/hostname, dest: etc/motd}\n"
                         "  - write: {path: /etc/../../x, content: ''}\n"
                         "  - remove: [/tmp/*, /]\n"
                         "boot: {kernel: vmlinuz}\n"),
        (Lines{"recipe.yaml:7:38: steps[0].copy.dest: must be an absolute path inside the root, "
               "got 'etc/motd'",
               "recipe.yaml:8:19: steps[1].write.path: must not contain '..', got '/etc/../../x'",
               "recipe.yaml:9:22: steps[2].remove[1]: refusing to remove the whole root, got '/'",
               "recipe.yaml:10:16: boot.kernel: must be an absolute path inside the root, got "
               "'vmlinuz'"}));
}

TEST(RecipeErrors, UrlsAndDigests) {
    const std::string head = kPcHead.substr(0, kPcHead.find("base:"));
    EXPECT_EQ(
        errors(head + "base: {tarball: {source: \"https://x.org/r.tar\", sha256: abc123}}\n"),
        (Lines{
            "recipe.yaml:5:57: base.tarball.sha256: must be 64 hexadecimal digits, got 'abc123'"}));
    EXPECT_EQ(errors(head + "base: {image: \"ftp://x.org/r.img\"}\n"),
              (Lines{"recipe.yaml:5:15: base.image: unsupported URL scheme 'ftp' (use http:// or "
                     "https://)"}));
    EXPECT_EQ(errors(kPcHead + "steps: [{copy: {src: \"https://x.org/motd\", dest: /etc/motd}}]\n"),
              (Lines{"recipe.yaml:6:22: steps[0].copy.src: must be a host path (only base.image "
                     "and base.tarball "
                     "may be URLs), got 'https://x.org/motd'"}));
}

TEST(RecipeErrors, ValuesOutOfRangeOrMisspelled) {
    EXPECT_EQ(
        errors("name: Demo\nversion: 1.0 beta\narch: amd64\nboard: pc\nbase: {debian: {packages: "
               "[Vim]}}\n"
               "output: {level: 23, block_size: 100000}\nsource_date_epoch: -1\n"),
        (Lines{
            "recipe.yaml:1:7: name: must be 1-64 of a-z 0-9 . _ - starting with a letter or digit, "
            "got 'Demo'",
            "recipe.yaml:2:10: version: must be 1-64 of a-z 0-9 . _ - + ~ starting with a letter "
            "or digit, "
            "got '1.0 beta'",
            "recipe.yaml:5:28: base.debian.packages[0]: must be a Debian package name (a-z 0-9 + . "
            "-), "
            "optionally with :arch, =version or /release, got 'Vim'",
            "recipe.yaml:6:17: output.level: must be between 1 and 22, got 23",
            "recipe.yaml:6:33: output.block_size: must be a power of two from 4K to 1M, got 100000",
            "recipe.yaml:7:20: source_date_epoch: must be between 0 and 9223372036854775807, got "
            "-1"}));
    EXPECT_EQ(errors(kPcHead +
                     "steps:\n  - enable: []\n  - user: {name: Kiosk, password_hash: \"a:b\"}\n"),
              (Lines{"recipe.yaml:7:13: steps[0].enable: must not be empty",
                     "recipe.yaml:8:18: steps[1].user.name: must be a user or group name (a-z 0-9 "
                     "_ . -, starting "
                     "with a letter or _, at most 32), got 'Kiosk'",
                     "recipe.yaml:8:40: steps[1].user.password_hash: must be a crypt(3) hash "
                     "without ':' or line "
                     "breaks (e.g. from 'mkpasswd -m yescrypt')"}));
}

TEST(RecipeErrors, ScriptsAndCommandLines) {
    EXPECT_EQ(
        errors(kPcHead + "steps: [{run: \"  \"}]\nboot:\n  cmdline: |\n    quiet\n    splash\n"),
        (Lines{"recipe.yaml:6:15: steps[0].run: must not be empty",
               "recipe.yaml:8:12: boot.cmdline: must be a single line"}));
    // A folded block's trailing line break is dropped rather than refused.
    EXPECT_EQ(parse_ok(kPcHead + "boot:\n  cmdline: >\n    console=tty1\n    quiet\n").boot.cmdline,
              "console=tty1 quiet");
}

// One pass reports everything, sorted by position, whatever phase found it.
TEST(RecipeErrors, SeveralErrorsAtOnceInFileOrder) {
    TempDir dir;
    const auto f = dir / "recipe.yaml";
    const std::string text = R"(name: demo
version: "1"
arch: amd64
board: rpi5
base:
  debian: {suite: bookworm, mirorr: http://x}
steps:
  - copy: {src: missing, dest: relative, mode: "888"}
  - instal: [vim]
output:
  level: 0
)";
    const std::string p = f.string();
    EXPECT_EQ(
        errors(text, f),
        (Lines{p + ":4:8: board: rpi5 needs arch arm64 (arch is amd64)",
               p + ":6:29: base.debian.mirorr: unknown key (did you mean 'mirror'?)",
               p + ":8:17: steps[0].copy.src: " + dir.path().string() + "/missing does not exist",
               p + ":8:32: steps[0].copy.dest: must be an absolute path inside the root, got "
                   "'relative'",
               p + ":8:48: steps[0].copy.mode: '888' is not an octal mode like \"0644\"",
               p + ":9:5: steps[1].instal: unknown key (did you mean 'install'?)",
               p + ":11:10: output.level: must be between 1 and 22, got 0"}));
}

}  // namespace
}  // namespace pib::test
