// Device copies of the lookup grids and value tables (from dq_common/grids.hpp, never
// duplicated).
#pragma once

#include "gpu_runtime.hpp"

#include <cstdint>

namespace dq::gpu {

// Device address of the table ggml type `type` decodes through (in the calling thread's
// current device): the i-quant grids, or 16 floats for IQ4_NL/IQ4_XS/MXFP4/NVFP4; null for
// a type without one. Errors come back in *err.
const uint8_t *iq_grid_device(int32_t type, Error *err);

}  // namespace dq::gpu
