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
  // Host buffer layout (rule P10): where src and dst sit and how much of dst_bytes the plugin
  // may write (SIZE_MAX: all of it). See with_layout().
  size_t src_offset = SIZE_MAX;  // SIZE_MAX: src ends at a guard page; else starts this far
                                 // after one
  size_t dst_offset = 0;         // bytes past a 64-byte boundary (a multiple of the element)
  size_t dst_writable = SIZE_MAX;
};

// Host layouts the value checks cycle through; layout 0 is the plain one (source ending at a
// guard page, 64-byte aligned destination of exactly the output size).
inline constexpr int kLayoutCount = 4;
// Applies layout `index` (mod kLayoutCount) to a valid call: the other layouts start the
// source right after a guard page (at offset 0, then at odd offsets), misalign the
// destination down to its element size and give it room past the outputs that must stay
// untouched. Returns the layout in words ("src at +1 after a guard, dst at +12, 61 spare
// bytes").
std::string with_layout(Call &call, int index);

struct CallResult {
  int32_t status = -1;
  std::vector<uint8_t> out;    // destination bytes after the call
  bool dst_untouched = true;   // destination still holds its canary fill
  std::string canary_error;    // guard bytes changed around the destination
  std::string message;         // last_error() after the call ("<NULL>" if it returned NULL)
  std::string setup_error;     // the suite could not prepare or read back device buffers
  std::string source_error;    // the source bytes changed (they are read-only to the plugin)
  std::string fp_error;        // the call changed the floating-point control state
};

// A call with a valid source of `src` bytes and a destination sized for n_elements outputs.
Call valid_call(int32_t src_type, int32_t dst_type, int64_t n_elements,
                std::vector<uint8_t> src);

CallResult call_dequantize(const dq_plugin_api &api, const Call &call);

// "DQ_ERR_SIZE (4)".
std::string status_text(int32_t status);

}  // namespace dq::conformance
