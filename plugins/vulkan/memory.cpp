#include "memory.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "loader.hpp"
#include "status.hpp"
#include "streams.hpp"

namespace dq::vulkan {

// Copies holding a lease on a host range (HostLease).
struct HostGuard {
  std::mutex mutex;
  std::condition_variable idle;
  int leases = 0;
};

void HostLease::release() {
  if (!guard_) return;
  {
    std::lock_guard<std::mutex> lock(guard_->mutex);
    --guard_->leases;
  }
  guard_->idle.notify_all();
  guard_.reset();
}

namespace {

// Device addresses: bit 62 set, never reused (2^62 bytes outlast any process).
constexpr uintptr_t kDeviceBase = uintptr_t{1} << 62;
constexpr uintptr_t kDeviceAlignment = 64 * 1024;  // also leaves a gap after each allocation

// A VkBuffer with its own memory that allocations up to ctx->block_bytes are carved from
// (vkAllocateMemory costs a driver call and page mapping each time; the loader allocates
// every output tensor). Free ranges by offset, coalesced on free.
struct Block {
  DeviceContext *ctx = nullptr;
  MappedBuffer buffer;
  uint64_t bytes = 0;
  uint64_t used = 0;
  std::map<uint64_t, uint64_t> free_ranges;  // offset -> bytes
};

// Segments still being allocated in the background (DQ_VULKAN_ASYNC_ALLOC=1): a call that
// touches one waits for it; a failure is reported by the first call that touches it.
struct Pending {
  enum State : char { allocating, ready, failed };
  std::mutex mutex;  // guards state, status, message
  std::condition_variable changed;
  std::vector<State> state;  // per segment
  int32_t status = DQ_OK;
  std::string message;
  std::vector<std::thread> workers;
  void join() {
    for (auto &t : workers) t.join();
    workers.clear();
  }
};

struct DeviceAllocation {
  DeviceContext *ctx = nullptr;
  uint64_t bytes = 0;
  std::vector<MappedBuffer> segments;  // own memory: each ctx->segment_bytes but the last
  std::shared_ptr<Pending> pending;    // segments being allocated in the background
  Block *block = nullptr;              // or carved from a block: [block_offset, + reserved)
  uint64_t block_offset = 0;
  uint64_t reserved = 0;
};

// Pinned memory (owned) or an imported/remembered registration.
struct HostRange {
  DeviceContext *ctx = nullptr;
  uint64_t bytes = 0;
  MappedBuffer buffer;  // VK_NULL_HANDLE buffer: remembered only (no import)
  bool owned = false;   // host_alloc_pinned: the memory is ours
  std::shared_ptr<HostGuard> guard = std::make_shared<HostGuard>();  // shared by the copies
};

std::mutex g_mutex;  // guards everything below
uintptr_t g_next_address = kDeviceBase;
std::map<uintptr_t, DeviceAllocation> g_device;  // by base address
std::map<uintptr_t, HostRange> g_host;           // by host address
std::vector<std::unique_ptr<Block>> g_blocks;

// Offsets inside a block: storage-binding alignment and a whole number of words.
uint64_t sub_alignment(const DeviceContext &c) { return std::max<uint64_t>(256, c.storage_alignment); }

// First fit of `bytes` in one of c's blocks; the block (offset in *offset) or null. g_mutex held.
Block *carve_locked(DeviceContext &c, uint64_t bytes, uint64_t *offset) {
  for (auto &b : g_blocks) {
    if (b->ctx != &c || b->bytes - b->used < bytes) continue;
    for (auto it = b->free_ranges.begin(); it != b->free_ranges.end(); ++it) {
      if (it->second < bytes) continue;
      *offset = it->first;
      const uint64_t left = it->second - bytes;
      b->free_ranges.erase(it);
      if (left) b->free_ranges.emplace(*offset + bytes, left);
      b->used += bytes;
      return b.get();
    }
  }
  return nullptr;
}

// Gives [offset, + bytes) back to its block; an empty block is returned for freeing when c
// already has another empty one (one stays for the next allocation). g_mutex held.
std::unique_ptr<Block> return_locked(Block *b, uint64_t offset, uint64_t bytes) {
  auto next = b->free_ranges.lower_bound(offset);
  uint64_t start = offset, size = bytes;
  if (next != b->free_ranges.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) start = prev->first, size += prev->second, b->free_ranges.erase(prev);
  }
  if (next != b->free_ranges.end() && next->first == offset + bytes) size += next->second, b->free_ranges.erase(next);
  b->free_ranges.emplace(start, size);
  b->used -= bytes;
  if (b->used != 0) return nullptr;
  for (auto &o : g_blocks)
    if (o.get() != b && o->ctx == b->ctx && o->used == 0) {
      auto it = std::find_if(g_blocks.begin(), g_blocks.end(), [&](const auto &x) { return x.get() == b; });
      std::unique_ptr<Block> gone = std::move(*it);
      g_blocks.erase(it);
      return gone;
    }
  return nullptr;
}

// Drops c's empty blocks (before retrying an allocation the device refused). g_mutex held.
std::vector<std::unique_ptr<Block>> take_empty_blocks_locked(DeviceContext &c) {
  std::vector<std::unique_ptr<Block>> empty;
  for (auto it = g_blocks.begin(); it != g_blocks.end();)
    if ((*it)->ctx == &c && (*it)->used == 0) empty.push_back(std::move(*it)), it = g_blocks.erase(it);
    else ++it;
  return empty;
}

void free_blocks(std::vector<std::unique_ptr<Block>> blocks) {
  for (auto &b : blocks) free_buffer(*b->ctx, b->buffer);
}

// Carves `a` out of a block of c, making a new block when none has room; false when the
// device has no memory for a new block (the caller then tries memory of its own).
bool place_in_block(DeviceContext &c, DeviceAllocation &a) {
  const uint64_t align = sub_alignment(c);
  a.reserved = (a.bytes + align - 1) / align * align;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if ((a.block = carve_locked(c, a.reserved, &a.block_offset))) return true;
  }
  auto b = std::make_unique<Block>();
  b->ctx = &c;
  b->bytes = c.block_bytes;
  if (alloc_buffer(c, b->buffer, b->bytes, c.device_memory_type, "device memory block") != DQ_OK) return false;
  b->free_ranges.emplace(0, b->bytes);
  std::lock_guard<std::mutex> lock(g_mutex);
  g_blocks.push_back(std::move(b));
  a.block = carve_locked(c, a.reserved, &a.block_offset);  // the new block has room
  return a.block != nullptr;
}

