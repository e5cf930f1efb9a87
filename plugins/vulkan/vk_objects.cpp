#include "vk_objects.hpp"

#include <vector>

#include "loader.hpp"

namespace dq::vulkan {

VkResult create_storage_set_layout(VkDevice device, uint32_t buffers, VkDescriptorSetLayout *out) {
  std::vector<VkDescriptorSetLayoutBinding> b(buffers);
  for (uint32_t i = 0; i < buffers; ++i) {
    b[i].binding = i;
    b[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    b[i].descriptorCount = 1;
    b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  VkDescriptorSetLayoutCreateInfo sl{};
  sl.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO;
  sl.bindingCount = buffers;
  sl.pBindings = b.data();
  return vk().vkCreateDescriptorSetLayout(device, &sl, nullptr, out);
}

VkResult create_compute_pipeline_layout(VkDevice device, VkDescriptorSetLayout set_layout,
                                        uint32_t push_bytes, VkPipelineLayout *out) {
  const VkPushConstantRange pc{VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes};
  VkPipelineLayoutCreateInfo pl{};
  pl.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO;
  pl.setLayoutCount = 1;
  pl.pSetLayouts = &set_layout;
  pl.pushConstantRangeCount = 1;
  pl.pPushConstantRanges = &pc;
  return vk().vkCreatePipelineLayout(device, &pl, nullptr, out);
}

VkResult create_storage_pool(VkDevice device, uint32_t sets, uint32_t buffers_per_set,
                             VkDescriptorPoolCreateFlags flags, VkDescriptorPool *out) {
  const VkDescriptorPoolSize ps{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, buffers_per_set * sets};
  VkDescriptorPoolCreateInfo dp{};
  dp.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO;
  dp.flags = flags;
  dp.maxSets = sets;
  dp.poolSizeCount = 1;
  dp.pPoolSizes = &ps;
  return vk().vkCreateDescriptorPool(device, &dp, nullptr, out);
}

VkResult allocate_storage_set(VkDevice device, VkDescriptorPool pool, VkDescriptorSetLayout layout,
                              const VkDescriptorBufferInfo *buffers, uint32_t count,
                              VkDescriptorSet *out) {
  VkDescriptorSetAllocateInfo da{};
  da.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO;
  da.descriptorPool = pool;
  da.descriptorSetCount = 1;
  da.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  if (VkResult r = vk().vkAllocateDescriptorSets(device, &da, &set); r != VK_SUCCESS) return r;
  std::vector<VkWriteDescriptorSet> w(count);
  for (uint32_t i = 0; i < count; ++i) {
    w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    w[i].dstSet = set;
    w[i].dstBinding = i;
    w[i].descriptorCount = 1;
    w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    w[i].pBufferInfo = &buffers[i];
  }
  vk().vkUpdateDescriptorSets(device, count, w.data(), 0, nullptr);
  *out = set;
  return VK_SUCCESS;
}

VkResult create_compute_pipeline(VkDevice device, const uint32_t *spirv, size_t words,
                                 VkPipelineLayout layout, const VkSpecializationInfo *spec,
                                 VkPipeline *out, const char **failed_call) {
  VkShaderModuleCreateInfo mi{};
  mi.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO;
  mi.codeSize = words * 4;
  mi.pCode = spirv;
  VkShaderModule module = VK_NULL_HANDLE;
  if (VkResult r = vk().vkCreateShaderModule(device, &mi, nullptr, &module); r != VK_SUCCESS) {
    *failed_call = "vkCreateShaderModule";
    return r;
  }
  VkComputePipelineCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO;
  ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  ci.stage.module = module;
  ci.stage.pName = "main";
  ci.stage.pSpecializationInfo = spec;
  ci.layout = layout;
  const VkResult r = vk().vkCreateComputePipelines(device, VK_NULL_HANDLE, 1, &ci, nullptr, out);
  vk().vkDestroyShaderModule(device, module, nullptr);
  if (r != VK_SUCCESS) *failed_call = "vkCreateComputePipelines";
  return r;
}

VkResult create_bound_buffer(VkDevice device, VkDeviceSize bytes, uint32_t memory_type, bool map,
                             const uint32_t *families, uint32_t family_count, BoundBuffer *out,
                             BufferStep *failed) {
  BoundBuffer b;
  auto give_up = [&](BufferStep step, VkResult r) {
    destroy_bound_buffer(device, &b);
    *failed = step;
    return r;
  };
  VkBufferCreateInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bi.size = bytes;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
             VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  if (family_count >= 2) {
    bi.sharingMode = VK_SHARING_MODE_CONCURRENT;
    bi.queueFamilyIndexCount = family_count;
    bi.pQueueFamilyIndices = families;
  }
  if (VkResult r = vk().vkCreateBuffer(device, &bi, nullptr, &b.buffer); r != VK_SUCCESS)
    return give_up(BufferStep::create, r);
  VkMemoryRequirements req{};
  vk().vkGetBufferMemoryRequirements(device, b.buffer, &req);
  if (!(req.memoryTypeBits & (1u << memory_type)))
    return give_up(BufferStep::memory_type, VK_ERROR_FEATURE_NOT_PRESENT);
  VkMemoryAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  ai.allocationSize = req.size;
  ai.memoryTypeIndex = memory_type;
  if (VkResult r = vk().vkAllocateMemory(device, &ai, nullptr, &b.memory); r != VK_SUCCESS)
    return give_up(BufferStep::allocate, r);
  VkResult r = vk().vkBindBufferMemory(device, b.buffer, b.memory, 0);
  if (r == VK_SUCCESS && map)
    r = vk().vkMapMemory(device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped);
  if (r != VK_SUCCESS) return give_up(BufferStep::bind_or_map, r);
  *out = b;
  return VK_SUCCESS;
}

void destroy_bound_buffer(VkDevice device, BoundBuffer *b) {
  if (b->buffer) vk().vkDestroyBuffer(device, b->buffer, nullptr);
  if (b->memory) vk().vkFreeMemory(device, b->memory, nullptr);  // unmaps implicitly
  *b = BoundBuffer{};
}

}  // namespace dq::vulkan
