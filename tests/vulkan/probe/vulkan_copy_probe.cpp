// dq_vulkan_copy_probe: what a device-to-device copy reaches on a Vulkan device, and where the
// plugin's mem_copy loses against it (issue 15: the reference of "vs copy" must be the card's
// rate, not the plugin's path). One run prints, for every queue family of the first GPU (the
// first device when there is none):
//   copy1   one vkCmdCopyBuffer in one command buffer, timestamps inside that command buffer
//   copy4   four copies with a full barrier between them in one command buffer (per copy)
//   sub4    four submissions of one copy each, with the plugin's leading/trailing full
//           barriers, timestamps in their own submissions before and after (per copy): what
//           the plugin's per-call submissions cost on the device
//   shader  a compute-shader copy, one uvec4 per invocation (the "SM copy"), compute families
// and then the plugin's own mem_copy as `dq bench` times it (4 calls between two event_record
// on one stream), with the host time per call. GB/s count bytes read + written (2 x size),
// as dq bench's copy column does. Exit status 0 when every measurement ran and the shader
// copy's bytes were checked, 1 otherwise; "skip" with the reason when there is no device.
//
// It opens the Vulkan loader the way the plugin does (plugins/vulkan/loader.cpp, dlopen) and
// makes its own VkDevice with one queue of every family; the plugin part loads libdq-vulkan.so
// (--plugin) through the plugin ABI after that device is gone.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "dq/dq_plugin.h"
#include "loader.hpp"
#include "vk_objects.hpp"

namespace dq::vulkan::shaders {
extern const uint32_t copy_probe_spv[];
extern const size_t copy_probe_spv_words;
}  // namespace dq::vulkan::shaders

namespace {

using dq::vulkan::vk;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<uint64_t> sizes{uint64_t{256} << 20, uint64_t{1} << 30};
  int repeat = 5;
  std::string plugin;
  // mem_alloc timing: like the loader's outputs of the 2 GB bench model (7.2 GB in all).
  uint64_t alloc_count = 200, alloc_bytes = uint64_t{36} << 20;
};

bool g_failed = false;
// vkFreeDescriptorSets is not in the plugin's table (loader.hpp); resolved per device.
PFN_vkFreeDescriptorSets g_free_sets = nullptr;

