#include "devices.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "driver_gate.hpp"
#include "grids.hpp"
#include "loader.hpp"
#include "memory.hpp"
#include "narrow_probe.hpp"
#include "shader_copy.hpp"
#include "status.hpp"
#include "streams.hpp"
#include "vk_objects.hpp"

namespace dq::vulkan {
namespace {

VkInstance g_instance = VK_NULL_HANDLE;
std::vector<std::unique_ptr<DeviceContext>> g_devices;
std::string g_no_device_reason = "vulkan plugin not initialized";

// DQ_VULKAN_VALIDATION: unset or 0: off; "auto": the Khronos validation layer when it is
// installed; anything else: the layer is required (no device without it). Every message of
// error severity is counted, and a call during which one arrived fails with it.
enum class Validation { off, if_installed, required };

Validation validation_mode() {
  const char *v = std::getenv("DQ_VULKAN_VALIDATION");
  if (!v || !*v || std::strcmp(v, "0") == 0) return Validation::off;
  return std::strcmp(v, "auto") == 0 ? Validation::if_installed : Validation::required;
}

std::atomic<uint64_t> g_validation_errors{0};
std::mutex g_validation_mutex;
std::string g_first_validation_error;
VkDebugUtilsMessengerEXT g_messenger = VK_NULL_HANDLE;

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data, void *) {
  if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) {
    std::lock_guard<std::mutex> lock(g_validation_mutex);
    if (g_first_validation_error.empty() && data && data->pMessage) g_first_validation_error = data->pMessage;
    g_validation_errors.fetch_add(1);
  }
  return VK_FALSE;
}

VkDebugUtilsMessengerCreateInfoEXT messenger_info() {
  VkDebugUtilsMessengerCreateInfoEXT mi{};
  mi.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT;
  mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT;
  mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                   VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  mi.pfnUserCallback = on_validation_message;
  return mi;
}

bool layer_present(const char *name) {
  auto enumerate = vk().vkEnumerateInstanceLayerProperties;
  if (!enumerate) return false;
  uint32_t n = 0;
  if (enumerate(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (enumerate(&n, layers.data()) != VK_SUCCESS) return false;
  for (const auto &l : layers)
    if (std::strcmp(l.layerName, name) == 0) return true;
  return false;
}

std::string create_instance() {
  VkApplicationInfo app{};
  app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  app.pApplicationName = "dq";
  app.pEngineName = "dq-vulkan";
  app.apiVersion = VK_API_VERSION_1_2;  // timeline semaphores
  VkInstanceCreateInfo ci{};
  ci.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  ci.pApplicationInfo = &app;
  const char *layer = "VK_LAYER_KHRONOS_validation";
  const char *extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
  const VkDebugUtilsMessengerCreateInfoEXT mi = messenger_info();
  const Validation mode = validation_mode();
  bool validate = false;
  if (mode != Validation::off) {
    validate = layer_present(layer);
    if (!validate && mode == Validation::required)
      return "DQ_VULKAN_VALIDATION is set but VK_LAYER_KHRONOS_validation is not installed";
  }
  if (validate) {
    ci.enabledLayerCount = 1;
    ci.ppEnabledLayerNames = &layer;
    ci.enabledExtensionCount = 1;
    ci.ppEnabledExtensionNames = &extension;
    ci.pNext = &mi;  // also reports on vkCreateInstance itself
  }
  // Synchronization validation too: the streams' barriers and semaphores are what it checks.
  const VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
  VkValidationFeaturesEXT vf{};
  vf.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT;
  vf.enabledValidationFeatureCount = 1;
  vf.pEnabledValidationFeatures = &sync;
  if (validate) {
    vf.pNext = ci.pNext;
    ci.pNext = &vf;
  }
  const VkResult r = vk().vkCreateInstance(&ci, nullptr, &g_instance);
  if (r != VK_SUCCESS) {
    g_instance = VK_NULL_HANDLE;
    return std::string("vkCreateInstance failed: ") + vk_result_name(r) +
           (r == VK_ERROR_INCOMPATIBLE_DRIVER ? " (no Vulkan driver: install mesa-vulkan-drivers or a GPU driver)" : "");
  }
  if (std::string why = load_instance_functions(g_instance); !why.empty()) return why;
  if (validate) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vk().vkGetInstanceProcAddr(g_instance, "vkCreateDebugUtilsMessengerEXT"));
    if (!create || create(g_instance, &mi, nullptr, &g_messenger) != VK_SUCCESS)
      return "DQ_VULKAN_VALIDATION: could not create the debug messenger";
  }
  return "";
}

