// Valid recipes of each base kind parse to exactly the expected struct.
#include <gtest/gtest.h>

#include <cstdlib>

#include "crypto/sha256.hpp"
#include "recipe/recipe_test_util.hpp"
#include "support/test_support.hpp"

namespace pib::test {
namespace {

using Action = UnitsStep::Action;

TEST(Recipe, FullDebianRecipeForRpi4) {
    TempDir dir;
    write_text(dir / "files/motd", "hello\n");
    write_text(dir / "fw/start4.elf", "placeholder");
    write_text(dir / "fw/fixup4.dat", "placeholder");
    const std::string text = R"(name: kiosk
version: "1.0"
description: Lobby kiosk
arch: arm64
board: rpi4
source_date_epoch: 1700000000
base:
  debian:
    suite: bookworm
    variant: apt
    mirror: http://deb.debian.org/debian
    components: [main, contrib]
    packages: [systemd, linux-image-arm64]
steps:
  - install: [openssh-server, "chromium=120.0"]
  - copy: {src: files/motd, dest: /etc/motd, mode: "0644", owner: root, group: "0"}
  - write:
      path: /etc/hostname
      content: "kiosk\n"
      mode: 600
  - run: systemctl set-default graphical.target
  - enable: ssh.service
  - disable: [apt-daily.timer, apt-daily-upgrade.timer]
  - mask: [getty@tty1.service]
  - group: {name: kiosk, gid: 2000}
  - user: {name: kiosk, uid: 2000, group: kiosk, groups: [video, input], home: /var/lib/kiosk, password_hash: "!", system: true}
  - remove: /etc/ssh/ssh_host_*
boot:
  kernel: /boot/vmlinuz-*
  initramfs: none
  dtbs: [/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb]
  firmware:
    dir: ${FW}
  config_txt: dtparam=audio=on
  cmdline: console=serial0,115200 console=tty1
output:
  compression: zstd
  level: 19
  block_size: 1M
)";
    const auto file = dir / "kiosk.yaml";
    Recipe got = parse_ok(text, file, context({{"FW", (dir / "fw").string()}}));

    Recipe want;
    want.file = file;
    want.digest = sha256_hex(text);
    want.name = "kiosk";
    want.version = "1.0";
    want.description = "Lobby kiosk";
    want.arch = Arch::arm64;
    want.board = Board::rpi4;
    want.source_date_epoch = 1700000000;
    want.base = DebianBase{.suite = "bookworm",
                           .variant = "apt",
                           .mirror = "http://deb.debian.org/debian",
                           .components = {"main", "contrib"},
                           .packages = {"systemd", "linux-image-arm64"}};
    want.steps = {
        {InstallStep{{"openssh-server", "chromium=120.0"}}, {15, 5}},
        {CopyStep{Source{.location = (dir / "files/motd").string(), .pos = {16, 17}}, "/etc/motd",
                  Ownership{0644, "root", "0"}},
         {16, 5}},
        {WriteStep{"/etc/hostname", "kiosk\n", Ownership{0600, {}, {}}}, {17, 5}},
        {RunStep{"systemctl set-default graphical.target"}, {21, 5}},
        {UnitsStep{Action::enable, {"ssh.service"}}, {22, 5}},
        {UnitsStep{Action::disable, {"apt-daily.timer", "apt-daily-upgrade.timer"}}, {23, 5}},
        {UnitsStep{Action::mask, {"getty@tty1.service"}}, {24, 5}},
        {GroupStep{"kiosk", 2000, false}, {25, 5}},
        {UserStep{
             "kiosk", 2000, "kiosk", {"video", "input"}, "/bin/bash", "/var/lib/kiosk", "!", true},
         {26, 5}},
        {RemoveStep{{"/etc/ssh/ssh_host_*"}}, {27, 5}},
    };
    want.boot.kernel = "/boot/vmlinuz-*";
    want.boot.initramfs = "";
    want.boot.dtbs = {"/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb"};
    want.boot.firmware = Firmware{Source{.location = (dir / "fw").string(), .pos = {33, 10}},
                                  false,
                                  {"start4.elf", "fixup4.dat"}};
    want.boot.config_txt = {"dtparam=audio=on"};
    want.boot.cmdline = "console=serial0,115200 console=tty1";
    want.output = Output{19, 1048576};

