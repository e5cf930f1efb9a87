// DQ_LOG: the registry's diagnostics on stderr (folders searched, files found, load results,
// per-tensor choices). Silent unless asked for: a library must not write to stderr by default.
#pragma once

#include <string_view>

#include "registry/internal_api.hpp"

namespace dq::core {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

// "debug", "info", "warn", "error", "off"/"none"/"" (case-insensitive); unknown text -> off.
DQ_INTERNAL_API LogLevel parse_log_level(std::string_view text);
// As above; false (and *out = off) for text that is not a level.
DQ_INTERNAL_API bool parse_log_level(std::string_view text, LogLevel *out);

// Writes "dq: <message>\n" to stderr whatever DQ_LOG says: for settings that cannot be used.
DQ_INTERNAL_API void write_stderr_line(std::string_view message);

class DQ_INTERNAL_API Logger {
 public:
  explicit Logger(LogLevel threshold = LogLevel::off) : threshold_(threshold) {}
  bool enabled(LogLevel level) const { return level >= threshold_ && threshold_ != LogLevel::off; }
  // Writes "dq: <message>\n" to stderr in one call, so lines from threads do not interleave.
  void write(LogLevel level, std::string_view message) const;
  void debug(std::string_view m) const { write(LogLevel::debug, m); }
  void info(std::string_view m) const { write(LogLevel::info, m); }
  void warn(std::string_view m) const { write(LogLevel::warn, m); }

 private:
  LogLevel threshold_;
};

}  // namespace dq::core
