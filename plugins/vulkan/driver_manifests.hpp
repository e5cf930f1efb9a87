// Which Vulkan drivers are installed, read from their ICD manifests before the loader is
// opened. With the plugin in lib/dq every process of the core initializes it; when the only
// drivers are CPU implementations (lavapipe, SwiftShader), creating an instance would load
// them (and LLVM) into every process for nothing, and lavapipe's unload leaks 128 bytes that
// fail the core's LeakSanitizer and valgrind runs. So those are used only on request
// (DQ_VULKAN_CPU=1).
#pragma once

#include <string>
#include <vector>

namespace dq::vulkan {

struct DriverManifest {
  std::string path;          // the .json file
  std::string library_path;  // its "library_path"
  bool cpu = false;          // a CPU implementation (lavapipe, SwiftShader), by library name
};

// The manifests the Vulkan loader would read: VK_DRIVER_FILES / VK_ICD_FILENAMES when set,
// else the XDG config and data folders' vulkan/icd.d plus VK_ADD_DRIVER_FILES.
std::vector<DriverManifest> find_driver_manifests();

// "" when the loader should be opened; else why not (every driver found is a CPU one and
// DQ_VULKAN_CPU is not 1).
std::string cpu_only_reason(const std::vector<DriverManifest> &manifests);

}  // namespace dq::vulkan
