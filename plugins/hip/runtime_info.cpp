// Part of libdq_hip_device.so (the half of the HIP plugin that links the HIP runtime): the
// runtime's own words for the loader half (loader.cpp), which names the backend "hip" and
// reports these instead of the shared glue's CUDA wording.
#include <hip/hip_runtime_api.h>

#include <mutex>
#include <string>

#include "dq/dq_plugin.h"

#ifndef DQ_HIP_ARCHS
#define DQ_HIP_ARCHS "unknown"
#endif

namespace {

struct RuntimeInfo {
  std::string description;
  std::string no_device_reason;  // empty when there is a device
};

// HIP encodes versions as major * 10000000 + minor * 100000 + patch.
std::string version_text(int v) {
  return std::to_string(v / 10000000) + "." + std::to_string((v / 100000) % 100) + "." +
         std::to_string(v % 100000);
}

const RuntimeInfo &info() {
  static RuntimeInfo r;
  static std::once_flag once;
  std::call_once(once, [] {
    int runtime = 0, driver = 0;
    (void)hipRuntimeGetVersion(&runtime);
    (void)hipDriverGetVersion(&driver);
    r.description = "HIP runtime " + version_text(runtime) +
                    (driver ? ", driver " + version_text(driver) : std::string(", no driver")) +
                    ", kernels for " DQ_HIP_ARCHS;
    int count = 0;
    const hipError_t e = hipGetDeviceCount(&count);
    if (e != hipSuccess) {
      // ROCm 5.2's error "string" is often just the name: say it once.
      const std::string text = hipGetErrorString(e), name = hipGetErrorName(e);
      r.no_device_reason = "no HIP device: hipGetDeviceCount: " + text + (text == name ? "" : " (" + name + ")");
    }
    else if (count <= 0)
      r.no_device_reason = "no HIP device: hipGetDeviceCount found 0 devices";
    (void)hipGetLastError();
  });
  return r;
}

}  // namespace

extern "C" DQ_PLUGIN_EXPORT const char *dq_hip_runtime_description() { return info().description.c_str(); }
extern "C" DQ_PLUGIN_EXPORT const char *dq_hip_no_device_reason() { return info().no_device_reason.c_str(); }
