// The vulkan plugin from the build tree, loaded once per test process, and a fixture that
// skips with the plugin's own reason when there is no usable Vulkan device.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>

#include "device_fixture.hpp"
#include "plugin_loader.hpp"

namespace dq::test {

inline bool &vulkan_plugin_loaded() {
  static bool loaded = false;
  return loaded;
}

inline const LoadedPlugin &vulkan_plugin() {
  static const LoadedPlugin p = [] {
    // The validation layer checks every call when it is installed (a caller's value wins).
    setenv("DQ_VULKAN_VALIDATION", "auto", 0);
    // Lavapipe is the CI device; a CPU-only driver is left unloaded unless asked for.
    setenv("DQ_VULKAN_CPU", "1", 0);
    vulkan_plugin_loaded() = true;
    return load_plugin("vulkan");
  }();
  return p;
}

// Shuts the plugin down after the last test (as the core does before unloading), so the
// Vulkan instance and devices are destroyed and LeakSanitizer sees nothing left.
class VulkanShutdown : public ::testing::Environment {
 public:
  void TearDown() override {
    if (vulkan_plugin_loaded() && vulkan_plugin().api) vulkan_plugin().api->shutdown();
  }
};

class VulkanDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    const LoadedPlugin &p = vulkan_plugin();
    if (!p.api) GTEST_SKIP() << "vulkan plugin not available: " << p.error;
    if (p.api->device_count() < 1) GTEST_SKIP() << p.api->no_device_reason();
    vk = p.api;
  }
  const dq_plugin_api *vk = nullptr;
};

// Host-memory dequantize through the plugin; DQ_OK or the status (message in last_error).
inline int32_t dequantize_host(const dq_plugin_api *api, int32_t type, int32_t out, const std::vector<uint8_t> &src,
                               int64_t n, std::vector<uint8_t> *dst) {
  dst->assign(static_cast<size_t>(n) * dq::output_type_size(out), 0);
  dq_plugin_dequantize_args a = make_args(type, out, src.data(), src.size(), n, dst->data(), dst->size());
  a.src_on_host = a.dst_on_host = 1;
  return api->dequantize(&a);
}

}  // namespace dq::test
