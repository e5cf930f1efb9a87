// The Vulkan loader, opened at run time (no link-time dependency on libvulkan): the
// function pointers the plugin uses, resolved through vkGetInstanceProcAddr.
#pragma once

#include <vulkan/vulkan.h>

#include <string>

namespace dq::vulkan {

#define DQ_VK_INSTANCE_FUNCTIONS(X)                                                        \
  X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties)     \
  X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkGetPhysicalDeviceMemoryProperties)      \
  X(vkCreateDevice) X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkCreateBuffer)               \
  X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements) X(vkAllocateMemory) X(vkFreeMemory)  \
  X(vkBindBufferMemory) X(vkMapMemory) X(vkUnmapMemory) X(vkCreateShaderModule)            \
  X(vkDestroyShaderModule) X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)  \
  X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout) X(vkCreateComputePipelines)         \
  X(vkDestroyPipeline) X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool)                \
  X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets) X(vkCreateCommandPool)             \
  X(vkDestroyCommandPool) X(vkAllocateCommandBuffers) X(vkBeginCommandBuffer)              \
  X(vkEndCommandBuffer) X(vkResetCommandBuffer) X(vkCmdBindPipeline)                       \
  X(vkCmdBindDescriptorSets) X(vkCmdPushConstants) X(vkCmdDispatch)                        \
  X(vkCmdPipelineBarrier) X(vkCreateFence) X(vkDestroyFence) X(vkResetFences)              \
  X(vkWaitForFences) X(vkQueueSubmit) X(vkDeviceWaitIdle) X(vkCmdCopyBuffer)               \
  X(vkFreeCommandBuffers) X(vkCreateSemaphore) X(vkDestroySemaphore) X(vkWaitSemaphores)   \
  X(vkGetSemaphoreCounterValue) X(vkCreateQueryPool) X(vkDestroyQueryPool)                 \
  X(vkCmdResetQueryPool) X(vkCmdWriteTimestamp) X(vkGetQueryPoolResults)                   \
  X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)                        \
  X(vkEnumerateDeviceExtensionProperties) X(vkGetDeviceProcAddr)

struct VulkanFunctions {
  PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
  PFN_vkCreateInstance vkCreateInstance = nullptr;
  PFN_vkEnumerateInstanceLayerProperties vkEnumerateInstanceLayerProperties = nullptr;
#define DQ_VK_DECLARE(name) PFN_##name name = nullptr;
  DQ_VK_INSTANCE_FUNCTIONS(DQ_VK_DECLARE)
#undef DQ_VK_DECLARE
};

// The process's table (filled by open_loader / load_instance_functions).
VulkanFunctions &vk();

// Opens the loader (DQ_VULKAN_LOADER, else libvulkan.so.1) and its global functions.
// Returns "" or why it could not.
std::string open_loader();

// Resolves the instance-level table for `instance`; "" or the first missing function.
std::string load_instance_functions(VkInstance instance);

// Forgets the table and closes the loader.
void close_loader();

}  // namespace dq::vulkan