template <class Map>
auto containing(Map &m, uintptr_t p) -> decltype(m.begin()) {
  auto it = m.upper_bound(p);
  if (it == m.begin()) return m.end();
  --it;
  return p < it->first + it->second.bytes ? it : m.end();
}

std::string hex(const void *p) {
  char b[32];
  std::snprintf(b, sizeof b, "%p", p);
  return b;
}

void free_allocation(DeviceAllocation &a) {
  for (auto &s : a.segments) free_buffer(*a.ctx, s);
  a.segments.clear();
  if (a.block) {
    std::unique_ptr<Block> empty;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      empty = return_locked(a.block, a.block_offset, a.reserved);
    }
    if (empty) free_buffer(*empty->ctx, empty->buffer);
    a.block = nullptr;
  }
}

void free_host_range(HostRange &r) {
  if (r.buffer.memory) free_buffer(*r.ctx, r.buffer);
}

// Waits until no copy holds a lease on `r` (the range is out of the maps: no new ones come).
void wait_for_leases(HostRange &r) {
  std::unique_lock<std::mutex> lock(r.guard->mutex);
  r.guard->idle.wait(lock, [&] { return r.guard->leases == 0; });
}

bool env_on(const char *name) {
  const char *v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// DQ_VULKAN_IMPORT_TRACE=1: one stderr line per host_register saying how the range is served.
bool import_trace() { return env_on("DQ_VULKAN_IMPORT_TRACE"); }

// The /proc/self/maps line holding `addr` (permissions, file or anonymous), for the trace.
std::string mapping_of(uintptr_t addr) {
  FILE *f = std::fopen("/proc/self/maps", "r");
  if (!f) return "maps unreadable";
  char line[512];
  std::string found = "not mapped";
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
      found = line;
      while (!found.empty() && (found.back() == '\n' || found.back() == ' ')) found.pop_back();
      break;
    }
  }
  std::fclose(f);
  return found;
}

std::string memory_flags(VkMemoryPropertyFlags f) {
  std::string s;
  const std::pair<VkMemoryPropertyFlags, const char *> names[] = {{VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, "device-local"},
                                                                  {VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT, "host-visible"},
                                                                  {VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, "coherent"},
                                                                  {VK_MEMORY_PROPERTY_HOST_CACHED_BIT, "cached"}};
  for (const auto &[bit, name] : names)
    if (f & bit) s += s.empty() ? name : std::string("|") + name;
  return s.empty() ? "no flags" : s;
}

