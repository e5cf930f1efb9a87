// The vulkan plugin's ABI table: dequantize on host or device memory, device memory, pinned
// and registered host memory, streams and events (docs/VULKAN.md). Every entry keeps the
// caller's floating-point environment.
#include <cfenv>
#include <string>

#include "batch.hpp"
#include "denormal_probe.hpp"
#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq_plugin.h"
#include "memory.hpp"
#include "shader_copy.hpp"
#include "streams.hpp"
#include "status.hpp"

namespace dq::vulkan {
namespace {

// The driver may change the calling thread's floating-point environment (a JIT compiler
// setting flush-to-zero, say); the host's must come back as it was (rule P9).
class FpEnvGuard {
 public:
  FpEnvGuard() { fegetenv(&env_); }
  ~FpEnvGuard() { fesetenv(&env_); }
  FpEnvGuard(const FpEnvGuard &) = delete;
  FpEnvGuard &operator=(const FpEnvGuard &) = delete;

 private:
  fenv_t env_;
};

// With the types the denormal probe refused and why (set by init).
constexpr const char *kDescription = "Vulkan (every type, exact; device memory, streams, events)";
std::string g_description = kDescription;

const char *describe() { return g_description.c_str(); }

int32_t init() {
  FpEnvGuard guard;
  devices_init();
  shader_copy_configure();
  denormal_probe_run();
  g_description = kDescription;
  if (!denormal_note().empty()) g_description += "; " + denormal_note();
  return ok();
}

void shutdown() {
  FpEnvGuard guard;
  denormal_probe_reset();
  devices_shutdown();
}

int32_t get_device_props(int32_t device, dq_plugin_device_props *out) { return fill_device_props(device, out); }

int32_t guarded_dequantize(const dq_plugin_dequantize_args *args) {
  FpEnvGuard guard;
  return dequantize(args);
}

int32_t guarded_dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  FpEnvGuard guard;
  const uint64_t errors_before = validation_error_count();
  const int32_t st = dequantize_batch(args, n);
  if (st == DQ_OK && validation_error_count() != errors_before)
    return fail(DQ_ERR_BACKEND, "Vulkan validation error during dequantize_batch: " + first_validation_error());
  return st;
}

// Each ABI entry below, with the floating-point environment kept; with DQ_VULKAN_VALIDATION,
// a validation message of error severity during the call makes it fail with that message.
template <auto F, class... A>
int32_t guarded(A... args) {
  FpEnvGuard guard;
  const uint64_t errors_before = validation_error_count();
  const int32_t st = F(args...);
  if (st == DQ_OK && validation_error_count() != errors_before)
    return fail(DQ_ERR_BACKEND, "Vulkan validation error: " + first_validation_error());
  return st;
}

const char *last_error() { return last_error_text(); }

dq_plugin_api make_api() {
  dq_plugin_api api{};
  api.abi_major = DQ_PLUGIN_ABI_MAJOR;
  api.abi_minor = DQ_PLUGIN_ABI_MINOR;
  api.struct_size = sizeof(dq_plugin_api);
  api.name = "vulkan";
  api.version = "0.2.0";
  api.describe = describe;
  api.init = init;
  api.shutdown = shutdown;
  api.device_count = device_count;
  api.no_device_reason = no_device_reason;
  api.device_props = get_device_props;
  api.supports = supports;
  api.dequantize = guarded_dequantize;
  api.mem_alloc = guarded<mem_alloc, int32_t, size_t, void **>;
  api.mem_free = guarded<mem_free, int32_t, void *>;
  api.mem_copy = guarded<mem_copy, int32_t, void *, const void *, size_t, int32_t, void *>;
  api.mem_in_use = guarded<mem_in_use, int32_t, uint64_t *, uint64_t *>;
  api.synchronize = guarded<synchronize, int32_t, void *>;
  api.host_alloc_pinned = guarded<host_alloc_pinned, size_t, void **>;
  api.host_free_pinned = guarded<host_free_pinned, void *>;
  api.stream_create = guarded<stream_create, int32_t, void **>;
  api.stream_destroy = guarded<stream_destroy, int32_t, void *>;
  api.event_create = guarded<event_create, int32_t, void **>;
  api.event_destroy = guarded<event_destroy, int32_t, void *>;
  api.event_record = guarded<event_record, int32_t, void *, void *>;
  api.event_synchronize = guarded<event_synchronize, int32_t, void *>;
  api.stream_wait_event = guarded<stream_wait_event, int32_t, void *, void *>;
  api.event_elapsed_ms = guarded<event_elapsed_ms, int32_t, void *, void *, float *>;
  api.last_error = last_error;
  api.host_register = guarded<host_register, void *, size_t, uint32_t, void **>;
  api.host_unregister = guarded<host_unregister, void *>;
  api.dequantize_batch = guarded_dequantize_batch;
  return api;
}

const dq_plugin_api kApi = make_api();

}  // namespace
}  // namespace dq::vulkan

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                                 uint32_t /*host_abi_minor*/) {
  if (host_abi_major != DQ_PLUGIN_ABI_MAJOR) return nullptr;
  return &dq::vulkan::kApi;
}
