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
// offers it, into a host-visible coherent memory type, and checks a sample of the import
// against the pages (one small copy) before trusting it; elsewhere (no such type, a range
// not aligned for import, a check that failed) the range is only remembered, and copies from
// it are staged. DQ_VULKAN_IMPORT_TRACE=1 prints one line per registration saying which.
#pragma once

#include <cstdint>
#include <memory>
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
struct HostGuard;

// Held from resolve_host until the copy that reads the span is submitted: host_unregister and
// host_free_pinned wait for the leases of their range before draining the streams and freeing
// it (else a copy resolved on one thread just before another unregisters would be recorded
// against a destroyed buffer, or queued after the drain and read freed pages).
class HostLease {
 public:
  HostLease() = default;
  ~HostLease() { release(); }
  HostLease(const HostLease &) = delete;
  HostLease &operator=(const HostLease &) = delete;
  void release();

 private:
  friend bool resolve_host(DeviceContext &, const void *, uint64_t, BufferSpan *, HostLease *);
  std::shared_ptr<HostGuard> guard_;
};

// When [p, p + bytes) lies inside pinned or imported host memory of `c`: its buffer span (and
// the lease that keeps it alive until released).
bool resolve_host(DeviceContext &c, const void *p, uint64_t bytes, BufferSpan *out, HostLease *lease);

// Frees everything left (shutdown), after the streams are drained.
void memory_shutdown();

}  // namespace dq::vulkan
