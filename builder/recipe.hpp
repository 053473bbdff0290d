// The recipe: what a release is built from. Parsed once, at the edge, into
// this validated, immutable struct (STYLE.md rule 8); nothing downstream reads YAML.
// Every key is documented in docs/recipe.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/diag.hpp"
#include "common/result.hpp"
#include "config/source_pos.hpp"  // SourcePos: where a value came from, for errors after parsing

namespace pib {

enum class Arch { amd64, arm64 };
enum class Board { pc, rpi4, rpi5 };

const char* arch_name(Arch a);
const char* board_name(Board b);

/// A host file or URL named by the recipe. Local paths are made absolute
/// (relative to the recipe's directory) during parsing; `${VAR}` is expanded.
struct Source {
    std::string location;                 ///< absolute host path, or an http(s) URL
    std::optional<std::string> sha256;    ///< expected digest (lower-case hex), if given
    bool is_url() const { return location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0; }
    SourcePos pos;
    bool operator==(const Source&) const = default;
};

// ---- base ---------------------------------------------------------------

/// base.debian: a root built by mmdebstrap.
struct DebianBase {
    std::string suite = "bookworm";
    std::string variant = "minbase";   ///< mmdebstrap --variant
    std::string mirror = "http://deb.debian.org/debian";
    std::vector<std::string> components{"main"};
    std::vector<std::string> packages;
    bool operator==(const DebianBase&) const = default;
};

/// base.image: a disk image whose partitions are imported through libguestfs.
struct ImageBase {
    Source source;
    std::optional<int> boot_partition;  ///< 1-based; default: the first FAT partition
    std::optional<int> root_partition;  ///< 1-based; default: the largest ext2/3/4/xfs/btrfs partition
    bool operator==(const ImageBase&) const = default;
};

/// base.directory: an existing tree copied as is (owners, modes, xattrs kept).
struct DirectoryBase {
    Source source;
    bool operator==(const DirectoryBase&) const = default;
};

/// base.tarball: a (compressed) tar archive extracted with owners and xattrs.
struct TarballBase {
    Source source;
    bool operator==(const TarballBase&) const = default;
};

using Base = std::variant<DebianBase, ImageBase, DirectoryBase, TarballBase>;

// ---- steps --------------------------------------------------------------

/// File ownership and mode as the recipe states them; unset = keep / default.
struct Ownership {
    std::optional<unsigned> mode;         ///< e.g. 0644 (recipe writes "0644" as a string)
    std::optional<std::string> owner;     ///< user name or numeric uid, resolved inside the root
    std::optional<std::string> group;     ///< group name or numeric gid, resolved inside the root
    bool operator==(const Ownership&) const = default;
};

struct InstallStep {
    std::vector<std::string> packages;
    bool operator==(const InstallStep&) const = default;
};
struct CopyStep {
    Source src;          ///< host file or directory (copied recursively)
    std::string dest;    ///< absolute path inside the root
    Ownership own;
    bool operator==(const CopyStep&) const = default;
};
struct WriteStep {
    std::string path;    ///< absolute path inside the root
    std::string content;
    Ownership own;
    bool operator==(const WriteStep&) const = default;
};
struct RunStep {
    std::string script;  ///< run as `/bin/sh -ec SCRIPT` chrooted into the root
    bool operator==(const RunStep&) const = default;
};
struct UnitsStep {
    enum class Action { enable, disable, mask } action;
    std::vector<std::string> units;
    bool operator==(const UnitsStep&) const = default;
};
struct GroupStep {
    std::string name;
    std::optional<std::uint32_t> gid;
    bool system = false;
    bool operator==(const GroupStep&) const = default;
};
struct UserStep {
    std::string name;
    std::optional<std::uint32_t> uid;
    std::optional<std::string> group;          ///< primary group (default: a group named like the user)
    std::vector<std::string> groups;           ///< supplementary groups
    std::string shell = "/bin/bash";
    std::optional<std::string> home;           ///< default /home/NAME
    std::optional<std::string> password_hash;  ///< crypt(3) hash; default: locked
    bool system = false;
    bool operator==(const UserStep&) const = default;
};
struct RemoveStep {
    std::vector<std::string> paths;  ///< absolute paths inside the root; shell globs allowed
    bool operator==(const RemoveStep&) const = default;
};

using StepKind = std::variant<InstallStep, CopyStep, WriteStep, RunStep, UnitsStep, GroupStep,
                              UserStep, RemoveStep>;
struct Step {
    StepKind kind;
    SourcePos pos;  ///< where the step starts, for errors during the build
    bool operator==(const Step&) const = default;
};

// ---- boot ---------------------------------------------------------------

/// Where the closed Raspberry Pi firmware comes from.
struct Firmware {
    std::optional<Source> dir;          ///< user-supplied host directory
    bool from_image = false;            ///< take it from the imported image's boot partition
    std::vector<std::string> files;     ///< file names (or globs) to take; default per board
    bool operator==(const Firmware&) const = default;
};

struct Boot {
    /// Kernel inside the root (glob allowed, must match exactly one file).
    std::string kernel = "/boot/vmlinuz-*";
    /// Initramfs inside the root (glob), or empty for none (also when pib_initramfs).
    std::string initramfs = "/boot/initrd.img-*";
    /// `initramfs: pib`: pibuild builds the netboot initramfs (pib-init, the
    /// fleet's public key, the kernel modules it needs) instead.
    bool pib_initramfs = false;
    /// `initramfs: pib`: pib-update.timer runs on every node (docs/boot.md "On-node agent").
    bool auto_reboot = false;
    /// Extra kernel modules (names) for the pib initramfs, loaded before the defaults.
    std::vector<std::string> modules;
    /// Device trees inside the root (globs); each must match at least one file.
    std::vector<std::string> dtbs;
    std::optional<Firmware> firmware;
    std::vector<std::string> config_txt;  ///< config.txt fragments (Raspberry Pi boards)
    std::string cmdline;                  ///< kernel command line template
    bool operator==(const Boot&) const = default;
};

// ---- output -------------------------------------------------------------

struct Output {
    int zstd_level = 15;                 ///< 1..22
    std::uint32_t block_size = 131072;   ///< power of two, 4 KiB .. 1 MiB
    bool operator==(const Output&) const = default;
};

// ---- the recipe ---------------------------------------------------------

struct Recipe {
    std::filesystem::path file;          ///< the recipe file as given
    std::string digest;                  ///< sha256 of the recipe file's bytes
    std::string name;
    std::string version;
    std::string description;
    Arch arch = Arch::amd64;
    Board board = Board::pc;
    std::optional<std::int64_t> source_date_epoch;
    Base base;
    std::vector<Step> steps;
    Boot boot;
    Output output;
    bool operator==(const Recipe&) const = default;
};

/// Options for parsing that do not come from the recipe file.
struct RecipeContext {
    /// Used for `${VAR}` expansion in host paths; defaults to the process environment.
    std::map<std::string, std::string> env;
    bool use_process_env = true;
    /// Check that local files and directories named by the recipe exist.
    bool check_files = true;
};

/// Parses and validates a recipe. On failure every problem found is returned,
/// each as `file:line:col: message`, and nothing has been built.
Result<Recipe> load_recipe(const std::filesystem::path& file, Diagnostics& diags,
                           const RecipeContext& ctx = {});

/// Same, from text in memory (`file` is only used in messages and for relative paths).
Result<Recipe> parse_recipe(std::string_view text, const std::filesystem::path& file,
                            Diagnostics& diags, const RecipeContext& ctx = {});

/// The key reference of docs/recipe.md (Markdown), rendered from the same key
/// tables the parser uses, so the docs cannot drift from what is accepted.
std::string recipe_reference_markdown();

struct MapDoc;  // config/yaml_reader.hpp
/// Those tables in the order of a recipe (top level, base, steps, boot,
/// output), for the reference above and pibuild-recipe(5).
std::vector<MapDoc> recipe_reference_maps();

}  // namespace pib
