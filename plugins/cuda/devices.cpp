#include "devices.hpp"

#include <map>
#include <mutex>
#include <vector>

#include "dq/dq.h"
#include "status.hpp"

#ifndef DQ_CUDA_ARCHS
#define DQ_CUDA_ARCHS "unknown"
#endif

namespace dq::cuda {
namespace {

struct Device {
  int sm_count = 1;
  cudaStream_t own_stream = nullptr;
  std::map<void *, size_t> allocations;
  uint64_t live_bytes = 0;
};

struct State {
  std::mutex mutex;
  bool probed = false;
  std::vector<Device> devices;
  std::string no_device_reason;
  std::string description;
};

State &state() {
  static State s;
  return s;
}

std::string version_text(int v) {
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

}  // namespace

void devices_init() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.probed) return;
  s.probed = true;
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  s.description = "CUDA runtime " + version_text(runtime) +
                  (driver ? ", driver " + version_text(driver) : std::string(", no driver")) +
                  ", kernels for " DQ_CUDA_ARCHS;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    s.no_device_reason = std::string("no CUDA device: cudaGetDeviceCount: ") + cudaGetErrorString(e);
    return;
  }
  if (count <= 0) {
    s.no_device_reason = "no CUDA device: no CUDA-capable device is detected";
    return;
  }
  s.devices.resize(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, i) == cudaSuccess && sms > 0)
      s.devices[static_cast<size_t>(i)].sm_count = sms;
  }
  (void)cudaGetLastError();
}

void devices_shutdown() {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  for (size_t i = 0; i < s.devices.size(); ++i) {
    Device &d = s.devices[i];
    if (!d.own_stream && d.allocations.empty()) continue;
    if (cudaSetDevice(static_cast<int>(i)) != cudaSuccess) continue;
    if (d.own_stream) {
      cudaStreamSynchronize(d.own_stream);
      cudaStreamDestroy(d.own_stream);
      d.own_stream = nullptr;
    }
    for (auto &[ptr, bytes] : d.allocations) cudaFree(ptr);
    d.allocations.clear();
    d.live_bytes = 0;
  }
  (void)cudaGetLastError();
}

int32_t device_count() { return static_cast<int32_t>(state().devices.size()); }

const char *no_device_reason() { return state().no_device_reason.c_str(); }

const std::string &runtime_description() { return state().description; }

int sm_count(int32_t device) { return state().devices[static_cast<size_t>(device)].sm_count; }

int32_t select_device(int32_t device, const char *what) {
  const int32_t n = device_count();
  if (n == 0) return fail(DQ_ERR_NO_DEVICE, std::string(what) + ": " + no_device_reason());
  if (device < 0 || device >= n)
    return fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": device " + std::to_string(device) +
                                             " does not exist (cuda has " + std::to_string(n) +
                                             (n == 1 ? " device)" : " devices)"));
  const cudaError_t e = cudaSetDevice(device);
  if (e != cudaSuccess) return fail_cuda(e, std::string(what) + ": cudaSetDevice");
  return DQ_OK;
}

int32_t resolve_stream(int32_t device, void *stream, cudaStream_t *out) {
  if (stream) {
    *out = static_cast<cudaStream_t>(stream);
    return DQ_OK;
  }
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Device &d = s.devices[static_cast<size_t>(device)];
  if (!d.own_stream) {
    const cudaError_t e = cudaStreamCreateWithFlags(&d.own_stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
      d.own_stream = nullptr;
      return fail_cuda(e, "cudaStreamCreateWithFlags");
    }
  }
  *out = d.own_stream;
  return DQ_OK;
}

void track_alloc(int32_t device, void *ptr, size_t bytes) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Device &d = s.devices[static_cast<size_t>(device)];
  d.allocations[ptr] = bytes;
  d.live_bytes += bytes;
}

bool untrack_alloc(int32_t device, void *ptr) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Device &d = s.devices[static_cast<size_t>(device)];
  auto it = d.allocations.find(ptr);
  if (it == d.allocations.end()) return false;
  d.live_bytes -= it->second;
  d.allocations.erase(it);
  return true;
}

void alloc_stats(int32_t device, uint64_t *allocations, uint64_t *bytes) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  const Device &d = s.devices[static_cast<size_t>(device)];
  if (allocations) *allocations = d.allocations.size();
  if (bytes) *bytes = d.live_bytes;
}

}  // namespace dq::cuda
