// supports() and dequantize() of the vulkan plugin: argument checks (the same order and
// messages as the other backends), then chunks of the host source staged through the
// device context's mapped buffers, one dispatch per chunk.
#pragma once

#include <cstdint>

#include "dq/dq_plugin.h"

namespace dq::vulkan {

int32_t supports(int32_t src_type, int32_t dst_type);
int32_t dequantize(const dq_plugin_dequantize_args *args);

}  // namespace dq::vulkan
