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
#include "dq_common/plugin_glue.hpp"
#include "memory.hpp"
#include "narrow_probe.hpp"
#include "pipelines.hpp"
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

// With the shader variant, the types the denormal probe refused and why, and the f16
// narrowing chosen (set by init).
constexpr const char *kDescription = "Vulkan (every type, exact; device memory, streams, events)";
std::string g_description = kDescription;

// The run path's modules as init found DQ_VULKAN_SHADER (read again at each request), and the
// other values.
std::string shader_note() {
  ShaderVariant v = ShaderVariant::Prefetch;
  if (shader_variant(&v) != DQ_OK)
    return std::string("DQ_VULKAN_SHADER=") + std::getenv("DQ_VULKAN_SHADER") +
           " is not a shader variant (prefetch (default), run, staged): every request refused";
  const char *name = v == ShaderVariant::Prefetch ? "prefetch"
                     : v == ShaderVariant::Staged ? "staged"
                                                  : "run";
  return std::string("shader variant: ") + name + " (DQ_VULKAN_SHADER=prefetch (default), run, staged)";
}

// A misspelt DQ_VULKAN_NARROW / DQ_VULKAN_SHADER refuses each dequantize naming it, instead of
// running as the default. Checked at the ABI entries only: the init probes call dequantize()
// directly, so the denormal probe still runs (with the software narrowing).
int32_t check_settings() {
  NarrowMode narrow = NarrowMode::Hardware;
  if (int32_t st = narrow_mode(&narrow); st != DQ_OK) return st;
  ShaderVariant variant = ShaderVariant::Prefetch;
  return shader_variant(&variant);
}

int32_t guarded_dequantize(const dq_plugin_dequantize_args *args) {
  FpEnvGuard guard;
  if (int32_t st = check_settings(); st != DQ_OK) return st;
  return dequantize(args);
}

int32_t guarded_dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  FpEnvGuard guard;
  if (int32_t st = check_settings(); st != DQ_OK) return st;
  const uint64_t errors_before = validation_error_count();
  const int32_t st = dequantize_batch(args, n);
  if (st == DQ_OK && validation_error_count() != errors_before)
    return fail(DQ_ERR_BACKEND, "Vulkan validation error during dequantize_batch: " + first_validation_error());
  return st;
}

// Each ABI entry it wraps (VulkanEntries), with the floating-point environment kept; with DQ_VULKAN_VALIDATION,
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

// The ABI entries, named as the fields of dq_plugin_api (dq_common/plugin_glue.hpp).
struct VulkanEntries {
  static const char *describe() { return g_description.c_str(); }

  static int32_t init() {
    FpEnvGuard guard;
    devices_init();
    shader_copy_configure();
    denormal_probe_run();
    narrow_probe_run();
    g_description = std::string(kDescription) + "; " + shader_note();
    if (!denormal_note().empty()) g_description += "; " + denormal_note();
    if (!narrow_note().empty()) g_description += "; " + narrow_note();
    return ok();
  }

  static void shutdown() {
    FpEnvGuard guard;
    denormal_probe_reset();
    narrow_probe_reset();
    devices_shutdown();
  }

  static constexpr auto device_count = vulkan::device_count;
  static constexpr auto no_device_reason = vulkan::no_device_reason;
  static constexpr auto device_props = fill_device_props;
  static constexpr auto supports = vulkan::supports;
  static constexpr auto dequantize = guarded_dequantize;
  static constexpr auto mem_alloc = guarded<vulkan::mem_alloc, int32_t, size_t, void **>;
  static constexpr auto mem_free = guarded<vulkan::mem_free, int32_t, void *>;
  static constexpr auto mem_copy =
      guarded<vulkan::mem_copy, int32_t, void *, const void *, size_t, int32_t, void *>;
  static constexpr auto mem_in_use = guarded<vulkan::mem_in_use, int32_t, uint64_t *, uint64_t *>;
  static constexpr auto synchronize = guarded<vulkan::synchronize, int32_t, void *>;
  static constexpr auto host_alloc_pinned = guarded<vulkan::host_alloc_pinned, size_t, void **>;
  static constexpr auto host_free_pinned = guarded<vulkan::host_free_pinned, void *>;
  static constexpr auto stream_create = guarded<vulkan::stream_create, int32_t, void **>;
  static constexpr auto stream_destroy = guarded<vulkan::stream_destroy, int32_t, void *>;
  static constexpr auto event_create = guarded<vulkan::event_create, int32_t, void **>;
  static constexpr auto event_destroy = guarded<vulkan::event_destroy, int32_t, void *>;
  static constexpr auto event_record = guarded<vulkan::event_record, int32_t, void *, void *>;
  static constexpr auto event_synchronize = guarded<vulkan::event_synchronize, int32_t, void *>;
  static constexpr auto stream_wait_event =
      guarded<vulkan::stream_wait_event, int32_t, void *, void *>;
  static constexpr auto event_elapsed_ms =
      guarded<vulkan::event_elapsed_ms, int32_t, void *, void *, float *>;
  static constexpr auto last_error = last_error_text;
  static constexpr auto host_register =
      guarded<vulkan::host_register, void *, size_t, uint32_t, void **>;
  static constexpr auto host_unregister = guarded<vulkan::host_unregister, void *>;
  static constexpr auto dequantize_batch = guarded_dequantize_batch;
};

const dq_plugin_api kApi = plugin_glue::make_api<VulkanEntries>("vulkan", "0.2.0");

}  // namespace
}  // namespace dq::vulkan

extern "C" DQ_PLUGIN_EXPORT const dq_plugin_api *dq_plugin_entry(uint32_t host_abi_major,
                                                                 uint32_t /*host_abi_minor*/) {
  return dq::plugin_glue::entry(dq::vulkan::kApi, host_abi_major);
}
