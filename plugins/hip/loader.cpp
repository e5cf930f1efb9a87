// libdq-hip.so, the HIP plugin as the core sees it. It links no ROCm library, so it loads on
// every machine: init() opens the other half, hip/libdq_hip_device.so beside this file (the
// shared kernels and plugin glue, linked against libamdhip64), and every entry of the table
// forwards to that half's table. Without the ROCm runtime the open fails and the plugin
// reports zero devices with the loader's reason; with the runtime but no AMD GPU, zero devices
// with the HIP runtime's reason (hipGetDeviceCount's error). The device half is never closed:
// the HIP runtime's threads and its teardown at unload are not ours to cut short.
#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>

#include "dq/dq.h"
#include "dq/dq_plugin.h"
#include "dq_common/plugin_error.hpp"
#include "dq_common/plugin_glue.hpp"
#include "kernels/formats.cuh"

#ifndef DQ_HIP_ARCHS
#define DQ_HIP_ARCHS "unknown"
#endif

namespace dq::hip {
namespace {

constexpr const char *kDeviceLibrary = "hip/libdq_hip_device.so";

struct DeviceHalf {
  const dq_plugin_api *api = nullptr;
  const char *(*description)() = nullptr;
  const char *(*no_device_reason)() = nullptr;
};

std::mutex g_mutex;
DeviceHalf g_half;                             // written once, under g_mutex
std::atomic<const dq_plugin_api *> g_api{nullptr};  // published after g_half is complete
std::string g_reason = "no HIP device: init() was not called";

thread_local bool t_failed_here = false;  // the last failure is this file's, not the device half's

int32_t fail(int32_t status, std::string message) {
  t_failed_here = true;
  return plugin_error::fail(status, std::move(message));
}

// Folder of this library (the device half lives below it).
std::string own_folder() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<void *>(&own_folder), &info) || !info.dli_fname) return ".";
  const std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// The device half: beside this library, or DQ_HIP_DEVICE_LIBRARY (the tests point it at a
// missing file to see the machine without ROCm, whose libamdhip64 cannot be opened).
std::string device_library_path() {
  const char *env = std::getenv("DQ_HIP_DEVICE_LIBRARY");
  return env && *env ? std::string(env) : own_folder() + "/" + kDeviceLibrary;
}

// Opens the device half; on failure records why in g_reason and leaves g_api null.
int32_t open_device_half() {
  const std::string path = device_library_path();
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    g_reason = std::string("no HIP device: the HIP runtime could not be loaded (") + (why ? why : path) + ")";
    return DQ_OK;  // a machine without ROCm: zero devices, not an error
  }
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(handle, "dq_plugin_entry"));
  DeviceHalf half;
  half.description = reinterpret_cast<const char *(*)()>(dlsym(handle, "dq_hip_runtime_description"));
  half.no_device_reason = reinterpret_cast<const char *(*)()>(dlsym(handle, "dq_hip_no_device_reason"));
  half.api = entry ? entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR) : nullptr;
  if (!half.api || !half.description || !half.no_device_reason ||
      half.api->struct_size < offsetof(dq_plugin_api, host_register)) {
    g_reason = "no HIP device: " + path + " is not this plugin's device half (missing entry points)";
    return fail(DQ_ERR_BACKEND, g_reason);
  }
  const int32_t st = half.api->init();
  if (st != DQ_OK) {
    const char *m = half.api->last_error();
    return fail(st, std::string("hip: device half init: ") + (m ? m : "unknown error"));
  }
  g_half = half;
  g_api.store(half.api, std::memory_order_release);
  return DQ_OK;
}

const dq_plugin_api *device_api() { return g_api.load(std::memory_order_acquire); }

