// The Vulkan instance and one context per physical device: a logical device with one
// compute queue, host-visible staging buffers, the dequantize pipelines (created on first
// use per type and output), a command buffer and a fence. A context runs one request at a
// time (its mutex); requests on different devices run in parallel.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "dq/dq_plugin.h"

namespace dq::vulkan {

// A host-visible, host-coherent storage buffer kept mapped.
struct MappedBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void *mapped = nullptr;
  VkDeviceSize capacity = 0;
};

struct DeviceContext {
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props{};
  uint64_t device_local_bytes = 0;
  uint32_t queue_family = 0;
  uint32_t host_memory_type = 0;
  VkDevice device = VK_NULL_HANDLE;
  VkQueue queue = VK_NULL_HANDLE;

  std::mutex mutex;  // guards everything below
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;
  VkDescriptorSet descriptor_set = VK_NULL_HANDLE;
  VkCommandPool command_pool = VK_NULL_HANDLE;
  VkCommandBuffer command_buffer = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  MappedBuffer src, dst;
  MappedBuffer grids;  // the i-quant tables (binding 2), written once
  std::map<uint64_t, VkPipeline> pipelines;  // key: src_type << 32 | dst_type
};

// Opens the loader, creates the instance and a context per usable device. Failures leave
// zero devices and the reason; never an error.
void devices_init();
void devices_shutdown();

int32_t device_count();
// Validation-layer messages of error severity so far (DQ_VULKAN_VALIDATION), and the first.
uint64_t validation_error_count();
std::string first_validation_error();
const char *no_device_reason();
// The context of `device` in *out; DQ_ERR_NO_DEVICE / INVALID_ARGUMENT (with the message) else.
int32_t device_context(int32_t device, const char *what, DeviceContext **out);
int32_t fill_device_props(int32_t device, dq_plugin_device_props *out);

// Grows the staging buffers to at least these sizes (context mutex held); rebinds the descriptor set.
int32_t ensure_buffers(DeviceContext &ctx, VkDeviceSize src_bytes, VkDeviceSize dst_bytes);
// The compute pipeline for the pair (context mutex held), created on first use.
int32_t get_pipeline(DeviceContext &ctx, int32_t src_type, int32_t dst_type, VkPipeline *out);

// The shader family of a type, or null when there is none yet.
const char *shader_family(int32_t src_type);

}  // namespace dq::vulkan
