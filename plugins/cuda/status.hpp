// The plugin's error reporting: a per-thread message for last_error() and the mapping from
// CUDA runtime errors to dq status codes.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <string>

namespace dq::cuda {

// Records `message` for the calling thread and returns `status`.
int32_t fail(int32_t status, std::string message);

// Records "<what>: <CUDA error text> (<CUDA error name>)", clears the runtime's last error
// (so a non-sticky failure does not leak into later calls), and returns the mapped status:
// out of memory, no device, invalid argument, or DQ_ERR_BACKEND for the rest.
int32_t fail_cuda(cudaError_t error, const std::string &what);

// Clears the calling thread's message and returns DQ_OK.
int32_t ok();

const char *last_error_text();

}  // namespace dq::cuda
