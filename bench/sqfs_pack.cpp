// sqfs-pack SRC OUT [--workers N] [--level L] [--block-size B] [--backlog N]
//                   [--clamp EPOCH] [--no-export] [--progress]
// Packs SRC into OUT with write_squashfs() and prints one summary line.
// Only argument parsing and printing live here (STYLE.md rule 11).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

#include "squashfs/writer.hpp"

namespace {

int usage() {
    std::fputs(
        "usage: sqfs-pack SRC OUT [--workers N] [--level L] [--block-size B] [--backlog N]\n"
        "                 [--clamp EPOCH] [--no-export] [--progress]\n",
        stderr);
    return 2;
}

bool number(const char* text, long long& out) {
    char* end = nullptr;
    out = std::strtoll(text, &end, 10);
    return end && *end == '\0' && end != text;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) return usage();
    pib::SquashfsOptions opts;
    opts.mtime_clamp =
        static_cast<std::int64_t>(std::time(nullptr));  // like mksquashfs: now, unless --clamp
    bool show_progress = false;
    for (int i = 3; i < argc; ++i) {
        std::string a = argv[i];
        long long v = 0;
        auto value = [&]() { return i + 1 < argc && number(argv[++i], v); };
        if (a == "--workers" && value())
            opts.workers = static_cast<unsigned>(v);
        else if (a == "--level" && value())
            opts.zstd_level = static_cast<int>(v);
        else if (a == "--block-size" && value())
            opts.block_size = static_cast<std::uint32_t>(v);
        else if (a == "--backlog" && value())
            opts.max_backlog = static_cast<std::size_t>(v);
        else if (a == "--clamp" && value())
            opts.mtime_clamp = v;
        else if (a == "--no-export")
            opts.exportable = false;
        else if (a == "--progress")
            show_progress = true;
        else
            return usage();
    }
    pib::Logger log(
        [](pib::Level, const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); },
        pib::Level::info);
    pib::SquashfsProgressFn progress;
    if (show_progress) {
        progress = [](const pib::SquashfsProgress& p) {
            std::fprintf(stderr, "\rfiles %llu/%llu bytes %llu/%llu",
                         (unsigned long long)p.files_done, (unsigned long long)p.files_total,
                         (unsigned long long)p.bytes_done, (unsigned long long)p.bytes_total);
        };
    }
    auto r = pib::write_squashfs(argv[1], argv[2], opts, log, progress);
    if (show_progress) std::fputc('\n', stderr);
    if (!r) {
        std::fprintf(stderr, "sqfs-pack: %s\n", r.error().message.c_str());
        return 1;
    }
    for (const auto& w : r->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::printf(
        "inodes=%llu files=%llu dirs=%llu symlinks=%llu devices=%llu other=%llu hard_links=%llu "
        "bytes_in=%llu bytes_out=%llu\n",
        (unsigned long long)r->inodes, (unsigned long long)r->files,
        (unsigned long long)r->directories, (unsigned long long)r->symlinks,
        (unsigned long long)r->devices, (unsigned long long)r->other,
        (unsigned long long)r->hard_links, (unsigned long long)r->bytes_in,
        (unsigned long long)r->bytes_out);
    return 0;
}
