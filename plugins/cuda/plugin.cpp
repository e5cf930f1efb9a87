// The cuda plugin's ABI table: devices, memory, streams and events over the CUDA runtime
// (linked statically, so the plugin loads on machines without libcudart; without a driver
// or GPU it loads and reports zero devices with the reason).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq_plugin.h"
#include "dq_common/plugin_glue.hpp"
#include "status.hpp"

namespace dq::cuda {
namespace {

// The ABI entries, named as the fields of dq_plugin_api (dq_common/plugin_glue.hpp); the
// rest live beside the devices and the kernels.
struct CudaEntries {
  static constexpr auto device_count = cuda::device_count;
  static constexpr auto no_device_reason = cuda::no_device_reason;
  static constexpr auto supports = cuda::supports;
  static constexpr auto dequantize = cuda::dequantize;
  static constexpr auto dequantize_batch = cuda::dequantize_batch;
  static constexpr auto last_error = plugin_error::last_error;

  static const char *describe() { return runtime_description().c_str(); }

  static int32_t init() {
    devices_init();
    return ok();
  }

  static void shutdown() { devices_shutdown(); }

  static int32_t device_props(int32_t device, dq_plugin_device_props *out) {
    if (!out || out->struct_size < sizeof(dq_plugin_device_props))
      return fail(DQ_ERR_INVALID_ARGUMENT, "device_props: null or too small struct");
    if (int32_t st = select_device(device, "device_props"); st != DQ_OK) return st;
    cudaDeviceProp p{};
    cudaError_t e = cudaGetDeviceProperties(&p, device);
    if (e != cudaSuccess) return fail_cuda(e, "cudaGetDeviceProperties");
    size_t free_b = 0, total_b = 0;
    e = cudaMemGetInfo(&free_b, &total_b);
    if (e != cudaSuccess) return fail_cuda(e, "cudaMemGetInfo");
    const std::string name = std::string(p.name) + " (sm_" + std::to_string(p.major) +
                             std::to_string(p.minor) + ", " +
                             std::to_string(p.multiProcessorCount) + " SMs)";
    const size_t len = std::min(name.size(), sizeof out->name - 1);  // truncate, keep the NUL
    std::memcpy(out->name, name.data(), len);
    out->name[len] = '\0';
    out->total_memory = total_b;
    out->free_memory = free_b;
    out->is_gpu = 1;
    out->reserved = 0;
    return ok();
  }

  static int32_t mem_alloc(int32_t device, size_t bytes, void **out) {
    if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_alloc: null output pointer");
    *out = nullptr;
    if (bytes == 0) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_alloc: zero bytes");
    if (int32_t st = select_device(device, "mem_alloc"); st != DQ_OK) return st;
    void *p = nullptr;
    const cudaError_t e = cudaMalloc(&p, bytes);
    if (e != cudaSuccess) return fail_cuda(e, "cudaMalloc(" + std::to_string(bytes) + " bytes)");
    track_alloc(device, p, bytes);
    *out = p;
    return ok();
  }

  static int32_t mem_free(int32_t device, void *ptr) {
    if (!ptr) return ok();
    if (int32_t st = select_device(device, "mem_free"); st != DQ_OK) return st;
    if (!untrack_alloc(device, ptr))
      return fail(
          DQ_ERR_INVALID_ARGUMENT,
          "mem_free: pointer was not allocated by mem_alloc on device " + std::to_string(device));
    const cudaError_t e = cudaFree(ptr);
    if (e != cudaSuccess) return fail_cuda(e, "cudaFree");
    return ok();
  }

