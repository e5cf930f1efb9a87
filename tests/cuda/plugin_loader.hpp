// Opens a backend plugin from the build tree through its ABI entry (no core involved), so
// the cuda tests exercise exactly the table the core sees.
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "dq/dq_plugin.h"

#ifndef DQ_PLUGIN_DIR
#define DQ_PLUGIN_DIR "."
#endif

namespace dq::test {

struct LoadedPlugin {
  const dq_plugin_api *api = nullptr;
  std::string error;  // why api is null
};

inline LoadedPlugin load_plugin(const char *name) {
  LoadedPlugin p;
  // DQ_TEST_PLUGIN_DIR: binaries carried to another machine (scripts/device-vulkan.sh).
  const char *dir = std::getenv("DQ_TEST_PLUGIN_DIR");
  const std::string path = std::string(dir && *dir ? dir : DQ_PLUGIN_DIR) + "/libdq-" + name + ".so";
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept open for the process
  if (!h) {
    const char *e = dlerror();
    p.error = path + ": " + (e ? e : "dlopen failed");
    return p;
  }
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(h, DQ_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    p.error = path + ": no " DQ_PLUGIN_ENTRY_SYMBOL;
    return p;
  }
  const dq_plugin_api *api = entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  if (!api) {
    p.error = path + ": entry refused ABI";
    return p;
  }
  if (api->init() != DQ_OK) {
    p.error = path + ": init failed: " + api->last_error();
    return p;
  }
  p.api = api;
  return p;
}

// The plugins, loaded once per test process.
inline const LoadedPlugin &cuda_plugin() {
  static const LoadedPlugin p = load_plugin("cuda");
  return p;
}
inline const LoadedPlugin &cpu_plugin() {
  static const LoadedPlugin p = load_plugin("cpu");
  return p;
}

}  // namespace dq::test
