// One dequantize call of the plugin under test, made with guarded buffers, reporting the
// status, the output and anything written where it should not be.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"

namespace dq::conformance {

enum class Memory { host, device };

struct Call {
  int32_t src_type = 0;
  int32_t dst_type = DQ_TYPE_F32;
  int64_t n_elements = 0;
  std::vector<uint8_t> src;  // bytes placed in the source buffer, which holds src_bytes
  size_t src_bytes = 0;      // passed to the plugin and the size of the source buffer
  size_t dst_bytes = 0;      // passed to the plugin and the size of the destination buffer
  bool null_src = false;
  bool null_dst = false;
  bool null_args = false;
  size_t struct_size = sizeof(dq_plugin_dequantize_args);
  int32_t device = 0;
  Memory memory = Memory::host;
  int32_t src_on_host = -1;  // -1: 1 for Memory::host, 0 for Memory::device
};

struct CallResult {
  int32_t status = -1;
  std::vector<uint8_t> out;    // destination bytes after the call
  bool dst_untouched = true;   // destination still holds its canary fill
  std::string canary_error;    // guard bytes changed around the destination
  std::string message;         // last_error() after the call ("<NULL>" if it returned NULL)
  std::string setup_error;     // the suite could not prepare or read back device buffers
};

// A call with a valid source of `src` bytes and a destination sized for n_elements outputs.
Call valid_call(int32_t src_type, int32_t dst_type, int64_t n_elements,
                std::vector<uint8_t> src);

CallResult call_dequantize(const dq_plugin_api &api, const Call &call);

// "DQ_ERR_SIZE (4)".
std::string status_text(int32_t status);

}  // namespace dq::conformance
