// Plugin result mapping (see plugin_call.hpp).
#include "plugin_call.hpp"

#include <string>

namespace dq::core {

dq_status plugin_call(const dq_context *ctx, const Backend &backend, const char *what, int32_t rc) {
  if (rc == DQ_OK) return DQ_OK;
  const bool known = rc > DQ_OK && rc <= DQ_ERR_INTERNAL;
  const dq_status status = known ? static_cast<dq_status>(rc) : DQ_ERR_BACKEND;
  std::string msg = "backend '" + backend.name + "' " + what + ": ";
  const std::string detail = backend.plugin_error();
  msg += detail.empty() ? dq_status_string(status) : detail;
  if (!known) msg += " (plugin returned status " + std::to_string(rc) + ")";
  return set_error(ctx, status, msg);
}

}  // namespace dq::core