// Every other entry: forwarded when the device half is loaded and its table has the entry,
// else refused with the reason there is no device.
template <auto Field, size_t kOffset, typename Fn>
struct Forward;
template <auto Field, size_t kOffset, typename... Args>
struct Forward<Field, kOffset, int32_t (*)(Args...)> {
  static int32_t call(Args... args) {
    const dq_plugin_api *a = device_api();
    if (!a) return fail(DQ_ERR_NO_DEVICE, g_reason);
    if (a->struct_size < kOffset + sizeof(void *) || !(a->*Field))
      return fail(DQ_ERR_UNSUPPORTED, "hip: the device half has no such entry (older plugin ABI)");
    t_failed_here = false;
    return (a->*Field)(args...);
  }
};

// A release entry, its handle the last argument: releasing null succeeds with or without the
// device half, as in the cuda plugin; any other handle is forwarded.
template <auto Field, size_t kOffset, typename Fn>
struct ForwardRelease;
template <auto Field, size_t kOffset, typename... Args>
struct ForwardRelease<Field, kOffset, int32_t (*)(Args...)> {
  static int32_t call(Args... args) {
    if (std::get<sizeof...(Args) - 1>(std::tie(args...)) == nullptr) {
      t_failed_here = true;
      return plugin_error::ok();
    }
    return Forward<Field, kOffset, int32_t (*)(Args...)>::call(args...);
  }
};
#define DQ_HIP_RELEASE(name)                                          \
  ForwardRelease<&dq_plugin_api::name, offsetof(dq_plugin_api, name), \
                 decltype(dq_plugin_api::name)>::call

// The ABI entries, named as the fields of dq_plugin_api (dq_common/plugin_glue.hpp): these
// of the loader's own, the release entries, and every other one forwarded.
struct HipEntries {
  static int32_t init() {
    std::lock_guard<std::mutex> lock(g_mutex);
    t_failed_here = false;
    if (device_api()) return g_half.api->init();  // again after shutdown
    return open_device_half();
  }

  static void shutdown() {
    if (const dq_plugin_api *a = device_api()) a->shutdown();
  }

  static const char *describe() {
    if (device_api()) return g_half.description();
    return "HIP runtime not loaded, kernels for " DQ_HIP_ARCHS;
  }

  static int32_t device_count() {
    const dq_plugin_api *a = device_api();
    return a ? a->device_count() : 0;
  }

  static const char *no_device_reason() {
    const dq_plugin_api *a = device_api();
    if (!a) return g_reason.c_str();
    return a->device_count() > 0 ? "" : g_half.no_device_reason();
  }

  // Without the device half, the kernels it would have: the element formats and every block
  // format of the shared kernels (the rule of kernels/dispatch.cu), to f32, f16 or bf16.
  static int32_t supports(int32_t src_type, int32_t dst_type) {
    if (const dq_plugin_api *a = device_api()) return a->supports(src_type, dst_type);
    const bool element = src_type == 0 || src_type == 1 || src_type == 30;
    const bool block = dq::gpu::visit_block_format(src_type, [](auto) {});
    const bool output = dst_type == 0 || dst_type == 1 || dst_type == 30;
    return (element || block) && output ? 1 : 0;
  }

  static const char *last_error() {
    const dq_plugin_api *a = device_api();
    return (t_failed_here || !a) ? plugin_error::last_error() : a->last_error();
  }

  static constexpr auto mem_free = DQ_HIP_RELEASE(mem_free);
  static constexpr auto host_free_pinned = DQ_HIP_RELEASE(host_free_pinned);
  static constexpr auto stream_destroy = DQ_HIP_RELEASE(stream_destroy);
  static constexpr auto event_destroy = DQ_HIP_RELEASE(event_destroy);
  static constexpr auto host_unregister = DQ_HIP_RELEASE(host_unregister);

  template <auto Field, size_t kOffset>
  static constexpr auto forward =
      Forward<Field, kOffset, std::remove_reference_t<decltype(dq_plugin_api{}.*Field)>>::call;
};

const dq_plugin_api kApi = plugin_glue::make_api<HipEntries>("hip", "0.1.0");

}  // namespace
}  // namespace dq::hip

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                                 uint32_t /*host_abi_minor*/) {
  return dq::plugin_glue::entry(dq::hip::kApi, host_abi_major);
}
