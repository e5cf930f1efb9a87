// Small queries on a Backend record.
#include "registry/backend.hpp"

namespace dq::core {

const char *backend_state_name(BackendState state) {
  switch (state) {
    case BackendState::loaded:
      return "loaded";
    case BackendState::refused:
      return "refused";
    case BackendState::failed:
      return "failed";
    case BackendState::skipped:
      return "skipped";
  }
  return "?";
}

bool Backend::supports(int32_t src_type, int32_t dst_type) const {
  return loaded() && api->supports(src_type, dst_type) == 1;
}

const char *Backend::plugin_error() const {
  const char *msg = (api && api->last_error) ? api->last_error() : nullptr;
  return msg ? msg : "";
}

}  // namespace dq::core