  // With a null stream the copy runs on the device's own stream and waits, so it is ordered
  // after work queued there (a non-blocking stream does not order with the legacy stream).
  static int32_t mem_copy(int32_t device, void *dst, const void *src, size_t bytes, int32_t kind,
                          void *stream) {
    cudaMemcpyKind k;
    switch (kind) {
      // clang-format off
      case DQ_COPY_HOST_TO_DEVICE: k = cudaMemcpyHostToDevice; break;
      case DQ_COPY_DEVICE_TO_HOST: k = cudaMemcpyDeviceToHost; break;
      case DQ_COPY_DEVICE_TO_DEVICE: k = cudaMemcpyDeviceToDevice; break;
      // clang-format on
      default:
        return fail(DQ_ERR_INVALID_ARGUMENT, "mem_copy: unknown copy kind " + std::to_string(kind));
    }
    if (bytes == 0) return ok();
    if (!dst || !src) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_copy: null pointer");
    if (int32_t st = select_device(device, "mem_copy"); st != DQ_OK) return st;
    cudaStream_t s = nullptr;
    if (int32_t st = resolve_stream(device, stream, &s); st != DQ_OK) return st;
    cudaError_t e = cudaMemcpyAsync(dst, src, bytes, k, s);
    if (e != cudaSuccess)
      return fail_cuda(e, "cudaMemcpyAsync(" + std::to_string(bytes) + " bytes)");
    if (!stream) {
      e = cudaStreamSynchronize(s);
      if (e != cudaSuccess) return fail_cuda(e, "mem_copy: waiting for the copy");
    }
    return ok();
  }

  static int32_t mem_in_use(int32_t device, uint64_t *allocations, uint64_t *bytes) {
    if (device < 0 || device >= device_count())
      return fail(DQ_ERR_INVALID_ARGUMENT,
                  "mem_in_use: device " + std::to_string(device) + " does not exist");
    alloc_stats(device, allocations, bytes);
    return ok();
  }

  static int32_t synchronize(int32_t device, void *stream) {
    if (int32_t st = select_device(device, "synchronize"); st != DQ_OK) return st;
    cudaStream_t s = nullptr;
    if (int32_t st = resolve_stream(device, stream, &s); st != DQ_OK) return st;
    const cudaError_t e = cudaStreamSynchronize(s);
    if (e != cudaSuccess) return fail_cuda(e, "cudaStreamSynchronize");
    return ok();
  }

  static int32_t host_alloc_pinned(size_t bytes, void **out) {
    if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "host_alloc_pinned: null output pointer");
    *out = nullptr;
    if (device_count() == 0)
      return fail(DQ_ERR_NO_DEVICE, std::string("host_alloc_pinned: ") + no_device_reason());
    const cudaError_t e = cudaHostAlloc(out, bytes, cudaHostAllocPortable);
    if (e != cudaSuccess) return fail_cuda(e, "cudaHostAlloc(" + std::to_string(bytes) + " bytes)");
    return ok();
  }

  static int32_t host_free_pinned(void *ptr) {
    if (!ptr) return ok();
    const cudaError_t e = cudaFreeHost(ptr);
    if (e != cudaSuccess) return fail_cuda(e, "cudaFreeHost");
    return ok();
  }

  // Pins pages the caller already owns (a model's file mapping) for direct uploads.
  static int32_t host_register(void *ptr, size_t bytes, uint32_t flags, void **handle) {
    if (!handle) return fail(DQ_ERR_INVALID_ARGUMENT, "host_register: null handle pointer");
    *handle = nullptr;
    if (!ptr || bytes == 0) return fail(DQ_ERR_INVALID_ARGUMENT, "host_register: empty range");
    if (device_count() == 0)
      return fail(DQ_ERR_NO_DEVICE, std::string("host_register: ") + no_device_reason());
    unsigned cuda_flags = cudaHostRegisterPortable;
    if (flags & DQ_HOST_REGISTER_READ_ONLY) cuda_flags |= cudaHostRegisterReadOnly;
    const cudaError_t e = cudaHostRegister(ptr, bytes, cuda_flags);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // not sticky: leave no error for the next call to find
      return fail_cuda(e, "cudaHostRegister(" + std::to_string(bytes) + " bytes)");
    }
    *handle = ptr;
    return ok();
  }

  static int32_t host_unregister(void *handle) {
    if (!handle) return ok();
    const cudaError_t e = cudaHostUnregister(handle);
    if (e != cudaSuccess) return fail_cuda(e, "cudaHostUnregister");
    return ok();
  }

