// The plugin's error reporting: a per-thread message for last_error() and the mapping from
// CUDA runtime errors to dq status codes.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "dq_common/plugin_error.hpp"

namespace dq::cuda {

// fail(status, message) records the calling thread's message, ok() clears it (shared by
// every plugin: dq_common/plugin_error.hpp).
using dq::plugin_error::fail;
using dq::plugin_error::ok;

// Records "<what>: <CUDA error text> (<CUDA error name>)", clears the runtime's last error
// (so a non-sticky failure does not leak into later calls), and returns the mapped status:
// out of memory, no device, invalid argument, or DQ_ERR_BACKEND for the rest.
int32_t fail_cuda(cudaError_t error, const std::string &what);

}  // namespace dq::cuda
