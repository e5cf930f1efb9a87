// Kernels for the k-quants (Q2_K..Q8_K) and the ternary formats (TQ1_0, TQ2_0), all
// 256-element super-blocks.
#include "decode_kquants.cuh"
#include "decode_ternary.cuh"
#include "tile_kernel.cuh"

namespace dq::gpu {

Error launch_kquants(int32_t type, int32_t out, const void *src, void *dst, int64_t n_blocks,
                           const LaunchEnv &env) {
  switch (type) {
    case 10: return launch_format_auto<FmtQ2_K>(out, src, dst, n_blocks, env);
    case 11: return launch_format_auto<FmtQ3_K>(out, src, dst, n_blocks, env);
    case 12: return launch_format_auto<FmtQ4_K>(out, src, dst, n_blocks, env);
    case 13: return launch_format_auto<FmtQ5_K>(out, src, dst, n_blocks, env);
    case 14: return launch_format_auto<FmtQ6_K>(out, src, dst, n_blocks, env);
    case 15: return launch_format_auto<FmtQ8_K>(out, src, dst, n_blocks, env);
    case 34: return launch_format_auto<FmtTQ1_0>(out, src, dst, n_blocks, env);
    case 35: return launch_format_auto<FmtTQ2_0>(out, src, dst, n_blocks, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