// The memory type to import host pages into among `bits`: host-visible and coherent (the host
// writes the pages without vkFlushMappedMemoryRanges, and vkQueueSubmit makes host writes
// visible to the device only for coherent memory), cached where offered (the pages are
// ordinary cached host memory), off device-local heaps; -1 when `bits` has no such type.
int import_memory_type(const DeviceContext &c, uint32_t bits, VkMemoryPropertyFlags *flags) {
  VkPhysicalDeviceMemoryProperties mp{};
  vk().vkGetPhysicalDeviceMemoryProperties(c.physical, &mp);
  const VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  int best = -1, best_score = -1;
  for (uint32_t t = 0; t < mp.memoryTypeCount; ++t) {
    const VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
    if (!(bits & (1u << t)) || (f & want) != want) continue;
    const int score = ((f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) ? 2 : 0) + ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) ? 0 : 1);
    if (score > best_score) best = static_cast<int>(t), best_score = score, *flags = f;
  }
  return best;
}

// Copies three samples of the import (its first, middle and last 4 KiB) into staging memory on
// the device's queue 0 and compares them with the pages: "" when they match, else what
// differed. An import that reads other bytes than the pages hold (a driver that cannot pin
// these pages faithfully, a wrong offset) would load silently wrong tensors; this turns it
// into staged copies. DQ_VULKAN_TEST_IMPORT_MISMATCH=1 (tests) reports a mismatch.
std::string check_import(DeviceContext &c, const uint8_t *ptr, uint64_t bytes, VkBuffer imported) {
  const uint64_t sample = std::min<uint64_t>(4096, bytes);
  std::vector<uint64_t> at = {0, (bytes / 2) / sample * sample, bytes - sample};
  std::sort(at.begin(), at.end());
  at.erase(std::unique(at.begin(), at.end()), at.end());
  MappedBuffer staging;
  if (alloc_buffer(c, staging, sample * at.size(), c.host_memory_type, "import check") != DQ_OK)
    return std::string("could not check it: ") + last_error_text();
  std::string why;
  VkCommandPool pool = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  VkCommandBuffer cb = VK_NULL_HANDLE;
  VkCommandPoolCreateInfo cp{};
  cp.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
  cp.queueFamilyIndex = c.queue_family;
  VkCommandBufferAllocateInfo ca{};
  ca.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
  ca.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ca.commandBufferCount = 1;
  VkCommandBufferBeginInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  VkFenceCreateInfo fi{};
  fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
  VkResult r = vk().vkCreateCommandPool(c.device, &cp, nullptr, &pool);
  if (r == VK_SUCCESS) ca.commandPool = pool, r = vk().vkAllocateCommandBuffers(c.device, &ca, &cb);
  if (r == VK_SUCCESS) r = vk().vkBeginCommandBuffer(cb, &bi);
  if (r == VK_SUCCESS) {
    std::vector<VkBufferCopy> regions;
    for (size_t i = 0; i < at.size(); ++i) regions.push_back({at[i], i * sample, sample});
    vk().vkCmdCopyBuffer(cb, imported, staging.buffer, static_cast<uint32_t>(regions.size()), regions.data());
    VkMemoryBarrier mb{};
    mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    mb.srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, nullptr, 0,
                              nullptr);
    r = vk().vkEndCommandBuffer(cb);
  }
  if (r == VK_SUCCESS) r = vk().vkCreateFence(c.device, &fi, nullptr, &fence);
  if (r == VK_SUCCESS) {
    VkSubmitInfo si{};
    si.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
    si.commandBufferCount = 1;
    si.pCommandBuffers = &cb;
    std::lock_guard<std::mutex> q(c.queue_mutexes[0]);
    r = vk().vkQueueSubmit(c.queues[0], 1, &si, fence);
  }
  if (r == VK_SUCCESS) r = vk().vkWaitForFences(c.device, 1, &fence, VK_TRUE, UINT64_MAX);
  if (r != VK_SUCCESS) {
    why = std::string("could not check it: ") + vk_result_name(r);
  } else {
    const bool simulate = env_on("DQ_VULKAN_TEST_IMPORT_MISMATCH");
    for (size_t i = 0; i < at.size() && why.empty(); ++i) {
      const auto *got = static_cast<const uint8_t *>(staging.mapped) + i * sample;
      for (uint64_t k = 0; k < sample; ++k)
        if (got[k] != ptr[at[i] + k] || simulate) {
          char b[160];
          std::snprintf(b, sizeof b, "byte %llu of the range read back as 0x%02x, the pages hold 0x%02x%s",
                        static_cast<unsigned long long>(at[i] + k), got[k], ptr[at[i] + k],
                        simulate ? " (simulated by DQ_VULKAN_TEST_IMPORT_MISMATCH)" : "");
          why = b;
          break;
        }
    }
  }
  if (fence) vk().vkDestroyFence(c.device, fence, nullptr);
  if (pool) vk().vkDestroyCommandPool(c.device, pool, nullptr);
  free_buffer(c, staging);
  return why;
}

