// Kernels for the 32/64/128-element formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4,
// NVFP4, Q1_0, Q2_0.
#include "decode_legacy.cuh"
#include "tile_kernel.cuh"

namespace dq::gpu {

Error launch_legacy(int32_t type, int32_t out, const void *src, void *dst, int64_t n_blocks,
                          const LaunchEnv &env) {
  switch (type) {
    case 2: return launch_format_auto<FmtQ4_0>(out, src, dst, n_blocks, env);
    case 3: return launch_format_auto<FmtQ4_1>(out, src, dst, n_blocks, env);
    case 6: return launch_format_auto<FmtQ5_0>(out, src, dst, n_blocks, env);
    case 7: return launch_format_auto<FmtQ5_1>(out, src, dst, n_blocks, env);
    case 8: return launch_format_auto<FmtQ8_0>(out, src, dst, n_blocks, env);
    case 20: return launch_format_auto<FmtIQ4_NL>(out, src, dst, n_blocks, env);
    case 39: return launch_format_auto<FmtMXFP4>(out, src, dst, n_blocks, env);
    case 40: return launch_format_auto<FmtNVFP4>(out, src, dst, n_blocks, env);
    case 41: return launch_format_auto<FmtQ1_0>(out, src, dst, n_blocks, env);
    case 42: return launch_format_auto<FmtQ2_0>(out, src, dst, n_blocks, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
