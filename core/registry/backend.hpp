// One plugin the registry found: what it is, whether it loaded, and its function table.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"
#include "registry/internal_api.hpp"

namespace dq::core {

enum class BackendState {
  loaded,   // handshake and init() succeeded
  refused,  // table unusable: ABI major differs, table too small, name mismatch...
  failed,   // could not be opened, no entry symbol, or init() failed
  skipped,  // a plugin of the same name was found earlier in the search
};

DQ_INTERNAL_API const char *backend_state_name(BackendState state);

struct DQ_INTERNAL_API Backend {
  std::string name;         // from the file name libdq-<name>.so
  std::string path;         // file opened (or skipped)
  std::string description;  // plugin's describe(), "" when none
  std::string version;      // plugin's own version string
  uint32_t abi_major = 0;   // as the plugin reported (0 when unread)
  uint32_t abi_minor = 0;
  BackendState state = BackendState::failed;
  dq_status load_status = DQ_ERR_NO_BACKEND;  // status for calls that need it when not loaded
  std::string status;  // why it is not loaded, or why it has no device; "" when fine
  const dq_plugin_api *api = nullptr;  // non-null only when loaded
  int32_t device_count = 0;
  std::vector<std::string> device_names;  // read once at load; memory figures are live
  bool has_device_memory = false;         // memory of its own (a GPU): transfers cost PCIe time
  std::string library_key;                // process-wide handle it holds (plugin_library.cpp)

  bool loaded() const { return state == BackendState::loaded; }
  bool has_device() const { return loaded() && device_count > 0; }
  bool supports(int32_t src_type, int32_t dst_type) const;
  // The plugin's last_error() text, never null.
  const char *plugin_error() const;
};

}  // namespace dq::core