void destroy_messenger() {
  if (!g_messenger) return;
  auto destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
      vk().vkGetInstanceProcAddr(g_instance, "vkDestroyDebugUtilsMessengerEXT"));
  if (destroy) destroy(g_instance, g_messenger, nullptr);
  g_messenger = VK_NULL_HANDLE;
}

// The first memory type allowed by `bits` with every flag of `want`, preferring one with the
// flags of `nice` and without those of `avoid`; -1 when none has `want`.
int find_memory_type(const VkPhysicalDeviceMemoryProperties &mp, VkMemoryPropertyFlags want, VkMemoryPropertyFlags nice,
                     VkMemoryPropertyFlags avoid) {
  int best = -1, best_score = -1;
  for (uint32_t t = 0; t < mp.memoryTypeCount; ++t) {
    const VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
    if ((f & want) != want) continue;
    const int score = ((f & nice) == nice ? 2 : 0) + ((f & avoid) == 0 ? 1 : 0);
    if (score > best_score) best = static_cast<int>(t), best_score = score;
  }
  return best;
}

// The queue family, memory types, limits and driver of the device; "" or why it cannot serve.
std::string inspect_device(DeviceContext &c) {
  if (VK_API_VERSION_MINOR(c.props.apiVersion) < 2 && VK_API_VERSION_MAJOR(c.props.apiVersion) == 1)
    return "Vulkan 1.2 is needed (timeline semaphores), the device has " +
           std::to_string(VK_API_VERSION_MAJOR(c.props.apiVersion)) + "." +
           std::to_string(VK_API_VERSION_MINOR(c.props.apiVersion));
  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  VkPhysicalDeviceFeatures2 f2{};
  f2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  f2.pNext = &f12;
  vk().vkGetPhysicalDeviceFeatures2(c.physical, &f2);
  if (!f12.timelineSemaphore) return "no timelineSemaphore feature";
  c.float16_offered = f12.shaderFloat16 == VK_TRUE;

  VkPhysicalDeviceDriverProperties drv{};
  drv.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
  VkPhysicalDeviceMaintenance3Properties m3{};
  m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
  m3.pNext = &drv;
  VkPhysicalDeviceExternalMemoryHostPropertiesEXT host{};
  host.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT;
  VkPhysicalDeviceProperties2 p2{};
  p2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
  p2.pNext = &m3;

  uint32_t ne = 0;
  vk().vkEnumerateDeviceExtensionProperties(c.physical, nullptr, &ne, nullptr);
  std::vector<VkExtensionProperties> exts(ne);
  if (ne) vk().vkEnumerateDeviceExtensionProperties(c.physical, nullptr, &ne, exts.data());
  const char *import_env = std::getenv("DQ_VULKAN_HOST_IMPORT");  // 0: test the staged path
  for (const auto &e : exts)
    if (std::strcmp(e.extensionName, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME) == 0)
      c.host_import = !(import_env && std::strcmp(import_env, "0") == 0);
  if (c.host_import) drv.pNext = &host;
  vk().vkGetPhysicalDeviceProperties2(c.physical, &p2);
  c.driver = std::string(drv.driverName) + " " + drv.driverInfo;
  if (c.host_import) c.import_alignment = std::max<VkDeviceSize>(1, host.minImportedHostPointerAlignment);
  c.storage_alignment = std::max<VkDeviceSize>(4, c.props.limits.minStorageBufferOffsetAlignment);
  c.max_allocation = m3.maxMemoryAllocationSize;
  uint64_t segment = std::min<uint64_t>(m3.maxMemoryAllocationSize, uint64_t{1} << 40);
  if (const char *e = std::getenv("DQ_VULKAN_SEGMENT_BYTES"); e && *e)  // tests: small segments
    segment = std::min<uint64_t>(segment, std::strtoull(e, nullptr, 10));
  c.segment_bytes = segment / 256 * 256;
  if (c.segment_bytes < 4096) return "maxMemoryAllocationSize is too small";

  uint32_t nq = 0;
  vk().vkGetPhysicalDeviceQueueFamilyProperties(c.physical, &nq, nullptr);
  std::vector<VkQueueFamilyProperties> qf(nq);
  vk().vkGetPhysicalDeviceQueueFamilyProperties(c.physical, &nq, qf.data());
  bool found = false;
  for (uint32_t i = 0; i < nq && !found; ++i)
    if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
      c.queue_family = i, found = true;
      c.queues.resize(std::min<uint32_t>(qf[i].queueCount, kMaxQueues));
      c.timestamps = qf[i].timestampValidBits > 0 && c.props.limits.timestampPeriod > 0;
      c.timestamp_period_ns = c.props.limits.timestampPeriod;
    }
  if (!found) return "no compute queue";

  VkPhysicalDeviceMemoryProperties mp{};
  vk().vkGetPhysicalDeviceMemoryProperties(c.physical, &mp);
  for (uint32_t h = 0; h < mp.memoryHeapCount; ++h)
    if (mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) c.device_local_bytes += mp.memoryHeaps[h].size;
  const VkMemoryPropertyFlags visible = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  const int host_t = find_memory_type(mp, visible, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  // Pinned slots are also read by the host (CPU-route pieces): cached where offered.
  const int pinned_t = find_memory_type(mp, visible, VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                                        VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  // Device memory off the host-visible (BAR) heap where there is a choice.
  const int device_t = find_memory_type(mp, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
  if (host_t < 0) return "no host-visible coherent memory";
  c.host_memory_type = static_cast<uint32_t>(host_t);
  c.pinned_memory_type = static_cast<uint32_t>(pinned_t);
  c.device_memory_type = static_cast<uint32_t>(device_t >= 0 ? device_t : host_t);
  c.device_heap_bytes = mp.memoryHeaps[mp.memoryTypes[c.device_memory_type].heapIndex].size;
  if (const char *e = std::getenv("DQ_VULKAN_ASYNC_ALLOC"); e && std::strcmp(e, "1") == 0) {
    c.async_alloc = true;
    // Segments of 512 MiB unless set: the first is ready soon, the rest overlap the work.
    if (const char *seg = std::getenv("DQ_VULKAN_SEGMENT_BYTES"); !seg || !*seg)
      c.segment_bytes = std::min<VkDeviceSize>(c.segment_bytes, VkDeviceSize{512} << 20);
  }
  // Blocks for sub-allocation: 1 GiB, within one segment and at most an eighth of the heap.
  uint64_t block = std::min<uint64_t>({uint64_t{1} << 30, c.segment_bytes, c.device_heap_bytes / 8});
  if (const char *e = std::getenv("DQ_VULKAN_BLOCK_BYTES"); e && *e)  // tests: small blocks; 0: none
    block = std::min<uint64_t>(c.segment_bytes, std::strtoull(e, nullptr, 10));
  c.block_bytes = block / 4096 * 4096;
  if (const char *e = std::getenv("DQ_VULKAN_ALLOC_THREADS"); e && *e)
    c.alloc_threads = static_cast<uint32_t>(std::clamp<unsigned long>(std::strtoul(e, nullptr, 10), 1, 64));
  return "";
}


// The i-quant tables, written once into their own buffer (binding 2 of every dispatch).
std::string upload_grids(DeviceContext &c) {
  const std::vector<uint32_t> words = grid_words();
  const VkDeviceSize bytes = words.size() * sizeof(uint32_t);
  if (alloc_buffer(c, c.grids, bytes, c.host_memory_type, "i-quant grids") != DQ_OK) return last_error_text();
  std::memcpy(c.grids.mapped, words.data(), bytes);
  return "";
}

std::string create_context(DeviceContext &c) {
  if (std::string why = inspect_device(c); !why.empty()) return why;
  const float priorities[kMaxQueues] = {1.0f, 1.0f};
  VkDeviceQueueCreateInfo qi{};
  qi.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO;
  qi.queueFamilyIndex = c.queue_family;
  qi.queueCount = static_cast<uint32_t>(c.queues.size());
  qi.pQueuePriorities = priorities;
  VkPhysicalDeviceVulkan12Features f12{};
  f12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  f12.timelineSemaphore = VK_TRUE;
  // The hw narrowing modules (the default where probed) declare Float16; the software ones
  // never do, so DQ_VULKAN_NARROW=sw|branches leaves the feature off (narrow_probe.hpp).
  c.float16_enabled = c.float16_offered && hw_narrow_requested();
  f12.shaderFloat16 = c.float16_enabled ? VK_TRUE : VK_FALSE;
  const char *ext = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;
  VkDeviceCreateInfo di{};
  di.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO;
  di.pNext = &f12;
  di.queueCreateInfoCount = 1;
  di.pQueueCreateInfos = &qi;
  di.enabledExtensionCount = c.host_import ? 1 : 0;
  di.ppEnabledExtensionNames = &ext;
  VkResult r = vk().vkCreateDevice(c.physical, &di, nullptr, &c.device);
  if (r != VK_SUCCESS) return std::string("vkCreateDevice: ") + vk_result_name(r);
  c.queue_mutexes = std::make_unique<std::mutex[]>(c.queues.size());
  for (uint32_t i = 0; i < c.queues.size(); ++i) vk().vkGetDeviceQueue(c.device, c.queue_family, i, &c.queues[i]);
  if (c.host_import) {
    c.get_host_pointer_props = reinterpret_cast<PFN_vkGetMemoryHostPointerPropertiesEXT>(
        vk().vkGetDeviceProcAddr(c.device, "vkGetMemoryHostPointerPropertiesEXT"));
    c.host_import = c.get_host_pointer_props != nullptr;
  }

  // Bindings: source, output, i-quant grids.
  if ((r = create_storage_set_layout(c.device, 3, &c.set_layout)) != VK_SUCCESS)
    return std::string("vkCreateDescriptorSetLayout: ") + vk_result_name(r);
  if ((r = create_compute_pipeline_layout(c.device, c.set_layout, sizeof(DispatchParams), &c.pipeline_layout)) !=
      VK_SUCCESS)
    return std::string("vkCreatePipelineLayout: ") + vk_result_name(r);
  c.default_stream = std::make_unique<Stream>(c, true);
  if (c.default_stream->create() != DQ_OK) return last_error_text();
  return upload_grids(c);
}

void destroy_context(DeviceContext &c) {
  if (!c.device) return;
  streams_shutdown(c);  // waits for their work
  vk().vkDeviceWaitIdle(c.device);
  shader_copy_shutdown(c);
  for (auto &[key, p] : c.pipelines) vk().vkDestroyPipeline(c.device, p, nullptr);
  c.pipelines.clear();
  free_buffer(c, c.grids);
  if (c.pipeline_layout) vk().vkDestroyPipelineLayout(c.device, c.pipeline_layout, nullptr);
  if (c.set_layout) vk().vkDestroyDescriptorSetLayout(c.device, c.set_layout, nullptr);
  vk().vkDestroyDevice(c.device, nullptr);
  c.device = VK_NULL_HANDLE;
}

}  // namespace

void free_buffer(DeviceContext &c, MappedBuffer &b) {
  BoundBuffer bound{b.buffer, b.memory, b.mapped};
  destroy_bound_buffer(c.device, &bound);
  b = MappedBuffer{};
}

int32_t alloc_buffer(DeviceContext &c, MappedBuffer &b, VkDeviceSize bytes, uint32_t memory_type, const char *what) {
  b = MappedBuffer{};
  const bool visible = memory_type == c.host_memory_type || memory_type == c.pinned_memory_type;
  BoundBuffer bound;
  BufferStep failed{};
  const VkResult r = create_bound_buffer(c.device, bytes, memory_type, visible, nullptr, 0, &bound, &failed);
  if (r == VK_SUCCESS) {
    b = MappedBuffer{bound.buffer, bound.memory, bound.mapped, bytes};
    return DQ_OK;
  }
  switch (failed) {
    case BufferStep::create:
      return fail_vk(r, std::string("vkCreateBuffer for the ") + what);
    case BufferStep::memory_type:
      return fail(DQ_ERR_BACKEND, std::string("the ") + what + " buffer cannot live in memory type " +
                                      std::to_string(memory_type));
    case BufferStep::allocate:
      return fail_vk(r, std::string("vkAllocateMemory for the ") + what + " (" + std::to_string(bytes) + " bytes)");
    case BufferStep::bind_or_map:
      break;
  }
  return fail_vk(r, std::string("binding or mapping the ") + what);
}

const char *shader_family(int32_t t) {
  switch (t) {
    case 0: case 1: case 30: return "float";
    case 2: case 3: case 6: case 7: case 8: return "legacy";
    case 10: case 11: case 12: case 13: case 14: case 15: return "kquants";
    case 20: case 23: case 34: case 35: case 39: case 40: case 41: case 42: return "lowbit";
    case 16: case 17: case 18: case 19: case 21: case 22: case 29: return "iquants";
    default: return nullptr;
  }
}

void devices_init() {
  g_devices.clear();
  if (std::string why = loader_gate_reason(); !why.empty()) {
    g_no_device_reason = why;
    return;
  }
  if (std::string why = open_loader(); !why.empty()) {
    g_no_device_reason = why;
    close_loader();
    return;
  }
  if (std::string why = create_instance(); !why.empty()) {
    g_no_device_reason = why;
    if (g_instance && vk().vkDestroyInstance) {
      destroy_messenger();
      vk().vkDestroyInstance(g_instance, nullptr);
    }
    g_instance = VK_NULL_HANDLE;
    close_loader();
    return;
  }
  uint32_t n = 0;
  vk().vkEnumeratePhysicalDevices(g_instance, &n, nullptr);
  std::vector<VkPhysicalDevice> phys(n);
  if (n) vk().vkEnumeratePhysicalDevices(g_instance, &n, phys.data());
  // GPUs first, CPU implementations (lavapipe) last, so vulkan:0 is the GPU where there is one.
  std::vector<VkPhysicalDeviceProperties> props(n);
  for (uint32_t i = 0; i < n; ++i) vk().vkGetPhysicalDeviceProperties(phys[i], &props[i]);
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(),
                        [&](uint32_t i) { return props[i].deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU; });
  std::string skipped;
  for (uint32_t i : order) {
    if (props[i].deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU && !cpu_devices_wanted()) {
      skipped += std::string(skipped.empty() ? "" : "; ") + props[i].deviceName +
                 ": a CPU implementation (set DQ_VULKAN_CPU=1 to use it)";
      continue;
    }
    auto c = std::make_unique<DeviceContext>();
    c->physical = phys[i];
    c->props = props[i];
    c->index = static_cast<int32_t>(g_devices.size());
    if (std::string why = create_context(*c); !why.empty()) {
      destroy_context(*c);
      skipped += std::string(skipped.empty() ? "" : "; ") + c->props.deviceName + ": " + why;
      continue;
    }
    g_devices.push_back(std::move(c));
  }
  g_no_device_reason = g_devices.empty()
                           ? (n == 0 ? std::string("no Vulkan device: the loader found no driver "
                                                   "(install mesa-vulkan-drivers for lavapipe or a GPU driver)")
                                     : "no usable Vulkan device: " + skipped)
                           : "";
}