#define CHECK_VK(expr)                                                                   \
  do {                                                                                   \
    const VkResult r_ = (expr);                                                          \
    if (r_ != VK_SUCCESS) {                                                              \
      std::printf("probe: %s failed: VkResult %d (line %d)\n", #expr, int(r_), __LINE__); \
      g_failed = true;                                                                   \
      return false;                                                                      \
    }                                                                                    \
  } while (0)

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double gbs(uint64_t bytes, double seconds) { return seconds > 0 ? 2.0 * double(bytes) / seconds / 1e9 : 0; }

std::string family_flags(VkQueueFlags f) {
  std::string s;
  if (f & VK_QUEUE_GRAPHICS_BIT) s += "graphics+";
  if (f & VK_QUEUE_COMPUTE_BIT) s += "compute+";
  if (f & VK_QUEUE_TRANSFER_BIT) s += "transfer+";
  if (f & VK_QUEUE_SPARSE_BINDING_BIT) s += "sparse+";
  if (s.empty()) return "other";
  s.pop_back();
  return s;
}

using Buffer = dq::vulkan::BoundBuffer;

struct Probe {
  VkInstance instance = VK_NULL_HANDLE;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  VkPhysicalDeviceProperties props{};
  std::vector<VkQueueFamilyProperties> families;
  VkDevice device = VK_NULL_HANDLE;
  std::vector<VkQueue> queues;  // one per family
  uint32_t device_type = 0, host_type = 0;
  Buffer src, dst;
  uint64_t capacity = 0;
  VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
  VkPipelineLayout pipeline_layout = VK_NULL_HANDLE;
  VkPipeline pipeline = VK_NULL_HANDLE;
  VkDescriptorPool descriptor_pool = VK_NULL_HANDLE;

  ~Probe() {
    if (device) {
      vk().vkDeviceWaitIdle(device);
      for (Buffer *b : {&src, &dst}) free(*b);
      if (pipeline) vk().vkDestroyPipeline(device, pipeline, nullptr);
      if (pipeline_layout) vk().vkDestroyPipelineLayout(device, pipeline_layout, nullptr);
      if (set_layout) vk().vkDestroyDescriptorSetLayout(device, set_layout, nullptr);
      if (descriptor_pool) vk().vkDestroyDescriptorPool(device, descriptor_pool, nullptr);
      vk().vkDestroyDevice(device, nullptr);
    }
    if (instance) vk().vkDestroyInstance(instance, nullptr);
  }

  // A family that can copy (video and optical-flow families get no queue).
  bool copies(uint32_t f) const {
    return families[f].queueFlags & (VK_QUEUE_TRANSFER_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT);
  }

  void free(Buffer &b) { dq::vulkan::destroy_bound_buffer(device, &b); }

  bool alloc(Buffer &b, uint64_t bytes, uint32_t type) {
    std::vector<uint32_t> fams;  // every family that copies uses it
    for (uint32_t i = 0; i < families.size(); ++i)
      if (copies(i)) fams.push_back(i);
    dq::vulkan::BufferStep failed{};
    return dq::vulkan::create_bound_buffer(device, bytes, type, type == host_type, fams.data(),
                                           static_cast<uint32_t>(fams.size()), &b, &failed) == VK_SUCCESS;
  }

  bool init() {
    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "dq_vulkan_copy_probe";
    app.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo ci{};
    ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    ci.pApplicationInfo = &app;
    CHECK_VK(vk().vkCreateInstance(&ci, nullptr, &instance));
    if (std::string why = dq::vulkan::load_instance_functions(instance); !why.empty()) {
      std::printf("probe: %s\n", why.c_str());
      return g_failed = true, false;
    }
    uint32_t n = 0;
    vk().vkEnumeratePhysicalDevices(instance, &n, nullptr);
    std::vector<VkPhysicalDevice> phys(n);
    if (n) vk().vkEnumeratePhysicalDevices(instance, &n, phys.data());
    for (VkPhysicalDevice p : phys) {
      VkPhysicalDeviceProperties pr{};
      vk().vkGetPhysicalDeviceProperties(p, &pr);
      const bool gpu = pr.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU;
      if (!physical || (gpu && props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU)) physical = p, props = pr;
    }
    if (!physical) return false;
    std::printf("device: %s (Vulkan %u.%u.%u), timestampPeriod %.3f ns, maxStorageBufferRange %u\n", props.deviceName,
                VK_API_VERSION_MAJOR(props.apiVersion), VK_API_VERSION_MINOR(props.apiVersion),
                VK_API_VERSION_PATCH(props.apiVersion), props.limits.timestampPeriod,
                props.limits.maxStorageBufferRange);
    uint32_t nq = 0;
    vk().vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, nullptr);
    families.resize(nq);
    vk().vkGetPhysicalDeviceQueueFamilyProperties(physical, &nq, families.data());
    uint32_t plugin_family = UINT32_MAX;
    for (uint32_t i = 0; i < nq; ++i)
      if (plugin_family == UINT32_MAX && (families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) plugin_family = i;
    for (uint32_t i = 0; i < nq; ++i)
      std::printf("queue family %u: %s, %u queues, timestampValidBits %u%s\n", i,
                  family_flags(families[i].queueFlags).c_str(), families[i].queueCount,
                  families[i].timestampValidBits, i == plugin_family ? "  <- the plugin's streams" : "");

    VkPhysicalDeviceMemoryProperties mp{};
    vk().vkGetPhysicalDeviceMemoryProperties(physical, &mp);
    int dev = -1, host = -1;
    const VkMemoryPropertyFlags visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t t = 0; t < mp.memoryTypeCount; ++t) {
      const VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
      std::printf("memory type %u: heap %u (%.1f GiB), flags 0x%x\n", t, mp.memoryTypes[t].heapIndex,
                  double(mp.memoryHeaps[mp.memoryTypes[t].heapIndex].size) / double(1ull << 30), unsigned(f));
      // The plugin's rule (devices.cpp): device-local, off the host-visible heap where possible.
      if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
          (dev < 0 || ((mp.memoryTypes[dev].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                       !(f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT))))
        dev = static_cast<int>(t);
      if ((f & visible) == visible && host < 0) host = static_cast<int>(t);
    }
    if (host < 0) return std::printf("probe: no host-visible coherent memory\n"), g_failed = true, false;
    device_type = static_cast<uint32_t>(dev >= 0 ? dev : host);
    host_type = static_cast<uint32_t>(host);
    std::printf("device memory: type %u; host-visible: type %u\n", device_type, host_type);

    std::vector<VkDeviceQueueCreateInfo> qis;
    const float priority = 1.0f;
    for (uint32_t i = 0; i < nq; ++i) {
      if (!copies(i)) continue;
      VkDeviceQueueCreateInfo qi{};
      qi.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
      qi.queueFamilyIndex = i;
      qi.queueCount = 1;
      qi.pQueuePriorities = &priority;
      qis.push_back(qi);
    }
    VkDeviceCreateInfo di{};
    di.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
    di.queueCreateInfoCount = static_cast<uint32_t>(qis.size());
    di.pQueueCreateInfos = qis.data();
    CHECK_VK(vk().vkCreateDevice(physical, &di, nullptr, &device));
    queues.assign(nq, VK_NULL_HANDLE);
    for (uint32_t i = 0; i < nq; ++i)
      if (copies(i)) vk().vkGetDeviceQueue(device, i, 0, &queues[i]);
    return create_pipeline();
  }

  bool create_pipeline() {
    CHECK_VK(dq::vulkan::create_storage_set_layout(device, 2, &set_layout));
    CHECK_VK(dq::vulkan::create_compute_pipeline_layout(device, set_layout, 4, &pipeline_layout));
    const char *failed_call = nullptr;
    CHECK_VK(dq::vulkan::create_compute_pipeline(device, dq::vulkan::shaders::copy_probe_spv,
                                                 dq::vulkan::shaders::copy_probe_spv_words, pipeline_layout, nullptr,
                                                 &pipeline, &failed_call));
    CHECK_VK(dq::vulkan::create_storage_pool(device, 256, 2, VK_DESCRIPTOR_POOL_CREATE_FREE_DESCRIPTOR_SET_BIT,
                                             &descriptor_pool));
    return true;
  }

  // Records the shader copy of `bytes` from a to b: one dispatch per maxStorageBufferRange.
  bool record_shader_copy(VkCommandBuffer cb, const Buffer &a, const Buffer &b, uint64_t bytes,
                          std::vector<VkDescriptorSet> *sets) {
    const uint64_t range = std::min<uint64_t>(props.limits.maxStorageBufferRange, uint64_t{1} << 30) / 256 * 256;
    vk().vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline);
    for (uint64_t at = 0; at < bytes; at += range) {
      const uint64_t n = std::min(range, bytes - at);
      const VkDescriptorBufferInfo info[2] = {{a.buffer, at, n}, {b.buffer, at, n}};
      VkDescriptorSet set = VK_NULL_HANDLE;
      CHECK_VK(dq::vulkan::allocate_storage_set(device, descriptor_pool, set_layout, info, 2, &set));
      sets->push_back(set);
      vk().vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline_layout, 0, 1, &set, 0, nullptr);
      const uint32_t n_vec4 = static_cast<uint32_t>(n / 16);
      vk().vkCmdPushConstants(cb, pipeline_layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, 4, &n_vec4);
      const uint64_t groups = std::min<uint64_t>({(n_vec4 + 255) / 256, props.limits.maxComputeWorkGroupCount[0],
                                                  uint64_t{1} << 20});
      vk().vkCmdDispatch(cb, static_cast<uint32_t>(std::max<uint64_t>(groups, 1)), 1, 1);
    }
    return true;
  }

  void free_sets(std::vector<VkDescriptorSet> &sets) {
    if (!sets.empty() && g_free_sets)
      g_free_sets(device, descriptor_pool, static_cast<uint32_t>(sets.size()), sets.data());
    sets.clear();
  }
};

