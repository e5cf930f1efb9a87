// The dq_plugin_dequantize_args of one plugin dequantize call, as every caller builds it (the
// loader, `dq bench`, the plugin tests): one copy of the field list, so a field added to the
// ABI is filled in one place. Header-only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "dq/dq_plugin.h"

namespace dq {

// n_elements of src (src_type) into dst (dst_type) on device 0 and the plugin's own stream;
// on_host: both buffers are host memory, else both device memory. The caller sets any field
// that differs (device, stream).
inline dq_plugin_dequantize_args make_dequantize_args(int32_t src_type, int32_t dst_type,
                                                      const void *src, size_t src_bytes,
                                                      int64_t n_elements, void *dst,
                                                      size_t dst_bytes, bool on_host) {
  dq_plugin_dequantize_args a{};
  a.struct_size = sizeof a;
  a.src_type = src_type;
  a.dst_type = dst_type;
  a.src = src;
  a.src_bytes = src_bytes;
  a.n_elements = n_elements;
  a.dst = dst;
  a.dst_bytes = dst_bytes;
  a.device = 0;
  a.src_on_host = on_host ? 1 : 0;
  a.dst_on_host = on_host ? 1 : 0;
  return a;
}

}  // namespace dq
