#include "shader_copy.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

#include "loader.hpp"
#include "status.hpp"

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
  VkDescriptorSetLayoutBinding b[2]{};
  for (uint32_t i = 0; i < 2; ++i) {
    b[i].binding = i;
    b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    b[i].descriptorCount = 1;
    b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo sl{};
  sl.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  sl.bindingCount = 2;
  sl.pBindings = b;
  VkResult r = vk().vkCreateDescriptorSetLayout(c.device, &sl, nullptr, &p.set_layout);
  if (r != VK_SUCCESS) return fail_vk(r, "vkCreateDescriptorSetLayout (copy)");
  VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof(Push)};
  VkPipelineLayoutCreateInfo pl{};
  pl.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &p.set_layout;
  pl.pushConstantRangeCount = 1;
  pl.pPushConstantRanges = &pc;
  if ((r = vk().vkCreatePipelineLayout(c.device, &pl, nullptr, &p.layout)) != VK_SUCCESS) {
    destroy(c, p);
    return fail_vk(r, "vkCreatePipelineLayout (copy)");
  }
  VkShaderModuleCreateInfo mi{};
  mi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  mi.codeSize = shaders::copy_words_spv_words * 4;
  mi.pCode = shaders::copy_words_spv;
  VkShaderModule module = VK_NULL_HANDLE;
  if ((r = vk().vkCreateShaderModule(c.device, &mi, nullptr, &module)) != VK_SUCCESS) {
    destroy(c, p);
    return fail_vk(r, "vkCreateShaderModule (copy)");
  }
  VkComputePipelineCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.layout = p.layout;
  r = vk().vkCreateComputePipelines(c.device, VK_NULL_HANDLE, 1, &ci, nullptr, &p.pipeline);
  vk().vkDestroyShaderModule(c.device, module, nullptr);
  if (r != VK_SUCCESS) {
    destroy(c, p);
    return fail_vk(r, "vkCreateComputePipelines (copy)");
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
  VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 2 * sets};
  VkDescriptorPoolCreateInfo dp{};
  dp.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  dp.maxSets = sets;
  dp.poolSizeCount = 1;
  dp.pPoolSizes = &ps;
  if (VkResult r = vk().vkCreateDescriptorPool(c.device, &dp, nullptr, out); r != VK_SUCCESS)
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
      VkDescriptorSetAllocateInfo da{};
      da.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
      da.descriptorPool = pool;
      da.descriptorSetCount = 1;
      da.pSetLayouts = &p.set_layout;
      VkDescriptorSet set = VK_NULL_HANDLE;
      if (VkResult r = vk().vkAllocateDescriptorSets(c.device, &da, &set); r != VK_SUCCESS)
        return fail_vk(r, "vkAllocateDescriptorSets (copy)");
      const VkDescriptorBufferInfo infos[2] = {{src, s_base, s - s_base + n}, {dst, d_base, d - d_base + n}};
      VkWriteDescriptorSet w[2]{};
      for (uint32_t i = 0; i < 2; ++i) {
        w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
        w[i].dstSet = set;
        w[i].dstBinding = i;
        w[i].descriptorCount = 1;
        w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        w[i].pBufferInfo = &infos[i];
      }
      vk().vkUpdateDescriptorSets(c.device, 2, w, 0, nullptr);
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
