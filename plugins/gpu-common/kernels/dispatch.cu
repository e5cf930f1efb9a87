// Routes a (type, output) pair to its family's launcher.
#include "batch_launch.hpp"
#include "formats.cuh"
#include "launch.hpp"

namespace dq::gpu {

namespace {
enum class Family { kNone, kElements, kLegacy, kKQuants, kIQuants };

Family family_of(int32_t type) {
  switch (type) {
    case 0: case 1: case 30: return Family::kElements;
    case 2: case 3: case 6: case 7: case 8: case 20: case 39: case 40: case 41: case 42:
      return Family::kLegacy;
    case 10: case 11: case 12: case 13: case 14: case 15: case 34: case 35:
      return Family::kKQuants;
    case 16: case 17: case 18: case 19: case 21: case 22: case 23: case 29:
      return Family::kIQuants;
    default: return Family::kNone;
  }
}

int block_elements(int32_t type) {
  int be = 1;
  visit_block_format(type, [&](auto fmt) { be = decltype(fmt)::kBlockElems; });
  return be;
}
}  // namespace

bool kernel_available(int32_t type, int32_t out_type) {
  return family_of(type) != Family::kNone && (out_type == 0 || out_type == 1 || out_type == 30);
}

Error launch_dequantize(int32_t type, int32_t out, const void *src, void *dst,
                              int64_t n_elements, const LaunchEnv &env) {
  const int64_t n_blocks = n_elements / block_elements(type);
  switch (family_of(type)) {
    case Family::kElements: return launch_elements(type, out, src, dst, n_elements, env);
    case Family::kLegacy: return launch_legacy(type, out, src, dst, n_blocks, env);
    case Family::kKQuants: return launch_kquants(type, out, src, dst, n_blocks, env);
    case Family::kIQuants: return launch_iquants(type, out, src, dst, n_blocks, env);
    default: return kErrorInvalidValue;
  }
}

Error launch_dequantize_batch(int32_t type, int32_t out, const BatchTensor *tensors, size_t count,
                              const LaunchEnv &env) {
  const Family f = family_of(type);
  // A lone tensor, and the element formats (a copy-like kernel per tensor), take the
  // ordinary launch: the batch kernel only pays off over several tiled tensors.
  if (count == 1 || f == Family::kElements) {
    for (size_t i = 0; i < count; ++i)
      if (const Error e = launch_dequantize(type, out, tensors[i].src, tensors[i].dst, tensors[i].n_elements, env);
          e != kSuccess)
        return e;
    return kSuccess;
  }
  switch (f) {
    case Family::kLegacy: return launch_batch_legacy(type, out, tensors, count, env);
    case Family::kKQuants: return launch_batch_kquants(type, out, tensors, count, env);
    case Family::kIQuants: return launch_batch_iquants(type, out, tensors, count, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
