// Host-side entry points of the kernels: one launcher per format family plus the dispatcher
// the plugin calls. All launches are asynchronous on env.stream; errors are the runtime's codes
// (CUDA or HIP, gpu_runtime.hpp).
#pragma once

#include "gpu_runtime.hpp"

#include <cstdint>

namespace dq::gpu {

struct LaunchEnv {
  int sm_count = 1;              // multiprocessors of the current device
  Stream stream = nullptr;
  // Tuning knobs (environment, read once; see dequantize.cpp): evict-first output stores,
  // and a cap on the persistent grid's blocks per multiprocessor (HIP builds; 0: as many as
  // fit; -1: the measured default, tile_kernel.cuh's tile_grid).
  bool streaming_stores = true;
  int blocks_per_sm_cap = -1;
};

// Block formats, by family (each in its own translation unit). `type` must belong to the
// family; n_blocks > 0.
Error launch_legacy(int32_t type, int32_t out_type, const void *src, void *dst,
                          int64_t n_blocks, const LaunchEnv &env);
Error launch_kquants(int32_t type, int32_t out_type, const void *src, void *dst,
                           int64_t n_blocks, const LaunchEnv &env);
Error launch_iquants(int32_t type, int32_t out_type, const void *src, void *dst,
                           int64_t n_blocks, const LaunchEnv &env);
// F32, F16, BF16 sources (one element per block).
Error launch_elements(int32_t type, int32_t out_type, const void *src, void *dst,
                            int64_t n_elements, const LaunchEnv &env);

// True when `type` -> `out_type` has a kernel (out_type: 0 f32, 1 f16, 30 bf16).
bool kernel_available(int32_t type, int32_t out_type);

// Dequantizes n_elements (a multiple of the type's block) from device `src` into device
// `dst`. Validation of sizes and pointers is the caller's job.
Error launch_dequantize(int32_t type, int32_t out_type, const void *src, void *dst,
                              int64_t n_elements, const LaunchEnv &env);

}  // namespace dq::gpu

// The plugin glue (plugins/cuda, namespace dq::cuda, also compiled for the HIP plugin) names
// the kernels' entry points as it did before they moved here from plugins/cuda/kernels.
namespace dq::cuda {
using namespace dq::gpu;
}  // namespace dq::cuda
