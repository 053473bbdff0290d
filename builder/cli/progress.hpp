// How a build looks to a person: on a terminal one status line redrawn in
// place (stage, files, bytes, rate, ETA); elsewhere plain log lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "builder/build.hpp"

namespace pib::cli {

class ProgressView final : public BuildObserver {
public:
    /// `tty`: redraw a status line on `out`; otherwise print one line per stage.
    ProgressView(std::FILE* out, bool tty, bool verbose);
    ~ProgressView() override;

    void stage_started(const std::string& stage, int index, int count) override;
    void stage_finished(const std::string& stage, std::chrono::milliseconds elapsed) override;
    void squashfs_progress(const SquashfsProgress& p) override;
    void tool_output(const std::string& line) override;

    /// Clears the status line before something else is printed.
    void clear();

private:
    void draw(const std::string& detail);

    std::FILE* out_;
    bool tty_;
    bool verbose_;
    std::string stage_;
    int index_ = 0, count_ = 0;
    std::chrono::steady_clock::time_point stage_start_;
    std::chrono::steady_clock::time_point last_draw_;
    bool line_dirty_ = false;
};

/// "1.5 GiB", "312.0 MiB", "17 B".
std::string human_bytes(double bytes);
/// "1:02:03" or "2:03".
std::string human_duration(double seconds);

}  // namespace pib::cli
