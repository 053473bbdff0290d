// libFuzzer target for the recipe parser (builder/recipe*.cpp, STYLE.md rules 3
// and 7). Any text must come back as a validated Recipe or as Errc::invalid
// with at least one `file:line:col` diagnostic inside the text; an accepted
// recipe must hold the promises of docs/recipe.md, and parsing it again must
// give the same value.
//
// Parsing only: no stage runs, so no step's script is ever executed. The
// context checks no files (check_files = false) and sees a fixed environment
// instead of the process's, and the recipe's name is absolute so that not
// even getcwd() is asked: the parser touches nothing outside the process.
// Seed corpus: fuzz/corpus/recipe (recipes/*.yaml and small recipes of
// docs/recipe.md).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "builder/recipe.hpp"
#include "diag_check.hpp"

using namespace pib;

namespace {

using pib::fuzz::check;

constexpr const char* kFile = "/fuzz/recipe.yaml";

RecipeContext context() {
    RecipeContext ctx;
    ctx.env = {{"PIBUILD_RPI_FIRMWARE", "/opt/rpi-firmware"}, {"HOME", "/root"}};
    ctx.use_process_env = false;
    ctx.check_files = false;
    return ctx;
}

void check_source(const Source& s) {
    check(!s.location.empty());
    check(s.is_url() || s.location.front() == '/');  // host paths are made absolute
    if (s.sha256) check(s.sha256->size() == 64);
}

void check_step(const Step& step) {
    std::visit(
        [](const auto& s) {
            using T = std::decay_t<decltype(s)>;
            if constexpr (std::is_same_v<T, CopyStep>) {
                check_source(s.src);
                check(!s.dest.empty() && s.dest.front() == '/');
            } else if constexpr (std::is_same_v<T, WriteStep>) {
                check(!s.path.empty() && s.path.front() == '/');
            } else if constexpr (std::is_same_v<T, UserStep> || std::is_same_v<T, GroupStep>) {
                check(!s.name.empty());
            }
        },
        step.kind);
}

void check_recipe(const Recipe& r) {
    check(!r.name.empty() && !r.version.empty());
    check(r.digest.size() == 64);
    std::visit(
        [](const auto& b) {
            using T = std::decay_t<decltype(b)>;
            if constexpr (!std::is_same_v<T, DebianBase>) check_source(b.source);
        },
        r.base);
    for (const Step& s : r.steps) check_step(s);
    check(r.output.zstd_level >= 1 && r.output.zstd_level <= 22);
    const std::uint32_t bs = r.output.block_size;
    check(bs >= 4096 && bs <= 1048576 && (bs & (bs - 1)) == 0);
    if (r.board == Board::rpi4) check(r.boot.firmware.has_value());
    if (r.boot.firmware && r.boot.firmware->dir) check_source(*r.boot.firmware->dir);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const RecipeContext ctx = context();
    Diagnostics diags;
    auto r = parse_recipe(text, kFile, diags, ctx);
    if (!pib::fuzz::check_outcome(r, diags, text, kFile)) return 0;
    check_recipe(*r);
    // Parsing is a pure function of the text and the context.
    Diagnostics again_diags;
    auto again = parse_recipe(text, kFile, again_diags, ctx);
    check(again && *again == *r && again_diags.empty());
    return 0;
}
