// Structured event logging: `subsystem event key=value ...` (STYLE.md rule 14).
// Libraries receive a Logger; they never print.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace pib {

enum class Level { debug, info, warn, error };

/// One log event under construction: LogEvent(log, Level::info, "build", "stage_done").kv("ms", 12);
/// The line is emitted when the event is destroyed.
class Logger;
class LogEvent {
public:
    LogEvent(const Logger& log, Level level, std::string_view subsystem, std::string_view event);
    ~LogEvent();
    LogEvent(const LogEvent&) = delete;
    LogEvent& operator=(const LogEvent&) = delete;

    LogEvent& kv(std::string_view key, std::string_view value);
    LogEvent& kv(std::string_view key, const std::string& value) { return kv(key, std::string_view(value)); }
    LogEvent& kv(std::string_view key, const char* value) { return kv(key, std::string_view(value)); }
    LogEvent& kv(std::string_view key, std::int64_t value);
    LogEvent& kv(std::string_view key, std::uint64_t value);
    LogEvent& kv(std::string_view key, int value) { return kv(key, static_cast<std::int64_t>(value)); }
    LogEvent& kv(std::string_view key, unsigned value) { return kv(key, static_cast<std::uint64_t>(value)); }
    LogEvent& kv(std::string_view key, double value);

private:
    const Logger& log_;
    Level level_;
    std::string line_;
};

/// Where log lines go. The default discards everything (handy in tests).
class Logger {
public:
    using Sink = std::function<void(Level, const std::string&)>;
    Logger() = default;
    explicit Logger(Sink sink, Level min_level = Level::info) : sink_(std::move(sink)), min_(min_level) {}

    LogEvent event(Level level, std::string_view subsystem, std::string_view event) const {
        return LogEvent(*this, level, subsystem, event);
    }
    bool enabled(Level level) const { return sink_ && level >= min_; }
    void emit(Level level, const std::string& line) const {
        if (enabled(level)) sink_(level, line);
    }

private:
    Sink sink_;
    Level min_ = Level::info;
};

/// Name of a level as printed at the start of a line.
const char* level_name(Level level);

/// The syslog priority prefix journald reads at the start of a line on a
/// stream it owns (sd-daemon(3)): "<3>" error, "<4>" warning, "<6>" info, "<7>" debug.
const char* syslog_prefix(Level level);

/// True when `journal_stream` (the value of $JOURNAL_STREAM, "DEV:INODE" in
/// decimal, set by systemd for a service whose stdout/stderr is the journal)
/// names the file with device `dev` and inode `ino` (systemd.exec(5)).
bool journal_stream_matches(const char* journal_stream, std::uint64_t dev, std::uint64_t ino);

/// True when file descriptor `fd` is the journal stream $JOURNAL_STREAM names:
/// its fstat(2) device and inode match. A redirected or inherited stderr
/// (`netbootd 2>log` under a shell started by a unit) does not match.
bool fd_is_journal_stream(int fd);

/// One line as written to a log stream: "LEVEL line", behind the syslog
/// prefix when `journal` is true (so `journalctl -p err` selects errors).
std::string format_log_line(Level level, const std::string& line, bool journal);

}  // namespace pib
