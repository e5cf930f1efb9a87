// Environment variables of the registry (the table in docs/ARCHITECTURE.md).
#include "registry/settings.hpp"

#include <sys/auxv.h>

#include <cctype>
#include <cstdlib>

namespace dq::core {
namespace {

std::string env_or_empty(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string trim(const std::string &s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Shift for a K/M/G suffix (binary units), -1 when the suffix is not one.
int suffix_shift(std::string suffix) {
  for (auto &c : suffix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (suffix.empty() || suffix == "b") return 0;
  if (suffix == "k" || suffix == "kib" || suffix == "kb") return 10;
  if (suffix == "m" || suffix == "mib" || suffix == "mb") return 20;
  if (suffix == "g" || suffix == "gib" || suffix == "gb") return 30;
  return -1;
}

void read_gpu_min_bytes(Settings &s) {
  const std::string text = env_or_empty("DQ_GPU_MIN_BYTES");
  if (text.empty()) return;
  uint64_t bytes = 0;
  if (!parse_byte_count(text, &bytes)) {
    s.gpu_min_bytes_error = text;
    s.warnings.push_back("DQ_GPU_MIN_BYTES='" + text +
                         "' is not a byte count (digits with an optional K/M/G suffix, or off); "
                         "using the defaults (off for host->host calls, 256 KiB for loads)");
    return;
  }
  s.gpu_min_bytes = bytes;
  s.gpu_min_bytes_from_env = true;
}

void read_backend(Settings &s) {
  s.backend_env = trim(env_or_empty("DQ_BACKEND"));
  s.backend_order = split_list(s.backend_env, ',');
  if (!s.backend_env.empty() && s.backend_order.empty())
    s.warnings.push_back("DQ_BACKEND='" + s.backend_env +
                         "' names no backend; using the automatic order");
  for (const auto &name : s.backend_order)
    if (!is_backend_name(name))
      s.warnings.push_back("DQ_BACKEND='" + s.backend_env + "': '" + name +
                           "' is not a backend name (use a name, or names separated by ',')");
}

void read_log_level(Settings &s) {
  const std::string text = trim(env_or_empty("DQ_LOG"));
  if (!parse_log_level(text, &s.log_level))
    s.warnings.push_back("DQ_LOG='" + text +
                         "' is not a level (debug, info, warn, error, off); logging stays off");
}

}  // namespace

std::vector<std::string> split_list(const std::string &text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string::npos) end = text.size();
    std::string part = trim(text.substr(start, end - start));
    if (!part.empty()) parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

bool is_backend_name(const std::string &name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

bool parse_byte_count(const std::string &text, uint64_t *out) {
  const std::string t = trim(text);
  if (t == "off" || t == "never") {
    *out = kGpuNever;
    return true;
  }
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  if (digits == 0 || digits > 19) return false;
  const int shift = suffix_shift(trim(t.substr(digits)));
  if (shift < 0) return false;
  const uint64_t value = std::strtoull(t.substr(0, digits).c_str(), nullptr, 10);
  if (shift > 0 && value > (UINT64_MAX >> shift)) return false;
  *out = value << shift;
  return true;
}

Settings settings_from_environment() {
  Settings s;
  // Path variables are not honoured for setuid/setgid programs (AT_SECURE), as ld.so does.
  const std::string path = env_or_empty("DQ_PLUGIN_PATH");
  if (getauxval(AT_SECURE) != 0)
    s.plugin_path_ignored = !path.empty();
  else
    s.plugin_path = split_list(path, ':');
  read_backend(s);
  read_gpu_min_bytes(s);
  read_log_level(s);
  return s;
}

}  // namespace dq::core
