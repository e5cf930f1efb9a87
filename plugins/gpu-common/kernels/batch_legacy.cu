// Batch kernels (batch_kernel.cuh) for the formats of kernels_legacy.cu.
#include "decode_legacy.cuh"
#include "batch_kernel.cuh"

namespace dq::gpu {

Error launch_batch_legacy(int32_t type, int32_t out, const BatchTensor *tensors, size_t count,
                          const LaunchEnv &env) {
  switch (type) {
    case 2: return launch_batch_format_auto<FmtQ4_0>(out, tensors, count, env);
    case 3: return launch_batch_format_auto<FmtQ4_1>(out, tensors, count, env);
    case 6: return launch_batch_format_auto<FmtQ5_0>(out, tensors, count, env);
    case 7: return launch_batch_format_auto<FmtQ5_1>(out, tensors, count, env);
    case 8: return launch_batch_format_auto<FmtQ8_0>(out, tensors, count, env);
    case 20: return launch_batch_format_auto<FmtIQ4_NL>(out, tensors, count, env);
    case 39: return launch_batch_format_auto<FmtMXFP4>(out, tensors, count, env);
    case 40: return launch_batch_format_auto<FmtNVFP4>(out, tensors, count, env);
    case 41: return launch_batch_format_auto<FmtQ1_0>(out, tensors, count, env);
    case 42: return launch_batch_format_auto<FmtQ2_0>(out, tensors, count, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
