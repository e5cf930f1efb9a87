// Device memory, pinned host memory and registered host memory.
//
// Device pointers must be byte-addressable (P14: the loader places tensors at `ptr + offset`
// inside one allocation), but Vulkan memory is a VkBuffer plus an offset. So mem_alloc hands
// out addresses from a range no host mapping can have (bit 62 set: non-canonical on x86-64
// and aarch64, so a host dereference faults instead of reading something), and every call
// maps an address back to its allocation. An allocation larger than the device's largest
// buffer (maxMemoryAllocationSize, maxBufferSize) is split into segments of `segment_bytes`.
//
// Pinned memory (host_alloc_pinned) is host-visible Vulkan memory of device 0 (Vulkan
// memory belongs to one VkDevice), so copies from it are vkCmdCopyBuffer on the stream.
// host_register imports the caller's pages with VK_EXT_external_memory_host where the device
// offers it; elsewhere the range is only remembered, and copies from it are staged.
#pragma once

#include <cstdint>
#include <vector>

#include "devices.hpp"

namespace dq::vulkan {

// A piece of device memory: `bytes` at `offset` inside `buffer`.
struct BufferSpan {
  VkBuffer buffer = VK_NULL_HANDLE;
  VkDeviceSize offset = 0;
  VkDeviceSize bytes = 0;
};

int32_t mem_alloc(int32_t device, size_t bytes, void **out);
int32_t mem_free(int32_t device, void *ptr);
int32_t mem_in_use(int32_t device, uint64_t *allocations, uint64_t *bytes);
int32_t host_alloc_pinned(size_t bytes, void **out);
int32_t host_free_pinned(void *ptr);
int32_t host_register(void *ptr, size_t bytes, uint32_t flags, void **handle);
int32_t host_unregister(void *handle);

// True when `p` lies in the device-pointer range (whatever its allocation).
bool is_device_address(const void *p);
// The spans (in address order) of [p, p + bytes) on `c`, which must lie inside one live
// allocation of that device; DQ_ERR_INVALID_ARGUMENT with a message naming `what` else.
int32_t resolve_device(DeviceContext &c, const void *p, uint64_t bytes, const char *what,
                       std::vector<BufferSpan> *out);
// When [p, p + bytes) lies inside pinned or imported host memory of `c`: its buffer span.
bool resolve_host(DeviceContext &c, const void *p, uint64_t bytes, BufferSpan *out);

// Frees everything left (shutdown), after the streams are drained.
void memory_shutdown();

}  // namespace dq::vulkan
