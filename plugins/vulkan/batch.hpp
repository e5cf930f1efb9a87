// dequantize_batch (plugin ABI 1.2) of the vulkan plugin: every request is checked before any
// work; the device-memory requests of each stream are recorded into one command buffer (one
// submission per stream instead of one per tensor) through dequantize() itself, with the
// stream in batch mode (streams.hpp); host-memory requests then run one at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dq/dq_plugin.h"

namespace dq::vulkan {

int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n);

}  // namespace dq::vulkan
