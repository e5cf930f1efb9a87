// Pieces dq_dequantize and dq_dequantize_batch share (defined in api_dequantize.cpp).
#pragma once

#include "context.hpp"
#include "dq/dq.h"
#include "dq/dq_plugin.h"
#include "registry/backend.hpp"

namespace dq::core {

// The plugin's view of a validated, widened request: device index and host flags derived from
// the locations.
dq_plugin_dequantize_args plugin_args(const dq_dequantize_request &r);

// Records `backend` as what dq_last_backend(ctx) reports on this thread.
void record_last_backend(const dq_context *ctx, const std::string &backend);

// True when the plugin's table reaches dequantize_batch (ABI 1.2) and sets it.
bool has_batch_entry(const dq_plugin_api &api);

}  // namespace dq::core