// Imports [ptr, ptr + bytes) as a transfer/storage buffer and checks it. DQ_OK with out->buffer
// set (imported) or null (not importable: copies staged; *how says why), or the failure.
int32_t import_host(DeviceContext &c, void *ptr, uint64_t bytes, MappedBuffer *out, std::string *how) {
  const auto type = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
  VkMemoryHostPointerPropertiesEXT hp{};
  hp.sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT;
  VkResult r = c.get_host_pointer_props(c.device, type, ptr, &hp);
  if (r != VK_SUCCESS) return fail_vk(r, "vkGetMemoryHostPointerPropertiesEXT");
  VkExternalMemoryBufferCreateInfo eb{};
  eb.sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO;
  eb.handleTypes = type;
  VkBufferCreateInfo bi{};
  bi.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  bi.pNext = &eb;
  bi.size = bytes;
  bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  MappedBuffer b;
  if ((r = vk().vkCreateBuffer(c.device, &bi, nullptr, &b.buffer)) != VK_SUCCESS)
    return fail_vk(r, "vkCreateBuffer for registered host memory");
  VkMemoryRequirements req{};
  vk().vkGetBufferMemoryRequirements(c.device, b.buffer, &req);
  if (req.size > bytes) {
    free_buffer(c, b);
    return fail(DQ_ERR_BACKEND, "host_register: no memory type can import these pages");
  }
  VkMemoryPropertyFlags flags = 0;
  const int memory_type = import_memory_type(c, req.memoryTypeBits & hp.memoryTypeBits, &flags);
  if (memory_type < 0) {
    free_buffer(c, b);
    char m[128];
    std::snprintf(m, sizeof m, "no host-visible coherent memory type can import these pages (types 0x%x)",
                  req.memoryTypeBits & hp.memoryTypeBits);
    *how = m;
    return DQ_OK;
  }
  VkImportMemoryHostPointerInfoEXT ii{};
  ii.sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT;
  ii.handleType = type;
  ii.pHostPointer = ptr;
  VkMemoryAllocateInfo ai{};
  ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
  ai.pNext = &ii;
  ai.allocationSize = bytes;
  ai.memoryTypeIndex = static_cast<uint32_t>(memory_type);
  if ((r = vk().vkAllocateMemory(c.device, &ai, nullptr, &b.memory)) != VK_SUCCESS) {
    free_buffer(c, b);
    return fail_vk(r, "importing host memory (VK_EXT_external_memory_host)");
  }
  if ((r = vk().vkBindBufferMemory(c.device, b.buffer, b.memory, 0)) != VK_SUCCESS) {
    free_buffer(c, b);
    return fail_vk(r, "binding imported host memory");
  }
  b.capacity = bytes;
  *how = "imported into memory type " + std::to_string(memory_type) + " (" + memory_flags(flags) + ")";
  if (!env_on("DQ_VULKAN_IMPORT_NO_CHECK")) {
    if (std::string bad = check_import(c, static_cast<const uint8_t *>(ptr), bytes, b.buffer); !bad.empty()) {
      free_buffer(c, b);
      static std::once_flag warned;
      std::call_once(warned, [&] {
        std::fprintf(stderr,
                     "dq-vulkan: warning: %s: host memory imported through VK_EXT_external_memory_host read back "
                     "wrong (%s); copies from such registrations are staged\n",
                     c.driver.c_str(), bad.c_str());
      });
      *how += ", which failed its check (" + bad + ")";
      return DQ_OK;
    }
    *how += ", checked";
  }
  *out = b;
  return DQ_OK;
}

