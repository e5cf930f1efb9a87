// Device copies of the i-quant lookup grids (from dq_common/grids.hpp, never duplicated).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace dq::cuda {

// Device address of the lookup grid ggml type `type` decodes through (in the calling
// thread's current device), or null for a type without one. Errors come back in *err.
const uint8_t *iq_grid_device(int32_t type, cudaError_t *err);

}  // namespace dq::cuda
