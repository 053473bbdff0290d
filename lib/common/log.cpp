#include "common/log.hpp"

#include <cstdio>

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

}  // namespace pib
