// Whether to open the Vulkan loader at all. With the plugin in lib/dq every process of the
// core initializes it, and creating an instance loads every installed driver: on a machine
// without a GPU that is only lavapipe (and LLVM), loaded into every process for nothing, whose
// unload leaks 128 bytes (LeakSanitizer) and whose dependencies' loading trips valgrind in
// glibc's dl-load. So the loader is opened only when the machine has a GPU device node
// (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg) or DQ_VULKAN_CPU=1 asks for CPU drivers; and
// without DQ_VULKAN_CPU=1, CPU devices (lavapipe, SwiftShader) are not used.
#pragma once

#include <string>

namespace dq::vulkan {

// DQ_VULKAN_CPU=1: CPU implementations are used like any device.
bool cpu_devices_wanted();

// "" when the loader should be opened; else why not.
std::string loader_gate_reason();

}  // namespace dq::vulkan