// Segment i of `a`: its bytes (whole words, so the shaders may read the last one).
uint64_t segment_size(const DeviceContext &c, const DeviceAllocation &a, size_t i) {
  return (std::min<uint64_t>(c.segment_bytes, a.bytes - i * c.segment_bytes) + 3) & ~uint64_t{3};
}

// The first segment of `a` now, the others on up to ctx->alloc_threads background threads
// (a.segments keeps its storage, which the workers write, until the allocation is freed).
int32_t alloc_segments_async(DeviceContext &c, DeviceAllocation &a) {
  const size_t n = static_cast<size_t>((a.bytes + c.segment_bytes - 1) / c.segment_bytes);
  a.segments.assign(n, MappedBuffer{});
  if (int32_t st = alloc_buffer(c, a.segments[0], segment_size(c, a, 0), c.device_memory_type, "device allocation");
      st != DQ_OK) {
    a.segments.clear();
    return st;
  }
  auto pending = std::make_shared<Pending>();
  pending->state.assign(n, Pending::allocating);
  pending->state[0] = Pending::ready;
  auto next = std::make_shared<std::atomic<size_t>>(1);
  MappedBuffer *segments = a.segments.data();
  std::vector<uint64_t> sizes(n);
  for (size_t i = 0; i < n; ++i) sizes[i] = segment_size(c, a, i);
  // Tests: the background allocation of this segment fails (the device's out-of-memory path).
  const char *fail_env = std::getenv("DQ_VULKAN_TEST_FAIL_SEGMENT");
  const size_t fail_at = fail_env && *fail_env ? std::strtoull(fail_env, nullptr, 10) : 0;
  auto work = [&c, pending, next, segments, sizes, fail_at] {
    for (size_t i; (i = next->fetch_add(1)) < sizes.size();) {
      const int32_t st = i == fail_at ? fail(DQ_ERR_OUT_OF_MEMORY, "vkAllocateMemory: out of device memory (simulated "
                                                                   "by DQ_VULKAN_TEST_FAIL_SEGMENT)")
                                      : alloc_buffer(c, segments[i], sizes[i], c.device_memory_type, "device allocation");
      std::lock_guard<std::mutex> lock(pending->mutex);
      pending->state[i] = st == DQ_OK ? Pending::ready : Pending::failed;
      if (st != DQ_OK && pending->status == DQ_OK) {
        pending->status = st;
        pending->message = "segment " + std::to_string(i) + " (allocated in the background): " + last_error_text();
      }
      pending->changed.notify_all();
    }
  };
  const size_t threads = std::min<size_t>(n - 1, std::max<uint32_t>(1, c.alloc_threads));
  for (size_t t = 0; t < threads; ++t) {
    try {
      pending->workers.emplace_back(work);
    } catch (const std::system_error &) {
      if (pending->workers.empty()) work();  // no thread at all: allocate them here
      break;
    }
  }
  a.pending = std::move(pending);
  return DQ_OK;
}

// The segments of `a` (memory of its own), several at once over up to ctx->alloc_threads
// threads: the driver's cost grows with the bytes (page mapping), and a loader arena of many
// GB is several segments. DQ_OK, or the first failure (message set) with nothing left.
int32_t alloc_segments(DeviceContext &c, DeviceAllocation &a) {
  const size_t n = static_cast<size_t>((a.bytes + c.segment_bytes - 1) / c.segment_bytes);
  a.segments.assign(n, MappedBuffer{});
  std::vector<int32_t> status(n, DQ_OK);
  std::vector<std::string> message(n);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      const uint64_t done = i * c.segment_bytes;
      // Whole words, so the shaders may read the last one.
      const uint64_t seg = (std::min<uint64_t>(c.segment_bytes, a.bytes - done) + 3) & ~uint64_t{3};
      status[i] = alloc_buffer(c, a.segments[i], seg, c.device_memory_type, "device allocation");
      if (status[i] != DQ_OK) message[i] = last_error_text();  // the worker's own message
    }
  };
  const size_t threads = std::min<size_t>(n, std::max<uint32_t>(1, c.alloc_threads));
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error &) {
      break;  // no thread: this one does the rest
    }
  }
  work();
  for (auto &t : helpers) t.join();
  for (size_t i = 0; i < n; ++i)
    if (status[i] != DQ_OK) {
      for (auto &b : a.segments) free_buffer(c, b);
      a.segments.clear();
      return fail(status[i], message[i]);
    }
  return DQ_OK;
}