void full_barrier(VkCommandBuffer cb) {
  VkMemoryBarrier mb{};
  mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
  mb.srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT;
  mb.dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT;
  vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0,
                            nullptr, 0, nullptr);
}

// Command buffers, a fence and timestamps on one queue family.
struct FamilyRun {
  Probe &p;
  uint32_t family;
  VkCommandPool pool = VK_NULL_HANDLE;
  std::vector<VkCommandBuffer> cbs;
  VkQueryPool queries = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;

  FamilyRun(Probe &probe, uint32_t f) : p(probe), family(f) {}
  ~FamilyRun() {
    if (fence) vk().vkDestroyFence(p.device, fence, nullptr);
    if (queries) vk().vkDestroyQueryPool(p.device, queries, nullptr);
    if (pool) vk().vkDestroyCommandPool(p.device, pool, nullptr);
  }

  bool init() {
    VkCommandPoolCreateInfo cp{};
    cp.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO;
    cp.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    cp.queueFamilyIndex = family;
    CHECK_VK(vk().vkCreateCommandPool(p.device, &cp, nullptr, &pool));
    cbs.resize(6);
    VkCommandBufferAllocateInfo ca{};
    ca.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO;
    ca.commandPool = pool;
    ca.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ca.commandBufferCount = 6;
    CHECK_VK(vk().vkAllocateCommandBuffers(p.device, &ca, cbs.data()));
    VkQueryPoolCreateInfo qi{};
    qi.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO;
    qi.queryType = VK_QUERY_TYPE_TIMESTAMP;
    qi.queryCount = 2;
    CHECK_VK(vk().vkCreateQueryPool(p.device, &qi, nullptr, &queries));
    VkFenceCreateInfo fi{};
    fi.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO;
    CHECK_VK(vk().vkCreateFence(p.device, &fi, nullptr, &fence));
    return true;
  }

  // Records cbs[i] with `body` (which gets the command buffer).
  template <class F>
  bool record(size_t i, F body) {
    VkCommandBuffer cb = cbs[i];
    CHECK_VK(vk().vkResetCommandBuffer(cb, 0));
    VkCommandBufferBeginInfo bi{};
    bi.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO;
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    CHECK_VK(vk().vkBeginCommandBuffer(cb, &bi));
    if (!body(cb)) return false;
    CHECK_VK(vk().vkEndCommandBuffer(cb));
    return true;
  }

