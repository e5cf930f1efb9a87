// The plugin registry: finds libdq-<name>.so plugins, loads them, and chooses a backend per
// tensor. Internal C++ API for in-tree users (tools, loader, conformance); the public C API
// in dq.h is built on it. One Registry per dq_context, made on first use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dq/dq.h"
#include "registry/backend.hpp"
#include "registry/internal_api.hpp"
#include "registry/log.hpp"
#include "registry/plugin_search.hpp"
#include "registry/selection.hpp"
#include "registry/selection_cache.hpp"
#include "registry/settings.hpp"

namespace dq::core {

// What the registry needs to know of one dequantize call to choose its backend.
struct DequantizeTarget {
  int32_t src_type = 0;
  int32_t dst_type = 0;
  uint64_t src_bytes = 0;
  const char *forced = nullptr;          // request's own backend (NULL: none)
  const char *device_backend = nullptr;  // backend whose memory src or dst is in (NULL: host)
};

struct Choice {
  const Backend *backend = nullptr;  // null on failure
  dq_status status = DQ_OK;
  // The error message on failure; on success why chosen, or "" when the choice came from the
  // cache (the reason is only logged, and with DQ_LOG=debug the cache is not used).
  std::string reason;
};

class DQ_INTERNAL_API Registry {
 public:
  // Searches and loads at once. Plugins stay loaded until the registry is destroyed.
  explicit Registry(Settings settings);
  ~Registry();
  Registry(const Registry &) = delete;
  Registry &operator=(const Registry &) = delete;

  // Every plugin found, in search order, including refused, failed and skipped ones.
  const std::vector<Backend> &backends() const { return backends_; }
  // The backend of that name that loaded, else the first one tried (to report why it failed);
  // never a skipped duplicate. Null when absent.
  const Backend *find(std::string_view name) const;
  // Index of find(name) in backends(), or -1.
  int index_of(std::string_view name) const;

  const std::vector<SearchFolder> &searched() const { return folders_; }
  std::string searched_text() const;  // "a (DQ_PLUGIN_PATH), b (beside libdq-core)"
  const Settings &settings() const { return settings_; }
  const Logger &log() const { return log_; }

  // Chooses the backend for one call and logs the choice (DQ_LOG=debug). Thread-safe.
  Choice select(const DequantizeTarget &target) const;

 private:
  void discover();
  void add_plugin(const PluginFile &file);
  void warn_unknown_backend_names() const;
  SelectionPolicy policy() const;
  // The choice select() would make, from the cache and without building any text; null when
  // the full path must run (first call of a pair, a failure to report, DQ_LOG=debug).
  const Backend *quick_choice(const DequantizeTarget &target) const;
  bool supports_cached(size_t backend, int32_t src_type, int32_t dst_type) const;

  Settings settings_;
  Logger log_;
  std::vector<SearchFolder> folders_;
  std::vector<Backend> backends_;
  // Made once backends_ is complete; nothing in the registry changes after that.
  std::unique_ptr<SelectionCache> cache_;
};

}  // namespace dq::core
