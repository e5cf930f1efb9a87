#include "pipelines.hpp"

#include <cstdlib>
#include <cstring>
#include <string>

#include "denormal_probe.hpp"
#include "dq/dq.h"
#include "loader.hpp"
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
#undef DQ_SHADER_MODULE
}  // namespace shaders

namespace {

struct Module {
  const char *family;
  const uint32_t *plain;
  const size_t *plain_words;
  const uint32_t *preserve;
  const size_t *preserve_words;
};

const Module kModules[] = {
    {"legacy", shaders::legacy_spv, &shaders::legacy_spv_words, shaders::legacy_preserve_spv,
     &shaders::legacy_preserve_spv_words},
    {"float", shaders::float_spv, &shaders::float_spv_words, shaders::float_preserve_spv,
     &shaders::float_preserve_spv_words},
    {"kquants", shaders::kquants_spv, &shaders::kquants_spv_words, shaders::kquants_preserve_spv,
     &shaders::kquants_preserve_spv_words},
    {"lowbit", shaders::lowbit_spv, &shaders::lowbit_spv_words, shaders::lowbit_preserve_spv,
     &shaders::lowbit_preserve_spv_words},
    {"iquants", shaders::iquants_spv, &shaders::iquants_spv_words, shaders::iquants_preserve_spv,
     &shaders::iquants_preserve_spv_words},
};

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

}  // namespace

bool per_element_forced() {
  const char *v = std::getenv("DQ_VULKAN_PATH");
  return v && std::strcmp(v, "per-element") == 0;
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
  const bool preserve = uses_denorm_preserve(c);
  const uint32_t mode = denorm_mode(c, src_type);
  const uint64_t variant = (1 + static_cast<uint64_t>(path) + (preserve ? 2 : 0)) | (uint64_t{mode} << 3);
  const uint64_t key = (static_cast<uint64_t>(static_cast<uint32_t>(src_type)) << 32) | (variant << 16) |
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
                           (mode & kDenormModeExact ? ", exact subnormal products" : "");
  const uint32_t spec_values[4] = {static_cast<uint32_t>(src_type), static_cast<uint32_t>(dst_type),
                                   static_cast<uint32_t>(path), mode};
  const VkSpecializationMapEntry entries[4] = {{0, 0, 4}, {1, 4, 4}, {2, 8, 4}, {3, 12, 4}};
  VkSpecializationInfo si{4, entries, sizeof spec_values, spec_values};
  VkPipeline p = VK_NULL_HANDLE;
  const char *failed_call = nullptr;
  if (VkResult r = create_compute_pipeline(c.device, preserve ? m->preserve : m->plain,
                                           preserve ? *m->preserve_words : *m->plain_words, c.pipeline_layout, &si,
                                           &p, &failed_call);
      r != VK_SUCCESS)
    return fail_vk(r, std::string(failed_call) + " (" + what + ")");
  c.pipelines.emplace(key, p);
  *out = p;
  return DQ_OK;
}

}  // namespace dq::vulkan