  static int32_t stream_create(int32_t device, void **out) {
    if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "stream_create: null output pointer");
    if (int32_t st = select_device(device, "stream_create"); st != DQ_OK) return st;
    cudaStream_t s = nullptr;
    const cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking);
    if (e != cudaSuccess) return fail_cuda(e, "cudaStreamCreateWithFlags");
    *out = s;
    return ok();
  }

  static int32_t stream_destroy(int32_t device, void *stream) {
    if (!stream) return ok();
    if (int32_t st = select_device(device, "stream_destroy"); st != DQ_OK) return st;
    const cudaError_t e = cudaStreamDestroy(static_cast<cudaStream_t>(stream));
    if (e != cudaSuccess) return fail_cuda(e, "cudaStreamDestroy");
    return ok();
  }

  static int32_t event_create(int32_t device, void **out) {
    if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "event_create: null output pointer");
    if (int32_t st = select_device(device, "event_create"); st != DQ_OK) return st;
    cudaEvent_t ev = nullptr;
    const cudaError_t e = cudaEventCreate(&ev);
    if (e != cudaSuccess) return fail_cuda(e, "cudaEventCreate");
    *out = ev;
    return ok();
  }

  static int32_t event_destroy(int32_t device, void *event) {
    if (!event) return ok();
    if (int32_t st = select_device(device, "event_destroy"); st != DQ_OK) return st;
    const cudaError_t e = cudaEventDestroy(static_cast<cudaEvent_t>(event));
    if (e != cudaSuccess) return fail_cuda(e, "cudaEventDestroy");
    return ok();
  }

  static int32_t event_record(int32_t device, void *event, void *stream) {
    if (!event) return fail(DQ_ERR_INVALID_ARGUMENT, "event_record: null event");
    if (int32_t st = select_device(device, "event_record"); st != DQ_OK) return st;
    cudaStream_t s = nullptr;
    if (int32_t st = resolve_stream(device, stream, &s); st != DQ_OK) return st;
    const cudaError_t e = cudaEventRecord(static_cast<cudaEvent_t>(event), s);
    if (e != cudaSuccess) return fail_cuda(e, "cudaEventRecord");
    return ok();
  }

  static int32_t event_synchronize(int32_t device, void *event) {
    if (!event) return fail(DQ_ERR_INVALID_ARGUMENT, "event_synchronize: null event");
    if (int32_t st = select_device(device, "event_synchronize"); st != DQ_OK) return st;
    const cudaError_t e = cudaEventSynchronize(static_cast<cudaEvent_t>(event));
    if (e != cudaSuccess) return fail_cuda(e, "cudaEventSynchronize");
    return ok();
  }

  static int32_t stream_wait_event(int32_t device, void *stream, void *event) {
    if (!event) return fail(DQ_ERR_INVALID_ARGUMENT, "stream_wait_event: null event");
    if (int32_t st = select_device(device, "stream_wait_event"); st != DQ_OK) return st;
    cudaStream_t s = nullptr;
    if (int32_t st = resolve_stream(device, stream, &s); st != DQ_OK) return st;
    const cudaError_t e = cudaStreamWaitEvent(s, static_cast<cudaEvent_t>(event), 0);
    if (e != cudaSuccess) return fail_cuda(e, "cudaStreamWaitEvent");
    return ok();
  }

  static int32_t event_elapsed_ms(int32_t device, void *start, void *end, float *ms) {
    if (!start || !end || !ms)
      return fail(DQ_ERR_INVALID_ARGUMENT, "event_elapsed_ms: null argument");
    if (int32_t st = select_device(device, "event_elapsed_ms"); st != DQ_OK) return st;
    const cudaError_t e =
        cudaEventElapsedTime(ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end));
    if (e != cudaSuccess) return fail_cuda(e, "cudaEventElapsedTime");
    return ok();
  }
};

const dq_plugin_api kApi = plugin_glue::make_api<CudaEntries>("cuda", "0.1.0");

}  // namespace
}  // namespace dq::cuda

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                                 uint32_t /*host_abi_minor*/) {
  return dq::plugin_glue::entry(dq::cuda::kApi, host_abi_major);
}
