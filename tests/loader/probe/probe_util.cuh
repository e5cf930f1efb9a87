// What every loader probe needs (probes are built by hand with nvcc, see each file's head):
// CK(cuda call) exits with the failed call and CUDA's message; steady-clock timing.
#pragma once

#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#define CK(x)                                                              \
  do {                                                                     \
    cudaError_t e_ = (x);                                                  \
    if (e_ != cudaSuccess) {                                               \
      std::fprintf(stderr, "probe: %s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

using Clock = std::chrono::steady_clock;

// Seconds and milliseconds since `t`.
static inline double since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}
static inline double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}
