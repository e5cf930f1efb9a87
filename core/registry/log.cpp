// Logger: level parsing and the single-write stderr sink.
#include "registry/log.hpp"

#include <strings.h>
#include <unistd.h>

#include <string>

namespace dq::core {

bool parse_log_level(std::string_view text, LogLevel *out) {
  const std::string s(text);
  auto is = [&](const char *name) { return strcasecmp(s.c_str(), name) == 0; };
  *out = LogLevel::off;
  if (is("debug")) *out = LogLevel::debug;
  else if (is("info")) *out = LogLevel::info;
  else if (is("warn") || is("warning")) *out = LogLevel::warn;
  else if (is("error")) *out = LogLevel::error;
  else return s.empty() || is("off") || is("none");
  return true;
}

LogLevel parse_log_level(std::string_view text) {
  LogLevel level = LogLevel::off;
  parse_log_level(text, &level);
  return level;
}

void write_stderr_line(std::string_view message) {
  std::string line = "dq: ";
  line.append(message);
  line.push_back('\n');
  // One write(2): stdio buffering could split or reorder lines of concurrent threads.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void Logger::write(LogLevel level, std::string_view message) const {
  if (enabled(level)) write_stderr_line(message);
}

}  // namespace dq::core