  // Submits cbs[0..n) as n submissions (in queue order), waits, returns the seconds between
  // the two timestamps.
  bool run(size_t n, double *seconds) {
    std::vector<VkSubmitInfo> si(n);
    for (size_t i = 0; i < n; ++i) {
      si[i] = VkSubmitInfo{};
      si[i].sType = VK_STRUCTURE_TYPE_SUBMIT_INFO;
      si[i].commandBufferCount = 1;
      si[i].pCommandBuffers = &cbs[i];
    }
    CHECK_VK(vk().vkResetFences(p.device, 1, &fence));
    CHECK_VK(vk().vkQueueSubmit(p.queues[family], static_cast<uint32_t>(n), si.data(), fence));
    CHECK_VK(vk().vkWaitForFences(p.device, 1, &fence, VK_TRUE, UINT64_MAX));
    uint64_t t[2] = {0, 0};
    CHECK_VK(vk().vkGetQueryPoolResults(p.device, queries, 0, 2, sizeof t, t, sizeof(uint64_t),
                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    const uint32_t bits = p.families[family].timestampValidBits;
    const uint64_t mask = bits >= 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1;
    *seconds = double((t[1] - t[0]) & mask) * p.props.limits.timestampPeriod / 1e9;
    return true;
  }

  void stamp(VkCommandBuffer cb, uint32_t q, bool reset) {
    if (reset) vk().vkCmdResetQueryPool(cb, queries, 0, 2);
    vk().vkCmdWriteTimestamp(cb, q == 0 ? VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT : VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT,
                             queries, q);
  }

  void copy(VkCommandBuffer cb, bool forward, uint64_t bytes) {
    VkBufferCopy r{0, 0, bytes};
    vk().vkCmdCopyBuffer(cb, forward ? p.src.buffer : p.dst.buffer, forward ? p.dst.buffer : p.src.buffer, 1, &r);
  }

  // Median seconds per copy of `variant` for `bytes` (a warm-up first).
  bool measure(const char *variant, uint64_t bytes, int repeat, double *per_copy) {
    std::vector<double> runs;
    const bool compute = p.families[family].queueFlags & VK_QUEUE_COMPUTE_BIT;
    std::vector<VkDescriptorSet> sets;
    for (int r = 0; r <= repeat; ++r) {
      size_t submissions = 1;
      int copies = 1;
      bool ok = true;
      if (!std::strcmp(variant, "copy1")) {
        ok = record(0, [&](VkCommandBuffer cb) {
          stamp(cb, 0, true);
          copy(cb, true, bytes);
          stamp(cb, 1, false);
          return true;
        });
      } else if (!std::strcmp(variant, "copy4")) {
        copies = 4;
        ok = record(0, [&](VkCommandBuffer cb) {
          stamp(cb, 0, true);
          for (int c = 0; c < 4; ++c) {
            if (c) full_barrier(cb);
            copy(cb, c % 2 == 0, bytes);
          }
          stamp(cb, 1, false);
          return true;
        });
      } else if (!std::strcmp(variant, "sub4")) {
        copies = 4, submissions = 6;
        ok = record(0, [&](VkCommandBuffer cb) {
          full_barrier(cb);
          stamp(cb, 0, true);
          return true;
        });
        for (size_t c = 0; c < 4 && ok; ++c)
          ok = record(1 + c, [&](VkCommandBuffer cb) {
            full_barrier(cb);
            copy(cb, c % 2 == 0, bytes);
            full_barrier(cb);
            return true;
          });
        ok = ok && record(5, [&](VkCommandBuffer cb) {
          full_barrier(cb);
          stamp(cb, 1, false);
          return true;
        });
      } else if (!std::strcmp(variant, "shader") && compute) {
        ok = record(0, [&](VkCommandBuffer cb) {
          stamp(cb, 0, true);
          if (!p.record_shader_copy(cb, p.src, p.dst, bytes, &sets)) return false;
          stamp(cb, 1, false);
          return true;
        });
      } else {
        return false;
      }
      double s = 0;
      if (!ok || !run(submissions, &s)) return g_failed = true, false;
      p.free_sets(sets);
      if (r > 0) runs.push_back(s / copies);
    }
    *per_copy = median(runs);
    return true;
  }
};

// The shader copy's bytes, checked once in host-visible memory (1 MiB + 16 bytes).
bool check_shader_copy(Probe &p, uint32_t family) {
  const uint64_t bytes = (1u << 20) + 16;
  Buffer a, b;
  if (!p.alloc(a, bytes, p.host_type) || !p.alloc(b, bytes, p.host_type)) {
    p.free(a), p.free(b);
    std::printf("probe: host-visible buffers for the shader check failed\n");
    return false;
  }
  auto *sa = static_cast<uint32_t *>(a.mapped);
  for (uint64_t i = 0; i < bytes / 4; ++i) sa[i] = static_cast<uint32_t>(i * 2654435761u);
  std::memset(b.mapped, 0, bytes);
  FamilyRun run(p, family);
  std::vector<VkDescriptorSet> sets;
  double s = 0;
  bool ok = run.init() && run.record(0, [&](VkCommandBuffer cb) {
    run.stamp(cb, 0, true);
    if (!p.record_shader_copy(cb, a, b, bytes, &sets)) return false;
    VkMemoryBarrier mb{};
    mb.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER;
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT;
    vk().vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0,
                              nullptr, 0, nullptr);
    run.stamp(cb, 1, false);
    return true;
  }) && run.run(1, &s);
  p.free_sets(sets);
  ok = ok && std::memcmp(a.mapped, b.mapped, bytes) == 0;
  p.free(a), p.free(b);
  std::printf("shader copy check (family %u, %" PRIu64 " bytes): %s\n", family, bytes, ok ? "identical" : "DIFFERS");
  return ok;
}

// vkAllocateMemory of the loader's output bytes (alloc_count x alloc_bytes, one arena in
// dq load) as 1, 8 and 32 pieces, the 32 also over 8 threads; then whether the first copy
// into fresh memory is slower than the second (pages mapped at first use).
bool measure_raw_alloc(Probe &p, const Options &o) {
  VkPhysicalDeviceMaintenance3Properties m3{};
  m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  VkPhysicalDeviceProperties2 p2{};
  p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  p2.pNext = &m3;
  vk().vkGetPhysicalDeviceProperties2(p.physical, &p2);
  const uint64_t total = o.alloc_count * o.alloc_bytes;
  std::printf("\nvkAllocateMemory of %" PRIu64 " bytes (device memory type %u; maxMemoryAllocationSize %" PRIu64
              "):\n", total, p.device_type, uint64_t(m3.maxMemoryAllocationSize));
  bool ok = true;
  for (int threads : {1, 8})
    for (uint64_t pieces : {uint64_t{1}, uint64_t{8}, uint64_t{32}}) {
      if (threads > 1 && pieces < 32) continue;
      const uint64_t piece = (total / pieces + 65535) / 65536 * 65536;
      if (piece > m3.maxMemoryAllocationSize) {
        std::printf("  %3" PRIu64 " x %12" PRIu64 ": over maxMemoryAllocationSize\n", pieces, piece);
        continue;
      }
      std::vector<VkDeviceMemory> mem(pieces, VK_NULL_HANDLE);
      std::vector<VkResult> res(pieces, VK_SUCCESS);
      auto work = [&](int t) {
        for (uint64_t i = static_cast<uint64_t>(t); i < pieces; i += static_cast<uint64_t>(threads)) {
          VkMemoryAllocateInfo ai{};
          ai.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO;
          ai.allocationSize = piece;
          ai.memoryTypeIndex = p.device_type;
          res[i] = vk().vkAllocateMemory(p.device, &ai, nullptr, &mem[i]);
        }
      };
      const auto t0 = Clock::now();
      if (threads == 1) {
        work(0);
      } else {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) pool.emplace_back(work, t);
        for (auto &t : pool) t.join();
      }
      const double alloc = std::chrono::duration<double>(Clock::now() - t0).count();
      const auto t1 = Clock::now();
      bool all = true;
      for (uint64_t i = 0; i < pieces; ++i) {
        all = all && res[i] == VK_SUCCESS;
        if (mem[i]) vk().vkFreeMemory(p.device, mem[i], nullptr);
      }
      const double freed = std::chrono::duration<double>(Clock::now() - t1).count();
      if (!all) {
        std::printf("  %3" PRIu64 " x %12" PRIu64 ": vkAllocateMemory failed\n", pieces, piece);
        continue;
      }
      std::printf("  %3" PRIu64 " x %12" PRIu64 " on %d thread%s: %8.2f ms (%6.1f GB/s), vkFreeMemory %7.2f ms\n",
                  pieces, piece, threads, threads > 1 ? "s" : " ", alloc * 1e3, double(pieces * piece) / alloc / 1e9,
                  freed * 1e3);
    }
  // First use of fresh memory: a copy into a new buffer, then the same copy again.
  const uint64_t bytes = std::min<uint64_t>(*std::max_element(o.sizes.begin(), o.sizes.end()), total);
  Buffer fresh;
  uint32_t family = 0;
  while (family < p.families.size() && !(p.families[family].queueFlags & VK_QUEUE_COMPUTE_BIT)) ++family;
  if (family == p.families.size() || p.families[family].timestampValidBits == 0) return ok;
  const auto t0 = Clock::now();
  if (!p.alloc(fresh, bytes, p.device_type)) return std::printf("  fresh buffer: allocation failed\n"), false;
  const double alloc = std::chrono::duration<double>(Clock::now() - t0).count();
  FamilyRun run(p, family);
  double first = 0, second = 0;
  ok = run.init();
  for (double *t : {&first, &second}) {
    ok = ok && run.record(0, [&](VkCommandBuffer cb) {
      run.stamp(cb, 0, true);
      VkBufferCopy r{0, 0, bytes};
      vk().vkCmdCopyBuffer(cb, p.src.buffer, fresh.buffer, 1, &r);
      run.stamp(cb, 1, false);
      return true;
    }) && run.run(1, t);
  }
  if (ok)
    std::printf("  fresh %" PRIu64 "-byte buffer: created+allocated+bound in %.2f ms; first copy into it %.1f GB/s, "
                "second %.1f GB/s\n", bytes, alloc * 1e3, gbs(bytes, first), gbs(bytes, second));
  p.free(fresh);
  return ok;
}

