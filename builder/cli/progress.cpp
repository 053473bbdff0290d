#include "builder/cli/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>

namespace pib::cli {

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
    return buf;
}

std::string human_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    long t = std::lround(s);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
    return buf;
}

ProgressView::ProgressView(std::FILE* out, bool tty, bool verbose)
    : out_(out), tty_(tty), verbose_(verbose) {}

ProgressView::~ProgressView() { clear(); }

void ProgressView::clear() {
    if (tty_ && line_dirty_) {
        std::fputs("\r\x1b[K", out_);
        std::fflush(out_);
        line_dirty_ = false;
    }
}

void ProgressView::draw(const std::string& detail) {
    if (!tty_) return;
    winsize ws{};
    int width = (::ioctl(::fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col) ? ws.ws_col : 100;
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start_).count();
    char head[96];
    std::snprintf(head, sizeof head, "[%d/%d] %-15s %6s  ", index_, count_, stage_.c_str(),
                  human_duration(secs).c_str());
    std::string line = head + detail;
    if (static_cast<int>(line.size()) > width - 1) line.resize(static_cast<std::size_t>(width - 1));
    std::fprintf(out_, "\r\x1b[K%s", line.c_str());
    std::fflush(out_);
    line_dirty_ = true;
}

void ProgressView::stage_started(const std::string& stage, int index, int count) {
    stage_ = stage;
    index_ = index;
    count_ = count;
    stage_start_ = std::chrono::steady_clock::now();
    draw("");
}

void ProgressView::stage_finished(const std::string& stage, std::chrono::milliseconds elapsed) {
    if (!tty_) return;  // off a terminal the log's stage_done line says it
    clear();
    std::fprintf(out_, "[%d/%d] %-15s done in %s\n", index_, count_, stage.c_str(),
                 human_duration(static_cast<double>(elapsed.count()) / 1000.0).c_str());
    std::fflush(out_);
}

void ProgressView::squashfs_progress(const SquashfsProgress& p) {
    auto now = std::chrono::steady_clock::now();
    if (!tty_) return;
    if (now - last_draw_ < std::chrono::milliseconds(100) && p.bytes_done != p.bytes_total) return;
    last_draw_ = now;
    double secs = std::chrono::duration<double>(now - stage_start_).count();
    double rate = secs > 0 ? static_cast<double>(p.bytes_done) / secs : 0;
    double eta = rate > 0 ? static_cast<double>(p.bytes_total - p.bytes_done) / rate : NAN;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%llu/%llu files  %s/%s  %s/s  ETA %s",
                  static_cast<unsigned long long>(p.files_done),
                  static_cast<unsigned long long>(p.files_total),
                  human_bytes(static_cast<double>(p.bytes_done)).c_str(),
                  human_bytes(static_cast<double>(p.bytes_total)).c_str(), human_bytes(rate).c_str(),
                  human_duration(eta).c_str());
    draw(buf);
}

void ProgressView::tool_output(const std::string& line) {
    if (verbose_) {
        clear();
        std::fprintf(out_, "  | %s\n", line.c_str());
        std::fflush(out_);
        return;
    }
    // On a terminal the latest line of mmdebstrap/apt shows what is going on.
    auto now = std::chrono::steady_clock::now();
    if (tty_ && now - last_draw_ >= std::chrono::milliseconds(100)) {
        last_draw_ = now;
        draw(line);
    }
}

}  // namespace pib::cli
