// Kernels for the grid-based i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
// IQ3_S) and IQ4_XS.
#include "decode_iquants.cuh"
#include "tile_kernel.cuh"

namespace dq::gpu {

Error launch_iquants(int32_t type, int32_t out, const void *src, void *dst, int64_t n_blocks,
                           const LaunchEnv &env) {
  switch (type) {
    case 16: return launch_format_auto<FmtIQ2_XXS>(out, src, dst, n_blocks, env);
    case 17: return launch_format_auto<FmtIQ2_XS>(out, src, dst, n_blocks, env);
    case 18: return launch_format_auto<FmtIQ3_XXS>(out, src, dst, n_blocks, env);
    case 19: return launch_format_auto<FmtIQ1_S>(out, src, dst, n_blocks, env);
    case 21: return launch_format_auto<FmtIQ3_S>(out, src, dst, n_blocks, env);
    case 22: return launch_format_auto<FmtIQ2_S>(out, src, dst, n_blocks, env);
    case 23: return launch_format_auto<FmtIQ4_XS>(out, src, dst, n_blocks, env);
    case 29: return launch_format_auto<FmtIQ1_M>(out, src, dst, n_blocks, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
