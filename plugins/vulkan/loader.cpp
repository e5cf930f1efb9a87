#include "loader.hpp"

#include <dlfcn.h>

#include <cstdlib>

namespace dq::vulkan {
namespace {
void *g_handle = nullptr;
}  // namespace

VulkanFunctions &vk() {
  static VulkanFunctions f;
  return f;
}

std::string open_loader() {
  const char *env = std::getenv("DQ_VULKAN_LOADER");  // tests point it at a missing file
  const char *path = env && *env ? env : "libvulkan.so.1";
  dlerror();
  g_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!g_handle) {
    const char *e = dlerror();
    return std::string("no Vulkan loader: ") + (e ? e : path) +
           " (Debian: apt-get install libvulkan1 mesa-vulkan-drivers)";
  }
  VulkanFunctions &f = vk();
  f.vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(dlsym(g_handle, "vkGetInstanceProcAddr"));
  if (!f.vkGetInstanceProcAddr) return std::string(path) + " has no vkGetInstanceProcAddr";
  f.vkCreateInstance =
      reinterpret_cast<PFN_vkCreateInstance>(f.vkGetInstanceProcAddr(nullptr, "vkCreateInstance"));
  f.vkEnumerateInstanceLayerProperties = reinterpret_cast<PFN_vkEnumerateInstanceLayerProperties>(
      f.vkGetInstanceProcAddr(nullptr, "vkEnumerateInstanceLayerProperties"));
  if (!f.vkCreateInstance) return std::string(path) + " has no vkCreateInstance";
  return "";
}

std::string load_instance_functions(VkInstance instance) {
  VulkanFunctions &f = vk();
#define DQ_VK_LOAD(name)                                                                     \
  f.name = reinterpret_cast<PFN_##name>(f.vkGetInstanceProcAddr(instance, #name));           \
  if (!f.name) return "the Vulkan loader has no " #name;
  DQ_VK_INSTANCE_FUNCTIONS(DQ_VK_LOAD)
#undef DQ_VK_LOAD
  return "";
}

void close_loader() {
  vk() = VulkanFunctions{};
  if (g_handle) dlclose(g_handle);
  g_handle = nullptr;
}

}  // namespace dq::vulkan
