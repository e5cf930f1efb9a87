// The Vulkan objects the plugin (and tests/vulkan/probe) make the same way: compute pipelines
// over storage buffers, their descriptor sets and pools, and buffers bound to memory. Plain
// Vulkan (only loader.hpp), so the probe links it too. Each returns VK_SUCCESS or the result of
// the call that failed, having destroyed what it made; the caller words the error.
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>

namespace dq::vulkan {

// A set layout of `buffers` storage buffers at bindings 0..buffers-1, for compute shaders.
VkResult create_storage_set_layout(VkDevice device, uint32_t buffers, VkDescriptorSetLayout *out);

// A pipeline layout of one set and `push_bytes` of compute push constants.
VkResult create_compute_pipeline_layout(VkDevice device, VkDescriptorSetLayout set_layout,
                                        uint32_t push_bytes, VkPipelineLayout *out);

// A pool for `sets` sets of `buffers_per_set` storage buffers.
VkResult create_storage_pool(VkDevice device, uint32_t sets, uint32_t buffers_per_set,
                             VkDescriptorPoolCreateFlags flags, VkDescriptorPool *out);

// A set from `pool` whose binding i is buffers[i], i < count.
VkResult allocate_storage_set(VkDevice device, VkDescriptorPool pool, VkDescriptorSetLayout layout,
                              const VkDescriptorBufferInfo *buffers, uint32_t count,
                              VkDescriptorSet *out);

// A compute pipeline from SPIR-V (entry "main", `spec` may be null); the shader module lives
// only during the call. On failure *failed_call is "vkCreateShaderModule" or
// "vkCreateComputePipelines".
VkResult create_compute_pipeline(VkDevice device, const uint32_t *spirv, size_t words,
                                 VkPipelineLayout layout, const VkSpecializationInfo *spec,
                                 VkPipeline *out, const char **failed_call);

// A storage and transfer buffer with memory of its own, bound, and mapped when `map`.
struct BoundBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void *mapped = nullptr;
};

// The step of create_bound_buffer that failed.
enum class BufferStep {
  create,       // vkCreateBuffer
  memory_type,  // the buffer cannot live in that memory type (VK_ERROR_FEATURE_NOT_PRESENT)
  allocate,     // vkAllocateMemory
  bind_or_map,  // vkBindBufferMemory or vkMapMemory
};

// Exclusive to one queue family unless `families` names two or more (then shared by them).
VkResult create_bound_buffer(VkDevice device, VkDeviceSize bytes, uint32_t memory_type, bool map,
                             const uint32_t *families, uint32_t family_count, BoundBuffer *out,
                             BufferStep *failed);

// Destroys the buffer and frees its memory (which unmaps it); null handles are skipped.
void destroy_bound_buffer(VkDevice device, BoundBuffer *b);

}  // namespace dq::vulkan