bool probe_raw(const Options &o) {
  if (std::string why = dq::vulkan::open_loader(); !why.empty()) {
    std::printf("skip: %s\n", why.c_str());
    return true;
  }
  bool ok = true;
  {
    Probe p;
    if (!p.init()) {
      if (!g_failed) std::printf("skip: no Vulkan device\n");
      return !g_failed;
    }
    g_free_sets = reinterpret_cast<PFN_vkFreeDescriptorSets>(vk().vkGetDeviceProcAddr(p.device, "vkFreeDescriptorSets"));
    const uint64_t largest = *std::max_element(o.sizes.begin(), o.sizes.end());
    if (!p.alloc(p.src, largest, p.device_type) || !p.alloc(p.dst, largest, p.device_type)) {
      std::printf("probe: two device buffers of %" PRIu64 " bytes could not be allocated\n", largest);
      return false;
    }
    for (uint32_t f = 0; f < p.families.size(); ++f)
      if ((p.families[f].queueFlags & VK_QUEUE_COMPUTE_BIT) && !check_shader_copy(p, f)) ok = false;
    if (!measure_raw_alloc(p, o)) ok = false;
    std::printf("\n%-7s %-26s %12s %10s %10s %10s %10s\n", "family", "kind", "bytes", "copy1", "copy4", "sub4",
                "shader");
    for (uint32_t f = 0; f < p.families.size(); ++f) {
      const VkQueueFlags flags = p.families[f].queueFlags;
      if (!(flags & (VK_QUEUE_TRANSFER_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_GRAPHICS_BIT))) continue;
      if (p.families[f].timestampValidBits == 0) {
        std::printf("%-7u %-26s no timestamps on this family\n", f, family_flags(flags).c_str());
        continue;
      }
      FamilyRun run(p, f);
      if (!run.init()) return false;
      for (uint64_t bytes : o.sizes) {
        std::printf("%-7u %-26s %12" PRIu64, f, family_flags(flags).c_str(), bytes);
        for (const char *variant : {"copy1", "copy4", "sub4", "shader"}) {
          double s = 0;
          if (!std::strcmp(variant, "shader") && !(flags & VK_QUEUE_COMPUTE_BIT)) {
            std::printf(" %10s", "-");
          } else if (run.measure(variant, bytes, o.repeat, &s)) {
            std::printf(" %10.1f", gbs(bytes, s));
          } else {
            std::printf(" %10s", "FAILED");
            ok = false;
          }
        }
        std::printf("   GB/s\n");
        std::fflush(stdout);
      }
    }
  }
  dq::vulkan::close_loader();
  return ok;
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The loader's per-tensor pattern, small enough that host and queue costs dominate: an upload
// from pinned memory on one stream, an event, a wait for it on a second stream, a copy there.
bool measure_ops(const dq_plugin_api *api) {
  const size_t bytes = 4096;
  const int iterations = 200;
  void *pinned = nullptr, *a = nullptr, *b = nullptr, *s1 = nullptr, *s2 = nullptr, *ev = nullptr;
  bool ok = api->host_alloc_pinned(bytes, &pinned) == DQ_OK && api->mem_alloc(0, bytes, &a) == DQ_OK &&
            api->mem_alloc(0, bytes, &b) == DQ_OK && api->stream_create(0, &s1) == DQ_OK &&
            api->stream_create(0, &s2) == DQ_OK && api->event_create(0, &ev) == DQ_OK;
  double host = 0, wall = 0;
  for (int round = 0; round < 2 && ok; ++round) {  // the first round warms up
    const auto t0 = Clock::now();
    for (int i = 0; i < iterations && ok; ++i)
      ok = api->mem_copy(0, a, pinned, bytes, DQ_COPY_HOST_TO_DEVICE, s1) == DQ_OK &&
           api->event_record(0, ev, s1) == DQ_OK && api->stream_wait_event(0, s2, ev) == DQ_OK &&
           api->mem_copy(0, b, a, bytes, DQ_COPY_DEVICE_TO_DEVICE, s2) == DQ_OK;
    host = since(t0);
    ok = ok && api->synchronize(0, nullptr) == DQ_OK;
    wall = since(t0);
  }
  if (ok)
    std::printf("\nplugin per-op: upload 4 KiB (stream 1), event_record, stream_wait_event (stream 2), copy: "
                "%.1f us host, %.1f us until done, per iteration of 4 calls\n",
                host / iterations * 1e6, wall / iterations * 1e6);
  else
    std::printf("plugin per-op: failed: %s\n", api->last_error());
  if (ev) api->event_destroy(0, ev);
  for (void *s : {s1, s2})
    if (s) api->stream_destroy(0, s);
  for (void *p : {a, b})
    if (p) api->mem_free(0, p);
  if (pinned) api->host_free_pinned(pinned);
  return ok;
}

// mem_alloc of `count` allocations of `bytes`, then mem_free of them.
bool measure_alloc(const dq_plugin_api *api, uint64_t count, uint64_t bytes, const char *how) {
  std::vector<void *> ptrs;
  bool ok = true;
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < count && ok; ++i) {
    void *p = nullptr;
    ok = api->mem_alloc(0, bytes, &p) == DQ_OK;
    if (ok) ptrs.push_back(p);
  }
  const double alloc = since(t0);
  // Until its last byte is usable (DQ_VULKAN_ASYNC_ALLOC returns before the last segment exists).
  const uint32_t word = 0;
  ok = ok && api->mem_copy(0, static_cast<uint8_t *>(ptrs.back()) + bytes - sizeof word, &word, sizeof word,
                           DQ_COPY_HOST_TO_DEVICE, nullptr) == DQ_OK;
  const double usable = since(t0);
  const auto t1 = Clock::now();
  for (void *p : ptrs) ok = api->mem_free(0, p) == DQ_OK && ok;
  const double freed = since(t1);
  if (ok)
    std::printf("plugin mem_alloc %4" PRIu64 " x %11" PRIu64 " bytes, %s: %8.2f ms (%6.1f GB/s), last byte usable "
                "at %8.2f ms, mem_free %7.2f ms\n",
                count, bytes, how, alloc * 1e3, double(count * bytes) / alloc / 1e9, usable * 1e3, freed * 1e3);
  else
    std::printf("plugin mem_alloc %" PRIu64 " x %" PRIu64 " bytes, %s: failed after %zu: %s\n", count, bytes, how,
                ptrs.size(), api->last_error());
  return ok;
}

