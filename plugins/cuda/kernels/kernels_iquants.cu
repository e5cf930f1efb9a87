// Kernels for the grid-based i-quants (IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
// IQ3_S) and IQ4_XS.
#include "decode_iquants.cuh"
#include "iq_tables.cuh"
#include "tile_kernel.cuh"

namespace dq::cuda {
namespace {

template <typename Fmt>
cudaError_t launch_with_grid(int32_t out, const void *src, void *dst, int64_t n_blocks,
                             const LaunchEnv &env) {
  const uint8_t *grid = nullptr;
  if constexpr (Fmt::kTableBytes > 0) {
    cudaError_t e = cudaSuccess;
    grid = iq_grid_device(Fmt::kType, &e);
    if (e != cudaSuccess) return e;
  }
  return launch_format<Fmt>(out, src, dst, n_blocks, grid, env);
}

}  // namespace

cudaError_t launch_iquants(int32_t type, int32_t out, const void *src, void *dst, int64_t n_blocks,
                           const LaunchEnv &env) {
  switch (type) {
    case 16: return launch_with_grid<FmtIQ2_XXS>(out, src, dst, n_blocks, env);
    case 17: return launch_with_grid<FmtIQ2_XS>(out, src, dst, n_blocks, env);
    case 18: return launch_with_grid<FmtIQ3_XXS>(out, src, dst, n_blocks, env);
    case 19: return launch_with_grid<FmtIQ1_S>(out, src, dst, n_blocks, env);
    case 21: return launch_with_grid<FmtIQ3_S>(out, src, dst, n_blocks, env);
    case 22: return launch_with_grid<FmtIQ2_S>(out, src, dst, n_blocks, env);
    case 23: return launch_with_grid<FmtIQ4_XS>(out, src, dst, n_blocks, env);
    case 29: return launch_with_grid<FmtIQ1_M>(out, src, dst, n_blocks, env);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace dq::cuda
