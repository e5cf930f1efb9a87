// Logger: level parsing and the single-write stderr sink.
#include "registry/log.hpp"

#include <strings.h>
#include <unistd.h>

#include <string>

namespace dq::core {

LogLevel parse_log_level(std::string_view text) {
  const std::string s(text);
  if (strcasecmp(s.c_str(), "debug") == 0) return LogLevel::debug;
  if (strcasecmp(s.c_str(), "info") == 0) return LogLevel::info;
  if (strcasecmp(s.c_str(), "warn") == 0 || strcasecmp(s.c_str(), "warning") == 0)
    return LogLevel::warn;
  if (strcasecmp(s.c_str(), "error") == 0) return LogLevel::error;
  return LogLevel::off;
}

void Logger::write(LogLevel level, std::string_view message) const {
  if (!enabled(level)) return;
  std::string line = "dq: ";
  line.append(message);
  line.push_back('\n');
  // One write(2): stdio buffering could split or reorder lines of concurrent threads.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace dq::core