// DQ_LOG=debug: where a device allocation landed (memory type, heap, flags, block or
// segments), so a slow buffer in a benchmark can be traced to its memory.
void log_allocation(const DeviceContext &c, const DeviceAllocation &a, uintptr_t address) {
  const char *level = std::getenv("DQ_LOG");
  if (!level || std::strcmp(level, "debug") != 0) return;
  VkPhysicalDeviceMemoryProperties mp{};
  vk().vkGetPhysicalDeviceMemoryProperties(c.physical, &mp);
  const uint32_t type = c.device_memory_type;
  const bool known = type < mp.memoryTypeCount;
  const uint32_t heap = known ? mp.memoryTypes[type].heapIndex : 0;
  const VkMemoryPropertyFlags flags = known ? mp.memoryTypes[type].propertyFlags : 0;
  const VkMemoryHeapFlags heap_flags = heap < mp.memoryHeapCount ? mp.memoryHeaps[heap].flags : 0;
  char where[160];
  if (a.block)
    std::snprintf(where, sizeof where, "block %p (%llu B) at offset %llu", static_cast<const void *>(a.block),
                  static_cast<unsigned long long>(a.block->bytes), static_cast<unsigned long long>(a.block_offset));
  else
    std::snprintf(where, sizeof where, "own memory, %zu segment(s) of up to %llu B%s", a.segments.size(),
                  static_cast<unsigned long long>(c.segment_bytes), a.pending ? ", allocated in the background" : "");
  std::fprintf(stderr,
               "dq-vulkan: debug: mem_alloc %zu B at 0x%llx: memory type %u (%s), heap %u (%llu B%s), %s\n",
               static_cast<size_t>(a.bytes), static_cast<unsigned long long>(address), type,
               memory_flags(flags).c_str(), heap,
               static_cast<unsigned long long>(heap < mp.memoryHeapCount ? mp.memoryHeaps[heap].size : 0),
               (heap_flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? ", device-local" : ", not device-local", where);
}

}  // namespace

bool is_device_address(const void *p) { return reinterpret_cast<uintptr_t>(p) >= kDeviceBase; }

int32_t mem_alloc(int32_t device, size_t bytes, void **out) {
  if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_alloc: null out");
  *out = nullptr;
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "mem_alloc", &c); st != DQ_OK) return st;
  if (bytes == 0) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_alloc: zero bytes");
  if (bytes > c->device_heap_bytes)
    return fail(DQ_ERR_OUT_OF_MEMORY, "mem_alloc: " + std::to_string(bytes) + " bytes exceed the device's " +
                                          std::to_string(c->device_heap_bytes) + "-byte memory heap");
  DeviceAllocation a;
  a.ctx = c;
  a.bytes = bytes;
  if (bytes > c->block_bytes || !place_in_block(*c, a)) {
    const bool several = bytes > c->segment_bytes;
    auto allocate = [&] { return c->async_alloc && several ? alloc_segments_async(*c, a) : alloc_segments(*c, a); };
    int32_t st = allocate();
    if (st == DQ_ERR_OUT_OF_MEMORY) {  // empty blocks held for reuse: give them back, try again
      std::vector<std::unique_ptr<Block>> empty;
      {
        std::lock_guard<std::mutex> lock(g_mutex);
        empty = take_empty_blocks_locked(*c);
      }
      if (!empty.empty()) {
        free_blocks(std::move(empty));
        st = allocate();
      }
    }
    if (st != DQ_OK) return st;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  const uintptr_t base = g_next_address;
  g_next_address += (bytes + 2 * kDeviceAlignment - 1) & ~(kDeviceAlignment - 1);
  log_allocation(*c, a, base);
  g_device.emplace(base, std::move(a));
  *out = reinterpret_cast<void *>(base);
  return ok();
}

int32_t mem_free(int32_t device, void *ptr) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "mem_free", &c); st != DQ_OK) return st;
  if (!ptr) return ok();
  DeviceAllocation a;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_device.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == g_device.end() || it->second.ctx != c)
      return fail(DQ_ERR_INVALID_ARGUMENT, "mem_free: " + hex(ptr) + " is not an allocation of vulkan device " +
                                               std::to_string(device));
    a = std::move(it->second);
    g_device.erase(it);
  }
  if (a.pending) a.pending->join();  // background segments finish before they are freed
  // Queued work may still use it (as cudaFree, the free waits for the device).
  const int32_t st = drain_streams(*c);
  free_allocation(a);
  return st == DQ_OK ? ok() : st;
}

