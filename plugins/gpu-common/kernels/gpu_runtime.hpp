// Host-side portability for the shared kernels: the runtime API names the launchers use,
// mapped to CUDA or, with DQ_GPU_HIP defined, to HIP. Kernel launches use the <<<...>>>
// syntax, which nvcc and hipcc both accept. Host C++ files (the plugins' glue, compiled by
// the ordinary C++ compiler) may include this too.
#pragma once

#include <cstddef>

#if defined(DQ_GPU_HIP)
#include <hip/hip_runtime_api.h>
#else
#include <cuda_runtime.h>
#endif

namespace dq::gpu {

#if defined(DQ_GPU_HIP)
using Error = hipError_t;
using Stream = hipStream_t;
inline constexpr Error kSuccess = hipSuccess;
inline constexpr Error kErrorInvalidValue = hipErrorInvalidValue;
inline Error last_error() { return hipGetLastError(); }
inline Error copy_device_to_device_async(void *dst, const void *src, size_t bytes, Stream s) {
  return hipMemcpyAsync(dst, src, bytes, hipMemcpyDeviceToDevice, s);
}
#else
using Error = cudaError_t;
using Stream = cudaStream_t;
inline constexpr Error kSuccess = cudaSuccess;
inline constexpr Error kErrorInvalidValue = cudaErrorInvalidValue;
inline Error last_error() { return cudaGetLastError(); }
inline Error copy_device_to_device_async(void *dst, const void *src, size_t bytes, Stream s) {
  return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, s);
}
#endif

#if defined(__CUDACC__) || defined(__HIPCC__)
// Prepares `kernel` for `smem_bytes` of dynamic shared memory and returns how many blocks
// of `threads` fit on one multiprocessor (compute unit) in *blocks.
template <typename Kernel>
Error max_blocks_per_multiprocessor(Kernel kernel, int threads, int smem_bytes, int *blocks) {
#if defined(__HIPCC__)
  // AMD needs no opt-in above 48 KiB of dynamic shared memory and has no carveout: a block
  // may use the whole 64 KiB of LDS as is (nothing to set, so nothing that could fail).
  return hipOccupancyMaxActiveBlocksPerMultiprocessor(blocks, kernel, threads, smem_bytes);
#else
  // Shared memory is the kernels' working space (tiles, tables); L1 barely matters.
  Error e = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout,
                                 cudaSharedmemCarveoutMaxShared);
  if (e != cudaSuccess) return e;
  e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes);
  if (e != cudaSuccess) return e;
  return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks, kernel, threads, smem_bytes);
#endif
}

// Device address of a __device__ variable (in the current device).
template <typename Symbol>
Error symbol_address(void **ptr, const Symbol &symbol) {
#if defined(__HIPCC__)
  return hipGetSymbolAddress(ptr, HIP_SYMBOL(symbol));
#else
  return cudaGetSymbolAddress(ptr, symbol);
#endif
}
#endif  // a GPU compiler

}  // namespace dq::gpu
