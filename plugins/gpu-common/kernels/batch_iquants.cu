// Batch kernels (batch_kernel.cuh) for the formats of kernels_iquants.cu.
#include "decode_iquants.cuh"
#include "batch_kernel.cuh"

namespace dq::gpu {

Error launch_batch_iquants(int32_t type, int32_t out, const BatchTensor *tensors, size_t count,
                           const LaunchEnv &env) {
  switch (type) {
    case 16: return launch_batch_format_auto<FmtIQ2_XXS>(out, tensors, count, env);
    case 17: return launch_batch_format_auto<FmtIQ2_XS>(out, tensors, count, env);
    case 18: return launch_batch_format_auto<FmtIQ3_XXS>(out, tensors, count, env);
    case 19: return launch_batch_format_auto<FmtIQ1_S>(out, tensors, count, env);
    case 21: return launch_batch_format_auto<FmtIQ3_S>(out, tensors, count, env);
    case 22: return launch_batch_format_auto<FmtIQ2_S>(out, tensors, count, env);
    case 23: return launch_batch_format_auto<FmtIQ4_XS>(out, tensors, count, env);
    case 29: return launch_batch_format_auto<FmtIQ1_M>(out, tensors, count, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