int32_t mem_in_use(int32_t device, uint64_t *allocations, uint64_t *bytes) {
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "mem_in_use", &c); st != DQ_OK) return st;
  if (!allocations || !bytes) return fail(DQ_ERR_INVALID_ARGUMENT, "mem_in_use: null out");
  std::lock_guard<std::mutex> lock(g_mutex);
  *allocations = *bytes = 0;
  for (const auto &[base, a] : g_device)
    if (a.ctx == c) ++*allocations, *bytes += a.bytes;
  return ok();
}

int32_t host_alloc_pinned(size_t bytes, void **out) {
  if (!out) return fail(DQ_ERR_INVALID_ARGUMENT, "host_alloc_pinned: null out");
  *out = nullptr;
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(0, "host_alloc_pinned", &c); st != DQ_OK) return st;
  if (bytes == 0) return fail(DQ_ERR_INVALID_ARGUMENT, "host_alloc_pinned: zero bytes");
  if (bytes > c->max_allocation)
    return fail(DQ_ERR_OUT_OF_MEMORY, "host_alloc_pinned: " + std::to_string(bytes) +
                                          " bytes exceed the device's maxMemoryAllocationSize (" +
                                          std::to_string(c->max_allocation) + ")");
  HostRange r;
  r.ctx = c;
  r.bytes = bytes;
  r.owned = true;
  if (int32_t st = alloc_buffer(*c, r.buffer, (bytes + 3) & ~size_t{3}, c->pinned_memory_type, "pinned host memory");
      st != DQ_OK)
    return st;
  std::lock_guard<std::mutex> lock(g_mutex);
  *out = r.buffer.mapped;
  g_host.emplace(reinterpret_cast<uintptr_t>(r.buffer.mapped), r);
  return ok();
}

int32_t host_free_pinned(void *ptr) {
  if (!ptr) return ok();
  HostRange r;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_host.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == g_host.end() || !it->second.owned)
      return fail(DQ_ERR_INVALID_ARGUMENT, "host_free_pinned: " + hex(ptr) + " was not allocated by host_alloc_pinned");
    r = it->second;
    g_host.erase(it);
  }
  wait_for_leases(r);
  const int32_t st = drain_streams(*r.ctx);
  free_host_range(r);
  return st == DQ_OK ? ok() : st;
}

int32_t host_register(void *ptr, size_t bytes, uint32_t, void **handle) {
  if (!handle) return fail(DQ_ERR_INVALID_ARGUMENT, "host_register: null handle");
  *handle = nullptr;
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(0, "host_register", &c); st != DQ_OK) return st;
  const auto addr = reinterpret_cast<uintptr_t>(ptr);
  if (!ptr || bytes == 0) return fail(DQ_ERR_INVALID_ARGUMENT, "host_register: null pointer or zero bytes");
  HostRange r;
  r.ctx = c;
  r.bytes = bytes;
  // Imported where the device can; elsewhere copies from the range are staged.
  std::string how;
  if (!c->host_import)
    how = "no VK_EXT_external_memory_host";
  else if (addr % c->import_alignment != 0 || bytes % c->import_alignment != 0)
    how = "not aligned to minImportedHostPointerAlignment " + std::to_string(c->import_alignment);
  else if (bytes > c->max_allocation)
    how = "larger than maxMemoryAllocationSize";
  else if (int32_t st = import_host(*c, ptr, bytes, &r.buffer, &how); st != DQ_OK) {
    if (import_trace())
      std::fprintf(stderr, "dq-vulkan: host_register %p + %zu bytes [%s]: import failed: %s\n", ptr, bytes,
                   mapping_of(addr).c_str(), last_error_text());
    return st;
  }
  if (import_trace())
    std::fprintf(stderr, "dq-vulkan: host_register %p + %zu bytes [%s]: %s%s\n", ptr, bytes, mapping_of(addr).c_str(),
                 r.buffer.buffer ? "" : "copies staged: ", how.c_str());
  std::lock_guard<std::mutex> lock(g_mutex);
  if (containing(g_host, addr) != g_host.end() || containing(g_host, addr + bytes - 1) != g_host.end()) {
    free_host_range(r);
    return fail(DQ_ERR_INVALID_ARGUMENT, "host_register: " + hex(ptr) + " overlaps registered or pinned memory");
  }
  g_host.emplace(addr, r);
  *handle = ptr;
  return ok();
}