    EXPECT_EQ(got.base, want.base);
    ASSERT_EQ(got.steps.size(), want.steps.size());
    for (std::size_t i = 0; i < want.steps.size(); ++i)
        EXPECT_EQ(got.steps[i], want.steps[i]) << "step " << i;
    EXPECT_EQ(got.boot, want.boot);
    EXPECT_EQ(got.output, want.output);
    EXPECT_EQ(got, want);
}

TEST(Recipe, ImageBaseWithFirmwareFromImage) {
    TempDir dir;
    write_text(dir / "images/raspios.img", "not really an image");
    const std::string sha(64, 'A');
    Recipe got = parse_ok(R"(name: raspios
version: 2024.11.19
arch: arm64
board: rpi4
base:
  image: {source: images/raspios.img, sha256: )" +
                              sha + R"(, boot_partition: 1, root_partition: 2}
boot:
  firmware: {from: image, files: [start4.elf, fixup4.dat, "overlays/*.dtbo"]}
)",
                          dir / "r.yaml");
    ImageBase want{Source{.location = (dir / "images/raspios.img").string(),
                          .sha256 = std::string(64, 'a'),
                          .pos = {6, 19}},
                   1, 2};
    EXPECT_EQ(got.base, Base(want));
    EXPECT_EQ(got.version, "2024.11.19");
    ASSERT_TRUE(got.boot.firmware);
    EXPECT_EQ(*got.boot.firmware,
              (Firmware{{}, true, {"start4.elf", "fixup4.dat", "overlays/*.dtbo"}}));
    EXPECT_TRUE(got.steps.empty());
}

TEST(Recipe, DirectoryBaseAsStringIsRelativeToTheRecipe) {
    TempDir dir;
    std::filesystem::create_directories(dir / "trees/root");
    Recipe got =
        parse_ok(kPcHead.substr(0, kPcHead.find("base:")) + "base:\n  directory: trees/root/\n",
                 dir / "sub/../r.yaml");
    EXPECT_EQ(
        got.base,
        Base(DirectoryBase{Source{.location = (dir / "trees/root").string(), .pos = {6, 14}}}));
}

TEST(Recipe, TarballBaseFromUrlOrLocalFile) {
    TempDir dir;
    write_text(dir / "root.tar.zst", "x");
    const std::string head = kPcHead.substr(0, kPcHead.find("base:"));
    const std::string sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    Recipe url = parse_ok(
        head + "base:\n  tarball:\n    source: https://example.org/${NAME}.tar.zst\n    sha256: " +
            sha + "\n",
        dir / "r.yaml", context({{"NAME", "root"}}));
    EXPECT_EQ(url.base,
              Base(TarballBase{Source{"https://example.org/root.tar.zst", sha, {7, 13}}}));

    Recipe local = parse_ok(head + "base: {tarball: root.tar.zst}\n", dir / "r.yaml");
    EXPECT_EQ(local.base, Base(TarballBase{Source{(dir / "root.tar.zst").string(), {}, {5, 17}}}));
}

// The defaults applied from the key table agree with the struct initializers
// in recipe.hpp, so code that builds a Recipe by hand gets the same values.
TEST(Recipe, TableDefaultsMatchTheStructDefaults) {
    Recipe got = parse_ok(
        "name: m\nversion: \"1\"\narch: amd64\nboard: pc\nbase: {debian: {}}\n"
        "steps: [{user: {name: u}}, {group: {name: g}}]\n");
    EXPECT_EQ(got.base, Base(DebianBase{}));
    EXPECT_EQ(got.boot, Boot{});
    EXPECT_EQ(got.output, Output{});
    EXPECT_EQ(got.description, "");
    EXPECT_EQ(got.source_date_epoch, std::nullopt);
    EXPECT_EQ(got.steps[0].kind, StepKind(UserStep{.name = "u"}));
    EXPECT_EQ(got.steps[1].kind, StepKind(GroupStep{.name = "g"}));
}

TEST(Recipe, ScalarsKeepTheirText) {
    Recipe got = parse_ok(
        "name: 007\nversion: 1.10\narch: amd64\nboard: pc\nbase: {directory: /}\n"
        "description: 42\n");
    EXPECT_EQ(got.name, "007");
    EXPECT_EQ(got.version, "1.10");
    EXPECT_EQ(got.description, "42");
}

