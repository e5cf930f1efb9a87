#include "driver_gate.hpp"

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace dq::vulkan {
namespace {

namespace fs = std::filesystem;

// A render node of a DRM GPU (Mesa's and most vendors' drivers), NVIDIA's device files, or
// WSL's GPU paravirtualization device.
bool has_gpu_device_node() {
  std::error_code ec;
  for (const auto &e : fs::directory_iterator("/dev/dri", ec))
    if (e.path().filename().string().rfind("renderD", 0) == 0) return true;
  return fs::exists("/dev/nvidiactl", ec) || fs::exists("/dev/nvidia0", ec) || fs::exists("/dev/dxg", ec);
}

}  // namespace

bool cpu_devices_wanted() {
  const char *v = std::getenv("DQ_VULKAN_CPU");
  return v && std::strcmp(v, "1") == 0;
}

std::string loader_gate_reason() {
  if (cpu_devices_wanted() || has_gpu_device_node()) return "";
  return "no GPU device node (/dev/dri/renderD*, /dev/nvidia*), and CPU Vulkan drivers (lavapipe) are "
         "left unloaded: set DQ_VULKAN_CPU=1 to use them";
}

}  // namespace dq::vulkan