// The loader's outputs as separate tensors and as the one arena dq load allocates, with the
// plugin's defaults and with one setting changed (the plugin re-initialized for each).
bool measure_allocs(const dq_plugin_api *api, const Options &o) {
  std::printf("\n");
  const uint64_t total = o.alloc_count * o.alloc_bytes;
  bool ok = measure_alloc(api, o.alloc_count, o.alloc_bytes, "defaults") &&
            measure_alloc(api, 1, total, "defaults (dq load's arena)");
  const char *variants[][2] = {{"DQ_VULKAN_BLOCK_BYTES", "0"},
                               {"DQ_VULKAN_ALLOC_THREADS", "1"},
                               {"DQ_VULKAN_ALLOC_THREADS", "16"},
                               {"DQ_VULKAN_SEGMENT_BYTES", "1073741824"},
                               {"DQ_VULKAN_SEGMENT_BYTES", "268435456"},
                               {"DQ_VULKAN_ASYNC_ALLOC", "1"}};
  for (const auto &v : variants) {
    if (std::getenv(v[0])) continue;  // the caller's setting stays
    api->shutdown();
    setenv(v[0], v[1], 1);
    const std::string how = std::string(v[0]) + "=" + v[1];
    if (api->init() != DQ_OK || api->device_count() < 1) {
      std::printf("plugin: re-init with %s failed\n", how.c_str());
      ok = false;
    } else {
      ok = measure_alloc(api, o.alloc_count, o.alloc_bytes, how.c_str()) && ok;
      ok = measure_alloc(api, 1, total, (how + " (arena)").c_str()) && ok;
    }
    unsetenv(v[0]);
  }
  return ok;
}

