#include "shader_copy.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "loader.hpp"
#include "status.hpp"
#include "vk_objects.hpp"

namespace dq::vulkan::shaders {
extern const uint32_t copy_words_spv[];
extern const size_t copy_words_spv_words;
}  // namespace dq::vulkan::shaders

namespace dq::vulkan {
namespace {

constexpr uint32_t kGroupSize = 256;    // local_size_x of copy_words.comp
constexpr uint32_t kMaxGroups = 65535;  // the minimum maxComputeWorkGroupCount[0]

bool g_enabled = false;

struct CopyPipeline {
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
};

std::mutex g_mutex;  // guards g_pipelines
std::map<const DeviceContext *, CopyPipeline> g_pipelines;

struct Push {
  uint32_t n_vec4, src_skew_vec4, dst_skew_vec4;
};

void destroy(DeviceContext &c, CopyPipeline &p) {
  if (p.pipeline) vk().vkDestroyPipeline(c.device, p.pipeline, nullptr);
  if (p.layout) vk().vkDestroyPipelineLayout(c.device, p.layout, nullptr);
  if (p.set_layout) vk().vkDestroyDescriptorSetLayout(c.device, p.set_layout, nullptr);
  p = CopyPipeline{};
}

int32_t pipeline_for(DeviceContext &c, CopyPipeline *out) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (auto it = g_pipelines.find(&c); it != g_pipelines.end()) {
    *out = it->second;
    return DQ_OK;
  }
  CopyPipeline p;
  VkResult r = create_storage_set_layout(c.device, 2, &p.set_layout);
  if (r != VK_SUCCESS) return fail_vk(r, "vkCreateDescriptorSetLayout (copy)");
  if ((r = create_compute_pipeline_layout(c.device, p.set_layout, sizeof(Push), &p.layout)) != VK_SUCCESS) {
    destroy(c, p);
    return fail_vk(r, "vkCreatePipelineLayout (copy)");
  }
  const char *failed_call = nullptr;
  r = create_compute_pipeline(c.device, shaders::copy_words_spv, shaders::copy_words_spv_words, p.layout, nullptr,
                              &p.pipeline, &failed_call);
  if (r != VK_SUCCESS) {
    destroy(c, p);
    return fail_vk(r, std::string(failed_call) + " (copy)");
  }
  g_pipelines.emplace(&c, p);
  *out = p;
  return DQ_OK;
}

// Bindings start at multiples of 256: every device's minStorageBufferOffsetAlignment divides
// it (the spec's maximum), and the skews are then exercised on lavapipe (16) too.
uint64_t bind_alignment(const DeviceContext &c) { return std::max<uint64_t>(256, c.storage_alignment); }

// The most bytes one dispatch copies: its bindings (skew included) within maxStorageBufferRange.
uint64_t piece_bytes(const DeviceContext &c) {
  const uint64_t range = std::min<uint64_t>(c.props.limits.maxStorageBufferRange, uint64_t{1} << 30);
  return (range - bind_alignment(c)) / 16 * 16;
}

}  // namespace

void shader_copy_configure() {
  const char *e = std::getenv("DQ_VULKAN_COPY");
  g_enabled = e && std::strcmp(e, "shader") == 0;
}

bool shader_copy_enabled() { return g_enabled; }

uint32_t shader_copy_sets(const DeviceContext &c, uint64_t bytes) {
  return static_cast<uint32_t>((bytes + piece_bytes(c) - 1) / piece_bytes(c));
}

int32_t make_copy_pool(DeviceContext &c, uint32_t sets, VkDescriptorPool *out) {
  if (VkResult r = create_storage_pool(c.device, sets, 2, 0, out); r != VK_SUCCESS)
    return fail_vk(r, "vkCreateDescriptorPool (copy)");
  return DQ_OK;
}

int32_t record_device_copy(DeviceContext &c, VkCommandBuffer cb, VkBuffer src, uint64_t src_offset, VkBuffer dst,
                           uint64_t dst_offset, uint64_t bytes, VkDescriptorPool pool) {
  const uint64_t words = pool && src_offset % 16 == 0 && dst_offset % 16 == 0 ? bytes / 16 * 16 : 0;
  if (words) {
    CopyPipeline p;
    if (int32_t st = pipeline_for(c, &p); st != DQ_OK) return st;
    vk().vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p.pipeline);
    const uint64_t align = bind_alignment(c), most = piece_bytes(c);
    for (uint64_t at = 0; at < words; at += most) {
      const uint64_t n = std::min(most, words - at);
      const uint64_t s = src_offset + at, d = dst_offset + at;
      const uint64_t s_base = s / align * align, d_base = d / align * align;
      const VkDescriptorBufferInfo infos[2] = {{src, s_base, s - s_base + n}, {dst, d_base, d - d_base + n}};
      VkDescriptorSet set = VK_NULL_HANDLE;
      if (VkResult r = allocate_storage_set(c.device, pool, p.set_layout, infos, 2, &set); r != VK_SUCCESS)
        return fail_vk(r, "vkAllocateDescriptorSets (copy)");
      vk().vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout, 0, 1, &set, 0, nullptr);
      const Push push{static_cast<uint32_t>(n / 16), static_cast<uint32_t>((s - s_base) / 16),
                      static_cast<uint32_t>((d - d_base) / 16)};
      vk().vkCmdPushConstants(cb, p.layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof push, &push);
      const uint64_t groups = std::min<uint64_t>((n / 16 + kGroupSize - 1) / kGroupSize, kMaxGroups);
      vk().vkCmdDispatch(cb, static_cast<uint32_t>(groups), 1, 1);
    }
  }
  if (bytes > words) {  // a tail under 16 bytes, or a piece at unaligned offsets
    VkBufferCopy r{src_offset + words, dst_offset + words, bytes - words};
    vk().vkCmdCopyBuffer(cb, src, dst, 1, &r);
  }
  return DQ_OK;
}

void shader_copy_shutdown(DeviceContext &c) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (auto it = g_pipelines.find(&c); it != g_pipelines.end()) {
    destroy(c, it->second);
    g_pipelines.erase(it);
  }
}

}  // namespace dq::vulkan