void devices_shutdown() {
  for (auto &c : g_devices) drain_streams(*c);
  memory_shutdown();  // what the caller left allocated
  for (auto &c : g_devices) destroy_context(*c);
  g_devices.clear();
  if (g_instance) {
    destroy_messenger();
    vk().vkDestroyInstance(g_instance, nullptr);
  }
  g_instance = VK_NULL_HANDLE;
  close_loader();
  g_no_device_reason = "vulkan plugin shut down";
}

uint64_t validation_error_count() { return g_validation_errors.load(); }

std::string first_validation_error() {
  std::lock_guard<std::mutex> lock(g_validation_mutex);
  return g_first_validation_error;
}

int32_t device_count() { return static_cast<int32_t>(g_devices.size()); }
const char *no_device_reason() { return g_no_device_reason.c_str(); }

int32_t device_context(int32_t device, const char *what, DeviceContext **out) {
  *out = nullptr;
  if (g_devices.empty()) return fail(DQ_ERR_NO_DEVICE, std::string(what) + ": " + g_no_device_reason);
  if (device < 0 || device >= device_count())
    return fail(DQ_ERR_INVALID_ARGUMENT, std::string(what) + ": device " + std::to_string(device) +
                                             " does not exist (" + std::to_string(device_count()) +
                                             " Vulkan devices)");
  *out = g_devices[static_cast<size_t>(device)].get();
  return DQ_OK;
}

