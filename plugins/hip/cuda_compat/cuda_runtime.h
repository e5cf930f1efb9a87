// The CUDA runtime API, spelled over HIP, for the plugin glue the HIP plugin shares with the
// cuda plugin (plugins/cuda/{plugin,dequantize,devices,status}.cpp: devices, memory, streams,
// events, error mapping). This folder comes first on the HIP build's include path, so their
// `#include <cuda_runtime.h>` lands here and every cudaX below is hipX: the glue is compiled
// twice, never copied. Only what the glue uses is mapped; a new CUDA call in the glue fails
// the HIP build until it is added here (or given a HIP fallback, as the few below).
//
// ROCm 5.2 (Debian 12) differences handled here:
//   - hipPointerAttribute_t has memoryType/isManaged instead of CUDA's `type`, and plain host
//     memory is an error rather than cudaMemoryTypeUnregistered;
//   - no cudaHostRegisterReadOnly (the read-only hint is dropped: the pages are still pinned);
//   - no cudaErrorDevicesUnavailable (mapped to hipErrorNotInitialized, also "no device").
#pragma once

#ifndef __HIP_PLATFORM_AMD__
#define __HIP_PLATFORM_AMD__ 1
#endif
#include <hip/hip_runtime_api.h>

// Types.
#define cudaError_t hipError_t
#define cudaStream_t hipStream_t
#define cudaEvent_t hipEvent_t
#define cudaDeviceProp hipDeviceProp_t
#define cudaMemcpyKind hipMemcpyKind
#define cudaStreamCaptureMode hipStreamCaptureMode

// Error codes.
#define cudaSuccess hipSuccess
#define cudaErrorMemoryAllocation hipErrorOutOfMemory
#define cudaErrorNoDevice hipErrorNoDevice
#define cudaErrorInsufficientDriver hipErrorInsufficientDriver
#define cudaErrorInvalidDevice hipErrorInvalidDevice
#define cudaErrorDevicesUnavailable hipErrorNotInitialized
#define cudaErrorInvalidValue hipErrorInvalidValue
#define cudaErrorInvalidDevicePointer hipErrorInvalidDevicePointer
#define cudaErrorInvalidResourceHandle hipErrorInvalidResourceHandle
#define cudaErrorInvalidMemcpyDirection hipErrorInvalidMemcpyDirection

// Errors and versions.
#define cudaGetLastError hipGetLastError
#define cudaGetErrorString hipGetErrorString
#define cudaGetErrorName hipGetErrorName
#define cudaRuntimeGetVersion hipRuntimeGetVersion
#define cudaDriverGetVersion hipDriverGetVersion

// Devices.
#define cudaGetDeviceCount hipGetDeviceCount
#define cudaSetDevice hipSetDevice
#define cudaGetDevice hipGetDevice
#define cudaGetDeviceProperties hipGetDeviceProperties
#define cudaDeviceGetAttribute hipDeviceGetAttribute
#define cudaDevAttrMultiProcessorCount hipDeviceAttributeMultiprocessorCount
#define cudaMemGetInfo hipMemGetInfo

// Memory.
#define cudaMalloc hipMalloc
#define cudaFree hipFree
#define cudaMallocAsync hipMallocAsync
#define cudaFreeAsync hipFreeAsync
#define cudaMemcpyAsync hipMemcpyAsync
#define cudaMemcpyHostToDevice hipMemcpyHostToDevice
#define cudaMemcpyDeviceToHost hipMemcpyDeviceToHost
#define cudaMemcpyDeviceToDevice hipMemcpyDeviceToDevice
#define cudaHostAlloc hipHostMalloc
#define cudaHostAllocPortable hipHostMallocPortable
#define cudaFreeHost hipHostFree
#define cudaHostRegister hipHostRegister
#define cudaHostUnregister hipHostUnregister
#define cudaHostRegisterPortable hipHostRegisterPortable
#define cudaHostRegisterReadOnly 0u
#define cudaGetSymbolAddress hipGetSymbolAddress
#define cudaFuncSetAttribute hipFuncSetAttribute

// Streams and events.
#define cudaStreamCreateWithFlags hipStreamCreateWithFlags
#define cudaStreamNonBlocking hipStreamNonBlocking
#define cudaStreamDestroy hipStreamDestroy
#define cudaStreamSynchronize hipStreamSynchronize
#define cudaStreamWaitEvent hipStreamWaitEvent
#define cudaEventCreate hipEventCreate
#define cudaEventDestroy hipEventDestroy
#define cudaEventRecord hipEventRecord
#define cudaEventSynchronize hipEventSynchronize
#define cudaEventElapsedTime hipEventElapsedTime
#define cudaThreadExchangeStreamCaptureMode hipThreadExchangeStreamCaptureMode
#define cudaStreamCaptureModeRelaxed hipStreamCaptureModeRelaxed

// Pointer attributes with CUDA's shape (see the header comment).
enum cudaMemoryType {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
};

struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
  void *devicePointer;
  void *hostPointer;
};

inline hipError_t dq_hip_pointer_attributes(cudaPointerAttributes *out, const void *ptr) {
  hipPointerAttribute_t a{};
  const hipError_t e = hipPointerGetAttributes(&a, ptr);
  *out = cudaPointerAttributes{cudaMemoryTypeUnregistered, -1, nullptr, nullptr};
  if (e == hipErrorInvalidValue && ptr) {
    // Memory HIP does not know: plain host memory (CUDA reports it as unregistered).
    (void)hipGetLastError();
    return hipSuccess;
  }
  if (e != hipSuccess) return e;
  out->device = a.device;
  out->devicePointer = a.devicePointer;
  out->hostPointer = a.hostPointer;
  if (a.isManaged)
    out->type = cudaMemoryTypeManaged;
  else if (a.memoryType == hipMemoryTypeDevice)
    out->type = cudaMemoryTypeDevice;
  else if (a.memoryType == hipMemoryTypeHost)
    out->type = cudaMemoryTypeHost;
  return hipSuccess;
}
#define cudaPointerGetAttributes dq_hip_pointer_attributes
