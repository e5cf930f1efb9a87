// Turning a plugin's int32_t result into a dq_status with the plugin's own message.
#pragma once

#include "context.hpp"
#include "registry/backend.hpp"

namespace dq::core {

// DQ_OK stays DQ_OK; a failure records "backend '<name>' <what>: <plugin last_error>" on ctx.
// Values outside dq_status become DQ_ERR_BACKEND.
dq_status plugin_call(const dq_context *ctx, const Backend &backend, const char *what, int32_t rc);

}  // namespace dq::core