int32_t fill_device_props(int32_t device, dq_plugin_device_props *out) {
  if (!out || out->struct_size < sizeof(dq_plugin_device_props))
    return fail(DQ_ERR_INVALID_ARGUMENT, "device_props: null or too small struct");
  DeviceContext *c = nullptr;
  if (int32_t st = device_context(device, "device_props", &c); st != DQ_OK) return st;
  // `dq backends` shows this: the device, its driver and the Vulkan version.
  const uint32_t v = c->props.apiVersion;
  const std::string name = std::string(c->props.deviceName) + " (" + c->driver + ", Vulkan " +
                           std::to_string(VK_API_VERSION_MAJOR(v)) + "." + std::to_string(VK_API_VERSION_MINOR(v)) +
                           "." + std::to_string(VK_API_VERSION_PATCH(v)) + ")";
  const size_t len = std::min(name.size(), sizeof out->name - 1);
  std::memcpy(out->name, name.data(), len);
  out->name[len] = '\0';
  out->total_memory = c->device_local_bytes;
  out->free_memory = c->device_local_bytes;  // no memory-budget query yet
  out->is_gpu = c->props.deviceType != VK_PHYSICAL_DEVICE_TYPE_CPU;
  out->reserved = 0;
  return ok();
}

}  // namespace dq::vulkan
