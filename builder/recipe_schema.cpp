// The key tables of the recipe's top level, base, boot and output maps.
// Steps are in recipe_steps.cpp. Defaults here are the ones applied.
#include "builder/recipe_schema.hpp"

#include <limits>

#include "builder/recipe_syntax.hpp"

namespace pib::recipe {

namespace {

template <class T, class U>
void set(T& dst, std::optional<U>&& v) {
    if (v) dst = std::move(*v);
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
}

constexpr std::string_view kArches[] = {"amd64", "arm64"};
constexpr std::string_view kBoards[] = {"pc", "rpi4", "rpi5"};
// mmdebstrap(1) --variant values.
constexpr std::string_view kVariants[] = {"extract",     "custom",  "essential", "apt",
                                          "required",    "minbase", "buildd",    "important",
                                          "debootstrap", "standard"};
constexpr std::string_view kFirmwareFrom[] = {"image"};
constexpr std::string_view kCompressions[] = {"zstd"};

// ---- base ---------------------------------------------------------------

const Key<DebianBase> kDebianKeys[] = {
    {{.name = "suite",
      .type = "string",
      .default_yaml = "bookworm",
      .doc = "Debian suite or codename given to mmdebstrap.",
      .example = "bookworm"},
     [](Reader& r, const Value& v, DebianBase& o) { set(o.suite, r.string(v, check_suite)); }},
    {{.name = "variant",
      .type = "string",
      .default_yaml = "minbase",
      .doc = "mmdebstrap `--variant`: extract, custom, essential, apt, required, minbase, buildd, "
             "important, debootstrap or standard.",
      .example = "minbase"},
     [](Reader& r, const Value& v, DebianBase& o) { set(o.variant, r.choice(v, kVariants)); }},
    {{.name = "mirror",
      .type = "URL",
      .default_yaml = "http://deb.debian.org/debian",
      .doc = "Debian mirror (http, https or file URL). Not `${VAR}`-expanded.",
      .example = "http://deb.debian.org/debian"},
     [](Reader& r, const Value& v, DebianBase& o) { set(o.mirror, r.string(v, check_mirror)); }},
    {{.name = "components",
      .type = "list of strings",
      .default_yaml = "[main]",
      .doc = "Archive components.",
      .example = "[main, non-free-firmware]"},
     [](Reader& r, const Value& v, DebianBase& o) {
         set(o.components, r.strings(v, false, true, check_component));
     }},
    {{.name = "packages",
      .type = "list of strings",
      .default_yaml = "[]",
      .doc = "Packages installed by mmdebstrap (`--include`), besides the variant's.",
      .example = "[systemd, openssh-server]"},
     [](Reader& r, const Value& v, DebianBase& o) {
         set(o.packages, r.strings(v, false, false, check_package));
     }},
};

KeyDoc source_doc(std::string_view doc, std::string_view example) {
    return {.name = "source", .type = "path", .required = true, .doc = doc, .example = example};
}
constexpr KeyDoc kSha256Doc{
    .name = "sha256",
    .type = "string",
    .default_note = "not checked",
    .doc =
        "Expected SHA-256 of the file (64 hex digits), checked before use. "
        "Without it a URL is downloaded again on every build.",
    .example = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"};

template <class T>
void read_sha256(Reader& r, const Value& v, T& o) {
    if (auto s = r.string(v, check_sha256)) o.source.sha256 = lower(*s);
}

const Key<ImageBase> kImageKeys[] = {
    {source_doc("Disk image: host path or http(s) URL (raw MBR or GPT disk, or one compressed with xz, zstd or gzip).",
                "./2024-11-19-raspios-bookworm-arm64-lite.img"),
     [](Reader& r, const Value& v, ImageBase& o) {
         set(o.source, r.host_source(v, Reader::Kind::file, true));
     }},
    {kSha256Doc, read_sha256<ImageBase>},
    {{.name = "boot_partition",
      .type = "integer 1..128",
      .default_note = "the first FAT partition",
      .doc = "Partition holding the boot files and firmware.",
      .example = "1"},
     [](Reader& r, const Value& v, ImageBase& o) { set(o.boot_partition, r.integer(v, 1, 128)); }},
    {{.name = "root_partition",
      .type = "integer 1..128",
      .default_note = "the largest ext2/3/4, xfs or btrfs partition",
      .doc = "Partition holding the root filesystem.",
      .example = "2"},
     [](Reader& r, const Value& v, ImageBase& o) { set(o.root_partition, r.integer(v, 1, 128)); }},
};

const Key<TarballBase> kTarballKeys[] = {
    {source_doc("Tar archive (gzip, bzip2, xz or zstd): host path or http(s) URL.",
                "./root.tar.zst"),
     [](Reader& r, const Value& v, TarballBase& o) {
         set(o.source, r.host_source(v, Reader::Kind::file, true));
     }},
    {kSha256Doc, read_sha256<TarballBase>},
};

const Key<DirectoryBase> kDirectoryKeys[] = {
    {source_doc("Host directory copied as the root.", "./rootdir"),
     [](Reader& r, const Value& v, DirectoryBase& o) {
         set(o.source, r.host_source(v, Reader::Kind::dir, false));
     }},
};

// `image: PATH` is short for `image: {source: PATH}`; likewise tarball and directory.
template <class T, std::size_t N>
void read_source_base(Reader& r, const Value& v, const Key<T> (&keys)[N], Base& out) {
    T base;
    if (v.node.IsScalar())
        keys[0].read(r, v, base);
    else if (v.node.IsMap())
        read_map(r, v, keys, base);
    else
        r.type_error(v, "a path or a map");
    out = std::move(base);
}

const Key<Base> kBaseKeys[] = {
    {{.name = "debian",
      .type = "map",
      .doc = "Build the root with mmdebstrap.",
      .example = "{suite: bookworm, packages: [systemd]}"},
     [](Reader& r, const Value& v, Base& o) {
         DebianBase d;
         read_map(r, v, kDebianKeys, d);
         o = std::move(d);
     }},
    {{.name = "image",
      .type = "path, URL or map",
      .doc = "Import the root (and boot) partitions of a disk image through libguestfs.",
      .example = "{source: ./raspios.img, boot_partition: 1, root_partition: 2}"},
     [](Reader& r, const Value& v, Base& o) { read_source_base(r, v, kImageKeys, o); }},
    {{.name = "directory",
      .type = "path or map",
      .doc = "Copy an existing directory tree.",
      .example = "./rootdir"},
     [](Reader& r, const Value& v, Base& o) { read_source_base(r, v, kDirectoryKeys, o); }},
    {{.name = "tarball",
      .type = "path, URL or map",
      .doc = "Extract a tar archive.",
      .example = "{source: \"https://example.org/root.tar.zst\", sha256: 9f86d0...}"},
     [](Reader& r, const Value& v, Base& o) { read_source_base(r, v, kTarballKeys, o); }},
};

// ---- boot ---------------------------------------------------------------

const Key<Firmware> kFirmwareKeys[] = {
    {{.name = "dir",
      .type = "path",
      .doc = "Host directory holding the closed Raspberry Pi firmware (`${VAR}` expanded).",
      .example = "\"${PIBUILD_RPI_FIRMWARE}\""},
     [](Reader& r, const Value& v, Firmware& o) {
         set(o.dir, r.host_source(v, Reader::Kind::dir, false));
     }},
    {{.name = "from",
      .type = "string",
      .doc = "`image`: take the firmware from the imported image's boot partition.",
      .example = "image"},
     [](Reader& r, const Value& v, Firmware& o) {
         o.from_image = r.choice(v, kFirmwareFrom).has_value();
     }},
    {{.name = "files",
      .type = "list of strings",
      .default_note = "rpi4: `[start4.elf, fixup4.dat]`; rpi5: `[]`",
      .doc = "File names or globs (relative) to take from the firmware source.",
      .example = "[start4.elf, fixup4.dat, \"overlays/*.dtbo\"]"},
     [](Reader& r, const Value& v, Firmware& o) {
         set(o.files, r.strings(v, false, false, check_firmware_file));
     }},
};

const Key<Boot> kBootKeys[] = {
    {{.name = "kernel",
      .type = "path in root",
      .default_yaml = "/boot/vmlinuz-*",
      .doc = "Kernel inside the root; a glob must match exactly one file.",
      .example = "/boot/vmlinuz-6.1.0-28-arm64"},
     [](Reader& r, const Value& v, Boot& o) { set(o.kernel, r.string(v, check_root_path)); }},
    {{.name = "initramfs",
      .type = "path in root",
      .default_yaml = "/boot/initrd.img-*",
      .doc = "Initramfs inside the root (glob), `none`, or `pib`: pibuild builds the netboot "
             "initramfs (pib-init, the fleet's public key, the kernel modules for network, loop, "
             "squashfs, overlayfs, NFS and dm-verity; docs/boot.md).",
      .example = "pib"},
     [](Reader& r, const Value& v, Boot& o) {
         if (auto s = r.string(v, check_initramfs)) {
             o.pib_initramfs = *s == "pib";
             o.initramfs = *s == "none" || *s == "pib" ? "" : *s;
         }
     }},
    {{.name = "modules",
      .type = "list of strings",
      .default_yaml = "[]",
      .doc = "With `initramfs: pib`: extra kernel modules (names, as modprobe takes them) put "
             "in the initramfs and loaded first, with their dependencies.",
      .example = "[r8169]"},
     [](Reader& r, const Value& v, Boot& o) { set(o.modules, r.strings(v, true, false)); }},
    {{.name = "auto_reboot",
      .type = "bool",
      .default_yaml = "false",
      .doc = "With `initramfs: pib`: nodes reboot by themselves into a new release netbootd "
             "serves them, inside their channel's maintenance window (pib-update.timer; "
             "docs/boot.md \"On-node agent\"). Off: they pick it up at their next reboot, "
             "unless the kernel command line has `pib.update=1`.",
      .example = "true"},
     [](Reader& r, const Value& v, Boot& o) {
         if (auto b = r.boolean(v)) o.auto_reboot = *b;
     }},
    {{.name = "dtbs",
      .type = "string or list of paths in root",
      .default_yaml = "[]",
      .doc = "Device trees inside the root (globs; each must match). Raspberry Pi boards only.",
      .example = "[/usr/lib/linux-image-*/broadcom/bcm2711-rpi-4-b.dtb]"},
     [](Reader& r, const Value& v, Boot& o) {
         set(o.dtbs, r.strings(v, true, false, check_root_path));
     }},
    {{.name = "firmware",
      .type = "map",
      .default_note = "none",
      .doc =
          "Closed Raspberry Pi firmware: `dir` or `from: image`, and `files`. Required for rpi4.",
      .example = "{dir: \"${PIBUILD_RPI_FIRMWARE}\"}"},
     [](Reader& r, const Value& v, Boot& o) {
         Firmware f;
         if (read_map(r, v, kFirmwareKeys, f)) o.firmware = std::move(f);
     }},
    {{.name = "config_txt",
      .type = "string or list of strings",
      .default_yaml = "[]",
      .doc = "Fragments appended to config.txt, in order. Raspberry Pi boards only.",
      .example = "[\"dtparam=audio=on\", \"arm_64bit=1\"]"},
     [](Reader& r, const Value& v, Boot& o) { set(o.config_txt, r.strings(v, true, false)); }},
    {{.name = "cmdline",
      .type = "string",
      .default_yaml = "\"\"",
      .doc = "Kernel command line template (one line; trailing line breaks are dropped).",
      .example = "\"console=serial0,115200 console=tty1\""},
     [](Reader& r, const Value& v, Boot& o) {
         auto s = r.string(v);
         while (s && !s->empty() && (s->back() == '\n' || s->back() == ' ')) s->pop_back();
         if (!s) return;
         if (auto problem = check_cmdline(*s); !problem.empty()) return r.error(v, problem);
         o.cmdline = *s;
     }},
};

// ---- output -------------------------------------------------------------

const Key<Output> kOutputKeys[] = {
    {{.name = "compression",
      .type = "string",
      .default_yaml = "zstd",
      .doc = "squashfs compressor; only `zstd`.",
      .example = "zstd"},
     [](Reader& r, const Value& v, Output&) { (void)r.choice(v, kCompressions); }},
    {{.name = "level",
      .type = "integer 1..22",
      .default_yaml = "15",
      .doc = "zstd level.",
      .example = "19"},
     [](Reader& r, const Value& v, Output& o) {
         if (auto n = r.integer(v, 1, 22)) o.zstd_level = static_cast<int>(*n);
     }},
    {{.name = "block_size",
      .type = "integer or size",
      .default_yaml = "131072",
      .doc = "squashfs block size: a power of two from 4K to 1M, in bytes or as `128K`, `1M`.",
      .example = "1M"},
     [](Reader& r, const Value& v, Output& o) {
         if (!v.node.IsScalar()) return r.type_error(v, "a size");
         auto n = parse_size(v.node.Scalar());
         if (!n)
             return r.error(
                 v, "expected a size like 131072, 128K or 1M, got " + quote_value(v.node.Scalar()));
         if (*n < 4096 || *n > 1048576 || (*n & (*n - 1)) != 0)
             return r.error(v, "must be a power of two from 4K to 1M, got " + v.node.Scalar());
         o.block_size = static_cast<std::uint32_t>(*n);
     }},
};

// ---- the top level --------------------------------------------------------

const Key<Recipe> kRecipeKeys[] = {
    {{.name = "name",
      .type = "string",
      .required = true,
      .doc = "Image name, `[a-z0-9][a-z0-9._-]*` (at most 64); part of release ids.",
      .example = "kiosk"},
     [](Reader& r, const Value& v, Recipe& o) { set(o.name, r.string(v, check_name)); }},
    {{.name = "version",
      .type = "string",
      .required = true,
      .doc =
          "Image version, like name plus `+` and `~`. An unquoted number keeps its text (`1.10`).",
      .example = "\"1.0\""},
     [](Reader& r, const Value& v, Recipe& o) { set(o.version, r.string(v, check_version)); }},
    {{.name = "description",
      .type = "string",
      .default_yaml = "\"\"",
      .doc = "Free text for people.",
      .example = "\"Kiosk browser for the lobby screens\""},
     [](Reader& r, const Value& v, Recipe& o) { set(o.description, r.string(v)); }},
    {{.name = "arch",
      .type = "string",
      .required = true,
      .doc = "`amd64` or `arm64`.",
      .example = "arm64"},
     [](Reader& r, const Value& v, Recipe& o) {
         if (auto s = r.choice(v, kArches)) o.arch = *s == "amd64" ? Arch::amd64 : Arch::arm64;
     }},
    {{.name = "board",
      .type = "string",
      .required = true,
      .doc = "`pc` (PXE/UEFI), `rpi4` or `rpi5` (both need arch arm64).",
      .example = "rpi4"},
     [](Reader& r, const Value& v, Recipe& o) {
         if (auto s = r.choice(v, kBoards))
             o.board = *s == "pc" ? Board::pc : *s == "rpi4" ? Board::rpi4 : Board::rpi5;
     }},
    {{.name = "source_date_epoch",
      .type = "integer >= 0",
      .default_note = "the build time",
      .doc = "Timestamp clamped into the image; the SOURCE_DATE_EPOCH variable overrides it.",
      .example = "1700000000"},
     [](Reader& r, const Value& v, Recipe& o) {
         set(o.source_date_epoch, r.integer(v, 0, std::numeric_limits<std::int64_t>::max()));
     }},
    {{.name = "base",
      .type = "map",
      .required = true,
      .doc = "Where the root comes from: exactly one of `debian`, `image`, `directory`, `tarball`.",
      .example = "{debian: {suite: bookworm}}"},
     [](Reader& r, const Value& v, Recipe& o) { read_map(r, v, kBaseKeys, o.base, true); }},
    {{.name = "steps",
      .type = "list of steps",
      .default_yaml = "[]",
      .doc = "Changes applied to the root, in order; see the step maps below.",
      .example = "[{run: \"apt-get clean\"}]"},
     [](Reader& r, const Value& v, Recipe& o) {
         if (!v.node.IsSequence()) return r.type_error(v, "a list of steps");
         for (auto it = v.node.begin(); it != v.node.end(); ++it) {
             Value item{*it, item_path(v.path, o.steps.size())};
             Step step;
             step.pos = r.value_pos(item);
             read_step(r, item, step);
             o.steps.push_back(std::move(step));
         }
     }},
    {{.name = "boot",
      .type = "map",
      .default_yaml = "{}",
      .doc = "What the node boots.",
      .example = "{cmdline: \"quiet\"}"},
     [](Reader& r, const Value& v, Recipe& o) { read_map(r, v, kBootKeys, o.boot); }},
    {{.name = "output",
      .type = "map",
      .default_yaml = "{}",
      .doc = "How root.squashfs is written.",
      .example = "{level: 19}"},
     [](Reader& r, const Value& v, Recipe& o) { read_map(r, v, kOutputKeys, o.output); }},
};

}  // namespace

void read_recipe(Reader& r, const Value& root, Recipe& out) { read_map(r, root, kRecipeKeys, out); }

std::vector<MapDoc> recipe_maps() {
    return {
        map_doc("", "The top level of a recipe.", kRecipeKeys),
        map_doc("base", "Where the root comes from.", kBaseKeys, true),
        map_doc("base.debian", "A root built by mmdebstrap for the recipe's arch.", kDebianKeys),
        map_doc("base.image", "A disk image (`image: PATH` is short for `{source: PATH}`).",
                kImageKeys),
        map_doc("base.directory",
                "A host directory (`directory: PATH` is short for `{source: PATH}`).",
                kDirectoryKeys),
        map_doc("base.tarball", "A tar archive (`tarball: PATH` is short for `{source: PATH}`).",
                kTarballKeys),
        map_doc("boot", "Boot files. Paths are inside the built root unless said otherwise.",
                kBootKeys),
        map_doc("boot.firmware",
                "The closed Raspberry Pi firmware: give `dir` or `from`, not both.", kFirmwareKeys),
        map_doc("output", "The squashfs writer.", kOutputKeys),
    };
}

}  // namespace pib::recipe
