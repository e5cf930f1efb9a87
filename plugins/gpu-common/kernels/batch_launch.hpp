// Host-side entry points of the batch kernels: many tensors of one (type, output) pair in one
// launch over their concatenated tiles (one block per tile in CUDA builds, a persistent grid
// in HIP builds: batch_kernel.cuh). Asynchronous on env.stream; no allocation, no
// synchronization (legal during stream capture).
#pragma once

#include <cstddef>
#include <cstdint>

#include "launch.hpp"

namespace dq::gpu {

// One tensor of a batch: device source and destination, n_elements a block multiple.
struct BatchTensor {
  const void *src;
  void *dst;
  int64_t n_elements;
};

// Tensors one launch takes: their descriptors travel by value as the kernel parameter
// (kMaxBatchTensors * 32 bytes, inside the 4 KiB parameter limit); more take more launches.
inline constexpr int kMaxBatchTensors = 64;

// Per family (type must belong to it); count >= 1.
Error launch_batch_legacy(int32_t type, int32_t out_type, const BatchTensor *tensors,
                                size_t count, const LaunchEnv &env);
Error launch_batch_kquants(int32_t type, int32_t out_type, const BatchTensor *tensors,
                                 size_t count, const LaunchEnv &env);
Error launch_batch_iquants(int32_t type, int32_t out_type, const BatchTensor *tensors,
                                 size_t count, const LaunchEnv &env);

// All `count` tensors of type -> out_type: one launch per kMaxBatchTensors for block formats
// (a single tensor takes the ordinary kernel), one per tensor for F32/F16/BF16 sources.
Error launch_dequantize_batch(int32_t type, int32_t out_type, const BatchTensor *tensors,
                                    size_t count, const LaunchEnv &env);

}  // namespace dq::gpu
