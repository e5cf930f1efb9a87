// Batch kernels (batch_kernel.cuh) for the formats of kernels_kquants.cu.
#include "decode_kquants.cuh"
#include "decode_ternary.cuh"
#include "batch_kernel.cuh"

namespace dq::gpu {

Error launch_batch_kquants(int32_t type, int32_t out, const BatchTensor *tensors, size_t count,
                           const LaunchEnv &env) {
  switch (type) {
    case 10: return launch_batch_format_auto<FmtQ2_K>(out, tensors, count, env);
    case 11: return launch_batch_format_auto<FmtQ3_K>(out, tensors, count, env);
    case 12: return launch_batch_format_auto<FmtQ4_K>(out, tensors, count, env);
    case 13: return launch_batch_format_auto<FmtQ5_K>(out, tensors, count, env);
    case 14: return launch_batch_format_auto<FmtQ6_K>(out, tensors, count, env);
    case 15: return launch_batch_format_auto<FmtQ8_K>(out, tensors, count, env);
    case 34: return launch_batch_format_auto<FmtTQ1_0>(out, tensors, count, env);
    case 35: return launch_batch_format_auto<FmtTQ2_0>(out, tensors, count, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
