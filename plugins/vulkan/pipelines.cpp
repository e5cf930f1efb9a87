#include "pipelines.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "denormal_probe.hpp"
#include "dq/dq.h"
#include "dq_common/type_traits.hpp"
#include "loader.hpp"
#include "narrow_probe.hpp"
#include "status.hpp"
#include "vk_objects.hpp"

namespace dq::vulkan {
namespace shaders {
#define DQ_SHADER_MODULE(name)      \
  extern const uint32_t name[];     \
  extern const size_t name##_words;
DQ_SHADER_MODULE(legacy_spv)
DQ_SHADER_MODULE(legacy_preserve_spv)
DQ_SHADER_MODULE(float_spv)
DQ_SHADER_MODULE(float_preserve_spv)
DQ_SHADER_MODULE(kquants_spv)
DQ_SHADER_MODULE(kquants_preserve_spv)
DQ_SHADER_MODULE(lowbit_spv)
DQ_SHADER_MODULE(lowbit_preserve_spv)
DQ_SHADER_MODULE(iquants_spv)
DQ_SHADER_MODULE(iquants_preserve_spv)
DQ_SHADER_MODULE(float_staged_spv)
DQ_SHADER_MODULE(float_staged_preserve_spv)
DQ_SHADER_MODULE(legacy_staged_spv)
DQ_SHADER_MODULE(legacy_staged_preserve_spv)
DQ_SHADER_MODULE(kquants_staged_spv)
DQ_SHADER_MODULE(kquants_staged_preserve_spv)
DQ_SHADER_MODULE(lowbit_staged_spv)
DQ_SHADER_MODULE(lowbit_staged_preserve_spv)
DQ_SHADER_MODULE(iquants_staged_spv)
DQ_SHADER_MODULE(iquants_staged_preserve_spv)
#define DQ_HW_MODULES(f)             \
  DQ_SHADER_MODULE(f##_hw_spv)       \
  DQ_SHADER_MODULE(f##_preserve_hw_spv) \
  DQ_SHADER_MODULE(f##_staged_hw_spv) \
  DQ_SHADER_MODULE(f##_staged_preserve_hw_spv)
DQ_HW_MODULES(legacy)
DQ_HW_MODULES(float)
DQ_HW_MODULES(kquants)
DQ_HW_MODULES(lowbit)
DQ_HW_MODULES(iquants)
#undef DQ_HW_MODULES
#undef DQ_SHADER_MODULE
}  // namespace shaders

namespace {

struct Spirv {
  const uint32_t *words;
  const size_t *count;
};

// A family's modules: plain and DenormPreserve, and the same two with DQ_STAGED; all four
// again with DQ_NARROW_HW (hw[0..3]: the hardware f16 narrowing, narrow_probe.hpp).
struct Module {
  const char *family;
  Spirv plain, preserve, staged, staged_preserve;
  Spirv hw[4];
};

#define DQ_MODULES(f)                                                                               \
  {#f,                                                                                              \
   {shaders::f##_spv, &shaders::f##_spv_words},                                                     \
   {shaders::f##_preserve_spv, &shaders::f##_preserve_spv_words},                                   \
   {shaders::f##_staged_spv, &shaders::f##_staged_spv_words},                                       \
   {shaders::f##_staged_preserve_spv, &shaders::f##_staged_preserve_spv_words},                     \
   {{shaders::f##_hw_spv, &shaders::f##_hw_spv_words},                                              \
    {shaders::f##_preserve_hw_spv, &shaders::f##_preserve_hw_spv_words},                            \
    {shaders::f##_staged_hw_spv, &shaders::f##_staged_hw_spv_words},                                \
    {shaders::f##_staged_preserve_hw_spv, &shaders::f##_staged_preserve_hw_spv_words}}}
const Module kModules[] = {
    DQ_MODULES(legacy), DQ_MODULES(float), DQ_MODULES(kquants), DQ_MODULES(lowbit), DQ_MODULES(iquants),
};
#undef DQ_MODULES

// VkPhysicalDeviceFloatControlsProperties (Vulkan 1.2 core); false when it cannot be read.
bool float_controls(const DeviceContext &c, VkPhysicalDeviceFloatControlsProperties *fc) {
  *fc = {};
  fc->sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FLOAT_CONTROLS_PROPERTIES;
  if (!vk().vkGetPhysicalDeviceProperties2) return false;
  VkPhysicalDeviceProperties2 p2{};
  p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  p2.pNext = fc;
  vk().vkGetPhysicalDeviceProperties2(c.physical, &p2);
  return true;
}

bool device_preserves_f32_denormals(const DeviceContext &c) {
  VkPhysicalDeviceFloatControlsProperties fc;
  return float_controls(c, &fc) && fc.shaderDenormPreserveFloat32 == VK_TRUE;
}

const char *independence_name(VkShaderFloatControlsIndependence i) {
  switch (i) {
    case VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_32_BIT_ONLY: return "32_BIT_ONLY";
    case VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_ALL: return "ALL";
    case VK_SHADER_FLOAT_CONTROLS_INDEPENDENCE_NONE: return "NONE";
    default: return "unknown";
  }
}

bool env_is(const char *name, const char *value) {
  const char *v = std::getenv(name);
  return v && std::strcmp(v, value) == 0;
}

// A positive number from the environment, `fallback` when unset or out of [1, max].
uint32_t env_count(const char *name, uint32_t fallback, uint32_t max) {
  const char *v = std::getenv(name);
  const long n = v ? std::strtol(v, nullptr, 10) : 0;
  return n > 0 && n <= static_cast<long>(max) ? static_cast<uint32_t>(n) : fallback;
}

}  // namespace

bool shader_variant_is_default() {
  const char *v = std::getenv("DQ_VULKAN_SHADER");
  return !v || !*v || std::strcmp(v, "default") == 0;
}

int32_t shader_variant(int32_t dst_type, ShaderVariant *out) {
  const char *v = std::getenv("DQ_VULKAN_SHADER");
  if (shader_variant_is_default()) {
    *out = dst_type == DQ_TYPE_F32 ? ShaderVariant::Unstaged : ShaderVariant::Prefetch;
  } else if (std::strcmp(v, "prefetch") == 0) {
    *out = ShaderVariant::Prefetch;
  } else if (std::strcmp(v, "run") == 0) {
    *out = ShaderVariant::Unstaged;
  } else if (std::strcmp(v, "staged") == 0) {
    *out = ShaderVariant::Staged;
  } else {
    return fail(DQ_ERR_INVALID_ARGUMENT,
                std::string("DQ_VULKAN_SHADER=") + v +
                    " is not a shader variant (default, prefetch, run, staged)");
  }
  return DQ_OK;
}

bool staged_run(ShaderPath path, int32_t dst_type) {
  ShaderVariant v = ShaderVariant::Unstaged;
  return path == ShaderPath::Run && shader_variant(dst_type, &v) == DQ_OK && v != ShaderVariant::Unstaged;
}

extern "C" DQ_PLUGIN_EXPORT int32_t dq_vulkan_test_staged_run(int32_t dst_type) {
  ShaderVariant v = ShaderVariant::Unstaged;
  if (shader_variant(dst_type, &v) != DQ_OK) return -1;
  return staged_run(ShaderPath::Run, dst_type) ? 1 : 0;
}

StageShape stage_shape(const DeviceContext &c, int32_t src_type, int32_t dst_type) {
  StageShape shape;
  // gl_WorkGroupSize.x: within the device's limits (128 at least by the spec).
  const uint32_t max_threads = std::max<uint32_t>(
      128, std::min(c.props.limits.maxComputeWorkGroupInvocations, c.props.limits.maxComputeWorkGroupSize[0]));
  shape.threads = env_count("DQ_VULKAN_STAGE_THREADS", 256, std::min<uint32_t>(1024, max_threads));
  const dq::TypeTraits *t = dq::type_traits(src_type);
  if (!t || t->block_elements <= 1) return shape;  // float: no tile
  shape.block_elements = static_cast<uint32_t>(t->block_elements);
  shape.block_bytes = static_cast<uint32_t>(t->block_bytes);
  auto words_for = [&](uint32_t blocks) { return (blocks * shape.block_bytes + 15) / 16 * 4 + 12; };
  ShaderVariant variant = ShaderVariant::Unstaged;
  const bool prefetch = shader_variant(dst_type, &variant) == DQ_OK && variant == ShaderVariant::Prefetch;
  // uvec4s per invocation to hold a tile: at most kMaxPrefetch (common.glsl).
  auto regs_for = [&](uint32_t words) { return (words / 4 + shape.threads - 1) / shape.threads; };
  uint32_t blocks = std::max<uint32_t>(1, env_count("DQ_VULKAN_STAGE_ELEMENTS", 8192, 1 << 20) / shape.block_elements);
  const uint32_t limit = std::max<uint32_t>(c.props.limits.maxComputeSharedMemorySize, 16384);
  while (blocks > 1 && (words_for(blocks) * 4 > limit || regs_for(words_for(blocks)) > kMaxPrefetch)) blocks /= 2;
  shape.tile_blocks = blocks;
  shape.words = words_for(blocks);
  shape.regs = regs_for(shape.words);
  shape.pipelined = prefetch ? 1 : 0;
  shape.groups = env_count("DQ_VULKAN_STAGE_GROUPS", prefetch ? 1024 : 0, 65535);
  return shape;
}

namespace {
thread_local bool t_per_element = false;
}

void force_per_element_on_this_thread(bool on) { t_per_element = on; }

bool per_element_forced() {
  if (t_per_element) return true;
  const char *v = std::getenv("DQ_VULKAN_PATH");
  return v && std::strcmp(v, "per-element") == 0;
}

bool float_controls_properties(const DeviceContext &c, VkPhysicalDeviceFloatControlsProperties *fc) {
  return float_controls(c, fc);
}

std::string float_controls_text(const DeviceContext &c) {
  VkPhysicalDeviceFloatControlsProperties fc;
  if (!float_controls(c, &fc)) return "float controls not queried";
  return std::string("shaderDenormPreserveFloat32=") + (fc.shaderDenormPreserveFloat32 ? "1" : "0") +
         ", shaderDenormFlushToZeroFloat32=" + (fc.shaderDenormFlushToZeroFloat32 ? "1" : "0") +
         ", denormBehaviorIndependence=" + independence_name(fc.denormBehaviorIndependence);
}

bool simulates_denorm_flush() { return env_is("DQ_VULKAN_ASSUME_DENORM_FLUSH", "1"); }

bool uses_denorm_exact(const DeviceContext &c) {
  if (env_is("DQ_VULKAN_DENORM_EXACT", "1")) return true;
  if (env_is("DQ_VULKAN_DENORM_EXACT", "0")) return false;
  return denormal_exact_chosen(c.index);
}

uint32_t denorm_mode(const DeviceContext &c, int32_t src_type) {
  if (src_type != DQ_TYPE_Q8_K && src_type != DQ_TYPE_MXFP4) return 0;
  return (uses_denorm_exact(c) ? kDenormModeExact : 0) | (simulates_denorm_flush() ? kDenormModeSimulateFlush : 0);
}

bool uses_denorm_preserve(const DeviceContext &c) {
  const char *v = std::getenv("DQ_VULKAN_DENORM_PRESERVE");
  if (v && std::strcmp(v, "0") == 0) return false;
  if (v && std::strcmp(v, "force") == 0) return true;
  return device_preserves_f32_denormals(c);
}

int32_t dequantize_pipeline(DeviceContext &c, int32_t src_type, int32_t dst_type, ShaderPath path,
                            VkPipeline *out) {
  ShaderVariant shader = ShaderVariant::Prefetch;
  if (int32_t st = shader_variant(dst_type, &shader); st != DQ_OK) return st;
  const bool staged = staged_run(path, dst_type);
  const bool preserve = uses_denorm_preserve(c);
  const uint32_t mode = denorm_mode(c, src_type);
  // F16 -> f16 narrows nothing (float.comp same_width), so it keeps the plain modules: on an
  // H100 the unstaged hw module ran it at 1625 GB/s against 2833 for the plain one.
  const bool hw = dst_type == DQ_TYPE_F16 && src_type != DQ_TYPE_F16 && hw_narrow_active(c.index);
  const uint64_t variant =
      (1 + static_cast<uint64_t>(path) + (preserve ? 2 : 0)) | (uint64_t{mode} << 3) | (uint64_t{hw} << 5);
  const StageShape shape = staged ? stage_shape(c, src_type, dst_type) : StageShape{};
  // Staged keys carry their shape (the environment may change it between calls) and bit 63,
  // which no other key has (type ids are far below 2^31): tile < 2^20, threads <= 1024 (the
  // registers follow from them).
  const uint64_t key =
      staged ? (uint64_t{1} << 63) | (uint64_t{shape.pipelined} << 62) | (uint64_t{static_cast<uint8_t>(src_type)} << 48) |
                   (uint64_t{shape.tile_blocks} << 28) | (uint64_t{shape.threads} << 17) | (variant << 8) |
                   static_cast<uint8_t>(dst_type)
             : (static_cast<uint64_t>(static_cast<uint32_t>(src_type)) << 32) | (variant << 16) |
                   static_cast<uint16_t>(dst_type);
  std::lock_guard<std::mutex> lock(c.pipeline_mutex);
  if (auto it = c.pipelines.find(key); it != c.pipelines.end()) {
    *out = it->second;
    return DQ_OK;
  }
  const char *family = shader_family(src_type);
  const Module *m = nullptr;
  for (const Module &x : kModules)
    if (family && std::strcmp(family, x.family) == 0) m = &x;
  if (!m) return fail(DQ_ERR_UNSUPPORTED, "vulkan backend has no shader for type id " + std::to_string(src_type));
  const std::string what = std::string(family) + (preserve ? ", DenormPreserve" : "") +
                           (mode & kDenormModeExact ? ", exact subnormal products" : "") + (staged ? ", staged" : "") +
                           (hw ? ", hardware f16 narrowing" : "");
  // Constants 4..10 only for the staged modules (block shape, tile, workgroup size,
  // registers, pipelining: common.glsl; float.comp uses only 8, the others are ignored there).
  const uint32_t spec_values[11] = {static_cast<uint32_t>(src_type),
                                   static_cast<uint32_t>(dst_type),
                                   static_cast<uint32_t>(path),
                                   mode,
                                   shape.block_elements,
                                   shape.block_bytes,
                                   shape.tile_blocks,
                                   shape.words,
                                   shape.threads,
                                   shape.regs,
                                   shape.pipelined};
  const VkSpecializationMapEntry entries[11] = {{0, 0, 4},   {1, 4, 4},   {2, 8, 4},   {3, 12, 4},
                                                {4, 16, 4},  {5, 20, 4},  {6, 24, 4},  {7, 28, 4},
                                                {8, 32, 4},  {9, 36, 4},  {10, 40, 4}};
  // Float modules have only constant 8 of these: zero tile values never reach a shader that
  // reads them.
  VkSpecializationInfo si{staged ? 11u : 4u, entries, staged ? sizeof spec_values : 16, spec_values};
  const Spirv &spirv = hw       ? m->hw[(staged ? 2 : 0) + (preserve ? 1 : 0)]
                       : staged ? (preserve ? m->staged_preserve : m->staged)
                                : (preserve ? m->preserve : m->plain);
  VkPipeline p = VK_NULL_HANDLE;
  const char *failed_call = nullptr;
  if (VkResult r = create_compute_pipeline(c.device, spirv.words, *spirv.count, c.pipeline_layout, &si, &p,
                                           &failed_call);
      r != VK_SUCCESS)
    return fail_vk(r, std::string(failed_call) + " (" + what + ")");
  c.pipelines.emplace(key, p);
  *out = p;
  return DQ_OK;
}

}  // namespace dq::vulkan
