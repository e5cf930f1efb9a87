// The vulkan plugin's ABI table: dequantize on host or device memory, device memory, pinned
// and registered host memory, streams and events (docs/VULKAN.md). Every entry keeps the
// caller's floating-point environment.
#include <cfenv>
#include <deque>
#include <mutex>
#include <string>

#include "batch.hpp"
#include "denormal_probe.hpp"
#include "dequantize.hpp"
#include "devices.hpp"
#include "dq/dq_plugin.h"
#include "dq_common/plugin_args.hpp"
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

// With the shader variant and the types the denormal probe refused and why (set by init),
// then the f16 narrowing, which changes when a device's lazy probe finishes (narrow_probe.hpp):
// describe() returns the text as it is now. The core keeps what it read after init, so
// `dq backends` shows the narrowing as init left it.
constexpr const char *kDescription = "Vulkan (every type, exact; device memory, streams, events)";
std::mutex g_description_mutex;
std::string g_description_base = kDescription;
// Every text describe() returned since init, so each pointer stays valid until the next init
// (at most one more per device: its probe's verdict).
std::deque<std::string> g_descriptions;

const char *describe_now() {
  const std::string note = narrow_note();
  std::lock_guard<std::mutex> lock(g_description_mutex);
  std::string text = g_description_base + (note.empty() ? "" : "; " + note);
  if (g_descriptions.empty() || g_descriptions.back() != text) g_descriptions.push_back(std::move(text));
  return g_descriptions.back().c_str();
}

// The run path's modules as init found DQ_VULKAN_SHADER (read again at each request), and the
// other values.
std::string shader_note() {
  ShaderVariant v = ShaderVariant::Prefetch;
  if (shader_variant(DQ_TYPE_F16, &v) != DQ_OK)
    return std::string("DQ_VULKAN_SHADER=") + std::getenv("DQ_VULKAN_SHADER") +
           " is not a shader variant (default, prefetch, run, staged): every request refused";
  const char *name = shader_variant_is_default()       ? "default: prefetch to f16/bf16, run to f32"
                     : v == ShaderVariant::Prefetch ? "prefetch"
                     : v == ShaderVariant::Staged   ? "staged"
                                                    : "run";
  return std::string("shader variant: ") + name + " (DQ_VULKAN_SHADER=default, prefetch, run, staged)";
}

// A misspelt DQ_VULKAN_NARROW / DQ_VULKAN_SHADER refuses each dequantize naming it, instead of
// running as the default. Checked at the ABI entries only: the probes call dequantize()
// directly, so the denormal probe still runs (with the software narrowing).
int32_t check_settings() {
  NarrowMode narrow = NarrowMode::Hardware;
  if (int32_t st = narrow_mode(&narrow); st != DQ_OK) return st;
  ShaderVariant variant = ShaderVariant::Prefetch;
  return shader_variant(DQ_TYPE_F16, &variant);
}

// The f16 narrowing probe of each device the requests' f16 outputs need, before any of them
// runs (a batch's probe must not run while the batch records). Elements whose struct is
// malformed are skipped: the call refuses them next.
void probe_before(const dq_plugin_dequantize_args *args, size_t n) {
  if (!args || args->struct_size < plugin_args::kMinArgsSize) return;
  const size_t stride = args->struct_size;
  for (size_t i = 0; i < n; ++i) {
    const dq_plugin_dequantize_args &a = plugin_args::batch_element(args, stride, i);
    if (a.struct_size != stride) return;
    narrow_probe_before(plugin_args::own_copy(a, stride));
  }
}

int32_t guarded_dequantize(const dq_plugin_dequantize_args *args) {
  FpEnvGuard guard;
  if (int32_t st = check_settings(); st != DQ_OK) return st;
  probe_before(args, 1);
  return dequantize(args);
}

int32_t guarded_dequantize_batch(const dq_plugin_dequantize_args *args, size_t n) {
  FpEnvGuard guard;
  if (int32_t st = check_settings(); st != DQ_OK) return st;
  // Before the count: a probe that fails on a validation error leaves the software narrowing
  // and must not fail this batch (dequantize() checks only its own work likewise).
  probe_before(args, n);
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
  static const char *describe() { return describe_now(); }

  static int32_t init() {
    FpEnvGuard guard;
    devices_init();
    shader_copy_configure();
    denormal_probe_run();
    narrow_probe_init();  // the probe itself waits for the first f16 request
    std::string base = std::string(kDescription) + "; " + shader_note();
    if (!denormal_note().empty()) base += "; " + denormal_note();
    std::lock_guard<std::mutex> lock(g_description_mutex);
    g_description_base = std::move(base);
    g_descriptions.clear();
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