int32_t host_unregister(void *handle) {
  HostRange r;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_host.find(reinterpret_cast<uintptr_t>(handle));
    if (!handle || it == g_host.end() || it->second.owned)
      return fail(DQ_ERR_INVALID_ARGUMENT, "host_unregister: " + hex(handle) + " is not a registration");
    r = it->second;
    g_host.erase(it);
  }
  // Copies resolved before the erase are queued before the drain, so the drain covers them.
  wait_for_leases(r);
  const int32_t st = drain_streams(*r.ctx);
  free_host_range(r);
  return st == DQ_OK ? ok() : st;
}

int32_t resolve_device(DeviceContext &c, const void *p, uint64_t bytes, const char *what,
                       std::vector<BufferSpan> *out) {
  out->clear();
  const auto addr = reinterpret_cast<uintptr_t>(p);
  for (;;) {
    std::shared_ptr<Pending> wait_on;  // a segment the range needs is still being allocated
    size_t needed = 0;
    {
      std::lock_guard<std::mutex> lock(g_mutex);
      auto it = containing(g_device, addr);
      if (it == g_device.end() || it->second.ctx != &c)
        return fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": " + hex(p) + " is not memory of vulkan device " +
                                                 std::to_string(c.index));
      const DeviceAllocation &a = it->second;
      uint64_t off = addr - it->first;
      if (bytes > a.bytes - off)
        return fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": " + std::to_string(bytes) + " bytes at " + hex(p) +
                                                 " run past the end of its " + std::to_string(a.bytes) +
                                                 "-byte allocation");
      if (a.block) {  // inside one block, which lies inside one segment
        if (bytes > 0) out->push_back({a.block->buffer.buffer, a.block_offset + off, bytes});
        return DQ_OK;
      }
      if (a.pending && bytes > 0) {
        std::lock_guard<std::mutex> plock(a.pending->mutex);
        for (size_t k = off / c.segment_bytes; k <= (off + bytes - 1) / c.segment_bytes; ++k) {
          if (a.pending->state[k] == Pending::failed)
            return fail(a.pending->status, std::string(what) + ": the allocation at " + hex(reinterpret_cast<void *>(it->first)) +
                                               " is unusable: " + a.pending->message);
          if (a.pending->state[k] == Pending::allocating) {
            wait_on = a.pending, needed = k;
            break;
          }
        }
      }
      if (!wait_on) {
        while (bytes > 0) {
          const size_t seg = static_cast<size_t>(off / c.segment_bytes);
          const uint64_t in_seg = off % c.segment_bytes;
          const uint64_t n = std::min<uint64_t>(bytes, c.segment_bytes - in_seg);
          out->push_back({a.segments[seg].buffer, in_seg, n});
          off += n;
          bytes -= n;
        }
        return DQ_OK;
      }
    }
    // Outside g_mutex: the workers only take the allocation's own mutex.
    std::unique_lock<std::mutex> plock(wait_on->mutex);
    wait_on->changed.wait(plock, [&] { return wait_on->state[needed] != Pending::allocating; });
  }
}

bool resolve_host(DeviceContext &c, const void *p, uint64_t bytes, BufferSpan *out, HostLease *lease) {
  const auto addr = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = containing(g_host, addr);
  if (it == g_host.end() || it->second.ctx != &c || !it->second.buffer.buffer) return false;
  const uint64_t off = addr - it->first;
  if (bytes > it->second.bytes - off) return false;
  *out = {it->second.buffer.buffer, off, bytes};
  if (lease) {
    lease->release();
    std::lock_guard<std::mutex> guard_lock(it->second.guard->mutex);
    ++it->second.guard->leases;
    lease->guard_ = it->second.guard;
  }
  return true;
}

void memory_shutdown() {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto &[base, a] : g_device)  // the workers take no lock of ours
    if (a.pending) a.pending->join();
  for (auto &[base, a] : g_device) {
    for (auto &seg : a.segments) free_buffer(*a.ctx, seg);
    a.block = nullptr;  // the blocks go below
  }
  for (auto &[addr, r] : g_host) free_host_range(r);
  for (auto &b : g_blocks) free_buffer(*b->ctx, b->buffer);
  g_device.clear();
  g_host.clear();
  g_blocks.clear();
}

}  // namespace dq::vulkan