// The plugin's device-to-device mem_copy exactly as dq bench's time_events drives it.
bool measure_copies(const dq_plugin_api *api, const Options &o, const char *how) {
  bool ok = true;
  std::printf("\nplugin mem_copy, %s (device to device, one stream, 4 calls between two event_record, as dq "
              "bench)\n", how);
  std::printf("%12s %12s %14s %16s\n", "bytes", "events GB/s", "wall GB/s", "host us/call");
  for (uint64_t bytes : o.sizes) {
    void *a = nullptr, *b = nullptr, *stream = nullptr, *e0 = nullptr, *e1 = nullptr;
    if (api->mem_alloc(0, bytes, &a) != DQ_OK || api->mem_alloc(0, bytes, &b) != DQ_OK ||
        api->stream_create(0, &stream) != DQ_OK || api->event_create(0, &e0) != DQ_OK ||
        api->event_create(0, &e1) != DQ_OK) {
      std::printf("plugin: setup for %" PRIu64 " bytes failed: %s\n", bytes, api->last_error());
      ok = false;
    } else {
      void *bufs[2] = {a, b};
      std::vector<double> ev, wall, host;
      for (int r = 0; r <= o.repeat && ok; ++r) {
        float ms = 0;
        const auto t0 = Clock::now();
        ok = api->event_record(0, e0, stream) == DQ_OK;
        double enqueue = 0;
        for (int c = 0; c < 4 && ok; ++c) {
          const auto c0 = Clock::now();
          ok = api->mem_copy(0, bufs[(c + 1) & 1], bufs[c & 1], bytes, DQ_COPY_DEVICE_TO_DEVICE, stream) == DQ_OK;
          enqueue += since(c0);
        }
        ok = ok && api->event_record(0, e1, stream) == DQ_OK && api->event_synchronize(0, e1) == DQ_OK;
        const double w = since(t0);
        ok = ok && api->event_elapsed_ms(0, e0, e1, &ms) == DQ_OK;
        if (!ok) std::printf("plugin: %s\n", api->last_error());
        if (r > 0) ev.push_back(ms / 1e3 / 4), wall.push_back(w / 4), host.push_back(enqueue / 4);
      }
      if (ok)
        std::printf("%12" PRIu64 " %12.1f %14.1f %16.1f\n", bytes, gbs(bytes, median(ev)), gbs(bytes, median(wall)),
                    median(host) * 1e6);
    }
    if (e0) api->event_destroy(0, e0);
    if (e1) api->event_destroy(0, e1);
    if (stream) api->stream_destroy(0, stream);
    if (a) api->mem_free(0, a);
    if (b) api->mem_free(0, b);
  }
  return ok;
}

