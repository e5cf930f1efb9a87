// The plugin's dequantize entry: validation, host staging, launch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dq/dq_plugin.h"

namespace dq::cuda {

// 1 when src_type -> dst_type has a kernel.
int32_t supports(int32_t src_type, int32_t dst_type);

// Device source and destination: queued on the stream, returns before the work finishes.
// A host source or destination is staged through device buffers in chunks; then the call
// waits for the work before returning.
int32_t dequantize(const dq_plugin_dequantize_args *args);

// Every element validated first (a refusal queues nothing); device-memory tensors then go out
// in one launch per (device, stream, type, output) group, capture-safe like dequantize; host
// ones through the staged path. args steps by args[0].struct_size.
int32_t dequantize_batch(const dq_plugin_dequantize_args *args, size_t n);

}  // namespace dq::cuda
