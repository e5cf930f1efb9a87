// The vulkan plugin's ABI table. This increment serves host-memory dequantize only (the
// device-memory, stream and event groups stay NULL, so the core treats it as a host-only
// backend); see docs/VULKAN.md for what is implemented and what is left.
#include <cfenv>

#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq_plugin.h"
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

const char *describe() { return "Vulkan (host memory only; every type, exact)"; }

int32_t init() {
  FpEnvGuard guard;
  devices_init();
  return ok();
}

void shutdown() {
  FpEnvGuard guard;
  devices_shutdown();
}

int32_t get_device_props(int32_t device, dq_plugin_device_props *out) { return fill_device_props(device, out); }

int32_t guarded_dequantize(const dq_plugin_dequantize_args *args) {
  FpEnvGuard guard;
  return dequantize(args);
}

const char *last_error() { return last_error_text(); }

dq_plugin_api make_api() {
  dq_plugin_api api{};
  api.abi_major = DQ_PLUGIN_ABI_MAJOR;
  api.abi_minor = DQ_PLUGIN_ABI_MINOR;
  api.struct_size = sizeof(dq_plugin_api);
  api.name = "vulkan";
  api.version = "0.1.0";
  api.describe = describe;
  api.init = init;
  api.shutdown = shutdown;
  api.device_count = device_count;
  api.no_device_reason = no_device_reason;
  api.device_props = get_device_props;
  api.supports = supports;
  api.dequantize = guarded_dequantize;
  api.last_error = last_error;
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
