#include "common/log.hpp"

#include <sys/stat.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pib {

namespace {
// Values with spaces, quotes or '=' are quoted so that lines stay machine-splittable.
void append_value(std::string& line, std::string_view v) {
    bool plain = !v.empty();
    for (char c : v) {
        if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') {
            plain = false;
            break;
        }
    }
    if (plain) {
        line.append(v);
        return;
    }
    line += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') line += '\\';
        if (c == '\n') { line += "\\n"; continue; }
        line += c;
    }
    line += '"';
}
}  // namespace

LogEvent::LogEvent(const Logger& log, Level level, std::string_view subsystem,
                   std::string_view event)
    : log_(log), level_(level) {
    if (!log_.enabled(level_)) return;
    line_.reserve(128);
    line_.append(subsystem);
    line_ += ' ';
    line_.append(event);
}

LogEvent::~LogEvent() {
    if (log_.enabled(level_)) log_.emit(level_, line_);
}

LogEvent& LogEvent::kv(std::string_view key, std::string_view value) {
    if (!log_.enabled(level_)) return *this;
    line_ += ' ';
    line_.append(key);
    line_ += '=';
    append_value(line_, value);
    return *this;
}

LogEvent& LogEvent::kv(std::string_view key, std::int64_t value) {
    return kv(key, std::string_view(std::to_string(value)));
}

LogEvent& LogEvent::kv(std::string_view key, std::uint64_t value) {
    return kv(key, std::string_view(std::to_string(value)));
}

LogEvent& LogEvent::kv(std::string_view key, double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    return kv(key, std::string_view(buf));
}

const char* level_name(Level level) {
    switch (level) {
        case Level::debug: return "debug";
        case Level::info: return "info";
        case Level::warn: return "warn";
        case Level::error: return "error";
    }
    return "?";
}

const char* syslog_prefix(Level level) {
    switch (level) {
        case Level::debug: return "<7>";
        case Level::info: return "<6>";
        case Level::warn: return "<4>";
        case Level::error: return "<3>";
    }
    return "<6>";
}

bool journal_stream_matches(const char* journal_stream, std::uint64_t dev, std::uint64_t ino) {
    if (!journal_stream) return false;
    const char* end = journal_stream + std::strlen(journal_stream);
    std::uint64_t d = 0, i = 0;
    auto r1 = std::from_chars(journal_stream, end, d);
    if (r1.ec != std::errc() || r1.ptr == end || *r1.ptr != ':') return false;
    auto r2 = std::from_chars(r1.ptr + 1, end, i);
    if (r2.ec != std::errc() || r2.ptr != end || r2.ptr == r1.ptr + 1) return false;
    return d == dev && i == ino;
}

bool fd_is_journal_stream(int fd) {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env) return false;
    struct stat st{};
    if (fstat(fd, &st) != 0) return false;
    return journal_stream_matches(env, static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino));
}

std::string format_log_line(Level level, const std::string& line, bool journal) {
    std::string out;
    out.reserve(line.size() + 12);
    if (journal) out += syslog_prefix(level);
    out += level_name(level);
    out += ' ';
    out += line;
    out += '\n';
    return out;
}

}  // namespace pib