TEST(Recipe, ModesAreOctalWhateverYamlThinks) {
    Recipe got = parse_ok(kPcHead +
                          "steps:\n"
                          "  - write: {path: /a, content: '', mode: \"0644\"}\n"
                          "  - write: {path: /b, content: '', mode: '755'}\n"
                          "  - write: {path: /c, content: '', mode: 644}\n"
                          "  - write: {path: /d, content: '', mode: 04755}\n");
    std::vector<unsigned> modes;
    for (const auto& s : got.steps)
        modes.push_back(std::get<WriteStep>(s.kind).own.mode.value_or(0));
    EXPECT_EQ(modes, (std::vector<unsigned>{0644, 0755, 0644, 04755}));
}

TEST(Recipe, BlockSizeInBytesOrWithSuffix) {
    for (auto [text, want] :
         std::vector<std::pair<std::string, std::uint32_t>>{{"4096", 4096},
                                                            {"128K", 131072},
                                                            {"\"64K\"", 65536},
                                                            {"1M", 1048576},
                                                            {"256KiB", 262144}}) {
        EXPECT_EQ(parse_ok(kPcHead + "output: {block_size: " + text + "}\n").output.block_size,
                  want)
            << text;
    }
}

TEST(Recipe, Rpi5NeedsNoFirmware) {
    Recipe got =
        parse_ok("name: p5\nversion: \"1\"\narch: arm64\nboard: rpi5\nbase: {debian: {}}\n");
    EXPECT_EQ(got.board, Board::rpi5);
    EXPECT_FALSE(got.boot.firmware);
}

TEST(Recipe, ContextEnvOverridesProcessEnv) {
    TempDir dir;
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    ::setenv("PIB_RECIPE_TEST_ROOT", (dir / "a").c_str(), 1);
    const std::string text =
        "name: e\nversion: \"1\"\narch: amd64\nboard: pc\n"
        "base: {directory: \"${PIB_RECIPE_TEST_ROOT}\"}\n";
    RecipeContext process;  // defaults: the process environment
    EXPECT_EQ(std::get<DirectoryBase>(parse_ok(text, "r.yaml", process).base).source.location,
              (dir / "a").string());
    RecipeContext both = process;
    both.env["PIB_RECIPE_TEST_ROOT"] = (dir / "b").string();
    EXPECT_EQ(std::get<DirectoryBase>(parse_ok(text, "r.yaml", both).base).source.location,
              (dir / "b").string());
    EXPECT_EQ(
        errors(text, "r.yaml", context()),
        (std::vector<std::string>{
            "r.yaml:5:20: base.directory: environment variable PIB_RECIPE_TEST_ROOT is not set"}));
    ::unsetenv("PIB_RECIPE_TEST_ROOT");
}

TEST(Recipe, MissingFilesAreFineWithoutCheckFiles) {
    RecipeContext ctx = context();
    ctx.check_files = false;
    Recipe got =
        parse_ok(kPcHead + "steps: [{copy: {src: /no/such/file, dest: /x}}]\n", "r.yaml", ctx);
    EXPECT_EQ(std::get<CopyStep>(got.steps[0].kind).src.location, "/no/such/file");
}

TEST(Recipe, LoadRecipeReadsTheFileAndRecordsItsDigest) {
    TempDir dir;
    const std::string text = kPcHead + "# a comment changes the digest\n";
    write_text(dir / "demo.yaml", text);
    Diagnostics diags;
    auto r = load_recipe(dir / "demo.yaml", diags, context());
    ASSERT_TRUE(r.ok()) << diags.str();
    EXPECT_EQ(r->file, dir / "demo.yaml");
    EXPECT_EQ(r->digest, sha256_hex(text));
    EXPECT_EQ(r->name, "demo");
}

TEST(Recipe, LoadRecipeReportsAnUnreadableFile) {
    TempDir dir;
    Diagnostics diags;
    auto r = load_recipe(dir / "none.yaml", diags, context());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::not_found);
    EXPECT_EQ(diags.str(), (dir / "none.yaml").string() +
                               ": cannot read the recipe: No such file or directory\n");
}

}  // namespace
}  // namespace pib::test
