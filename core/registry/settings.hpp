// Everything the registry reads from the environment, gathered once when a context first
// needs its plugins. Kept apart from the registry so tests can build Settings by hand.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "registry/internal_api.hpp"
#include "registry/log.hpp"

namespace dq::core {

// DQ_GPU_MIN_BYTES value meaning "never send host->host work to a GPU".
inline constexpr uint64_t kGpuNever = UINT64_MAX;

// Host->host requests smaller than this prefer non-GPU backends. Default: never, because on
// the measured H100 host the CPU plugin beat the CUDA round trip through pageable memory at
// every size from 4 KiB to 256 MiB (docs/ARCHITECTURE.md, "The GPU threshold").
inline constexpr uint64_t kDefaultGpuMinBytes = kGpuNever;

struct Settings {
  std::vector<std::string> plugin_path;    // DQ_PLUGIN_PATH folders (empty when setuid)
  bool plugin_path_ignored = false;        // DQ_PLUGIN_PATH set but ignored (AT_SECURE)
  std::vector<std::string> backend_order;  // DQ_BACKEND split at ','; empty: automatic
  std::string backend_env;                 // DQ_BACKEND as given, for messages
  uint64_t gpu_min_bytes = kDefaultGpuMinBytes;
  bool gpu_min_bytes_from_env = false;
  std::string gpu_min_bytes_error;  // DQ_GPU_MIN_BYTES that did not parse
  LogLevel log_level = LogLevel::off;
  // One line per value that could not be used ("DQ_LOG='loud' is not a level ..."). The
  // registry prints them whatever DQ_LOG says: a setting silently ignored looks like a bug.
  std::vector<std::string> warnings;
};

// Reads DQ_PLUGIN_PATH, DQ_BACKEND, DQ_GPU_MIN_BYTES and DQ_LOG; values that do not parse
// keep their default and add a line to `warnings`.
DQ_INTERNAL_API Settings settings_from_environment();

// Splits "a:b::c" at `sep`, dropping empty parts and trimming blanks.
DQ_INTERNAL_API std::vector<std::string> split_list(const std::string &text, char sep);

// True when `name` can be a plugin name in DQ_BACKEND (letters, digits, '_', '-', '.').
DQ_INTERNAL_API bool is_backend_name(const std::string &name);

// "67108864", "64M", "64MiB", "1g" -> bytes; "off"/"never" -> kGpuNever; false otherwise.
DQ_INTERNAL_API bool parse_byte_count(const std::string &text, uint64_t *out);

}  // namespace dq::core