bool probe_plugin(const Options &o) {
  if (o.plugin.empty()) return true;
  void *h = dlopen(o.plugin.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return std::printf("probe: %s\n", dlerror()), false;
  using Entry = const dq_plugin_api *(*)(uint32_t, uint32_t);
  auto entry = reinterpret_cast<Entry>(dlsym(h, "dq_plugin_entry"));
  const dq_plugin_api *api = entry ? entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR) : nullptr;
  if (!api || api->init() != DQ_OK) return std::printf("probe: %s: no plugin entry or init failed\n", o.plugin.c_str()), false;
  bool ok = true;
  if (api->device_count() < 1) {
    std::printf("plugin: skip: %s\n", api->no_device_reason());
  } else {
    ok = measure_copies(api, o, "defaults (vkCmdCopyBuffer)");
    if (!std::getenv("DQ_VULKAN_COPY")) {  // again on the compute units
      api->shutdown();
      setenv("DQ_VULKAN_COPY", "shader", 1);
      ok = api->init() == DQ_OK && api->device_count() > 0 && ok;
      ok = ok && measure_copies(api, o, "DQ_VULKAN_COPY=shader");
      unsetenv("DQ_VULKAN_COPY");
      api->shutdown();
      ok = api->init() == DQ_OK && api->device_count() > 0 && ok;
    }
    ok = ok && measure_ops(api);
    ok = ok && measure_allocs(api, o);
  }
  api->shutdown();
  dlclose(h);
  return ok;
}

bool parse(int argc, char **argv, Options *o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--bytes" && v) {
      o->sizes.clear();
      for (const char *s = v; *s;) {
        char *end = nullptr;
        const uint64_t n = std::strtoull(s, &end, 10);
        if (end == s || n < 256 || n % 256) return false;
        o->sizes.push_back(n);
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return false;
      }
      ++i;
    } else if (a == "--repeat" && v) {
      o->repeat = std::max(1, std::atoi(v));
      ++i;
    } else if (a == "--plugin" && v) {
      o->plugin = v;
      ++i;
    } else if (a == "--alloc" && v) {  // COUNTxBYTES
      char *end = nullptr;
      o->alloc_count = std::strtoull(v, &end, 10);
      if (*end != 'x') return false;
      o->alloc_bytes = std::strtoull(end + 1, &end, 10);
      if (*end || !o->alloc_count || !o->alloc_bytes) return false;
      ++i;
    } else {
      return false;
    }
  }
  return !o->sizes.empty();
}

}  // namespace

int main(int argc, char **argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: dq_vulkan_copy_probe [--bytes N[,N...]] (multiples of 256; default 268435456,1073741824)"
                 " [--repeat N] [--plugin libdq-vulkan.so] [--alloc COUNTxBYTES] (default 200x37748736)\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("GB/s = 2 x bytes / seconds (read + written), median of %d after a warm-up\n", o.repeat);
  const bool raw = probe_raw(o);
  const bool plugin = probe_plugin(o);
  return raw && plugin && !g_failed ? 0 : 1;
}
