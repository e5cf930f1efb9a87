// The Vulkan instance and one context per physical device: a logical device with up to
// kMaxQueues compute queues (streams are spread over them), the memory types for device
// memory, pinned host memory and staging, the dequantize pipelines (created on first use per
// type and output) and the i-quant grids buffer. Streams, events and allocations live in
// streams.hpp and memory.hpp; the context only owns what they share.
#pragma once

#include <vulkan/vulkan.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"

namespace dq::vulkan {

class Stream;

// A buffer with its own memory; `mapped` is set for host-visible ones.
struct MappedBuffer {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  void *mapped = nullptr;
  VkDeviceSize capacity = 0;
};

// Bytes of one dequantize chunk's source and output bindings: below lavapipe's 128 MiB
// maxStorageBufferRange (and the 2^32-byte range a uint byte index reaches).
constexpr uint64_t kChunkBytes = 64ull << 20;
constexpr uint32_t kMaxQueues = 2;

struct DeviceContext {
  int32_t index = 0;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props{};
  std::string driver;  // "NVIDIA 550.54.15", "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)"
  uint64_t device_local_bytes = 0;
  uint32_t queue_family = 0;
  uint32_t host_memory_type = 0;    // host-visible, coherent: staging
  uint32_t pinned_memory_type = 0;  // host-visible, coherent, cached where offered: pinned
  uint32_t device_memory_type = 0;  // device-local: mem_alloc
  uint64_t device_heap_bytes = 0;   // the heap of device_memory_type
  VkDeviceSize max_allocation = 0;  // maxMemoryAllocationSize: pinned and registered ranges
  VkDeviceSize segment_bytes = 0;   // device allocations are split into buffers of this size
  // Allocations up to this size are carved out of shared blocks of this size (one
  // vkAllocateMemory per block, not per allocation); 0: every allocation has its own memory.
  VkDeviceSize block_bytes = 0;
  uint32_t alloc_threads = 4;  // an allocation of several segments allocates them at once
  // DQ_VULKAN_ASYNC_ALLOC=1: mem_alloc of several segments returns once the first exists; the
  // others are allocated in the background and a call touching one waits for it.
  bool async_alloc = false;
  VkDeviceSize storage_alignment = 4;
  bool host_import = false;  // VK_EXT_external_memory_host enabled
  VkDeviceSize import_alignment = 4096;
  PFN_vkGetMemoryHostPointerPropertiesEXT get_host_pointer_props = nullptr;
  bool float16_offered = false;  // shaderFloat16
  bool float16_enabled = false;  // enabled at vkCreateDevice unless DQ_VULKAN_NARROW=sw|branches
  bool timestamps = false;
  float timestamp_period_ns = 1.0f;
  VkDevice device = VK_NULL_HANDLE;
  std::vector<VkQueue> queues;
  std::unique_ptr<std::mutex[]> queue_mutexes;  // vkQueueSubmit needs the queue to itself
  std::atomic<uint32_t> next_queue{0};

  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  MappedBuffer grids;  // the i-quant tables (binding 2), written once

  std::mutex pipeline_mutex;  // guards pipelines
  std::map<uint64_t, VkPipeline> pipelines;  // pipelines.cpp: key src_type << 32 | variant << 16 | dst_type

  std::unique_ptr<Stream> default_stream;  // the NULL stream
};

// Push constants of every dequantize shader (common.glsl's Params).
struct DispatchParams {
  uint32_t n_elements;        // outputs of this dispatch
  uint32_t first_in_block;    // element of the first block the first output is
  uint32_t src_byte_offset;   // of the first block inside the source binding
  uint32_t dst_word_offset;   // of the first output word inside the output binding
  uint32_t dst_half_shift;    // 16-bit outputs: 1 when the first output is a word's high half
  uint32_t flags;             // shaders/common.glsl kFlag* (dequantize.cpp)
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

// A buffer of `bytes` in `memory_type` (host-visible types are mapped).
int32_t alloc_buffer(DeviceContext &c, MappedBuffer &b, VkDeviceSize bytes, uint32_t memory_type,
                     const char *what);
void free_buffer(DeviceContext &c, MappedBuffer &b);
// The shader family of a type, or null when there is none yet.
const char *shader_family(int32_t src_type);

}  // namespace dq::vulkan
