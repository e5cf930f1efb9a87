// Opens the built cpu plugin (DQ_PLUGIN_DIR/libdq-cpu.so) with dlopen and returns its table,
// so tests exercise exactly the ABI the core uses. DQ_CPU_ISA is set to `isa` first (the
// plugin reads it at init; nullptr leaves the environment as it is), which makes these
// tests check the scalar reference path.
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "dq/dq_plugin.h"
#include "dq_common/dequantize_args.hpp"

#ifndef DQ_PLUGIN_DIR
#error "DQ_PLUGIN_DIR must name the build's plugin folder"
#endif

namespace dq::test {

struct LoadedPlugin {
  const dq_plugin_api *api = nullptr;
  std::string error;
};

inline LoadedPlugin load_cpu_plugin(const char *isa = "scalar") {
  LoadedPlugin out;
  if (isa) setenv("DQ_CPU_ISA", isa, 1);
  const std::string path = std::string(DQ_PLUGIN_DIR) + "/libdq-cpu.so";
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);  // kept open for the process
  if (!handle) {
    out.error = std::string("dlopen ") + path + ": " + dlerror();
    return out;
  }
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(handle, DQ_PLUGIN_ENTRY_SYMBOL));
  if (!entry) {
    out.error = path + ": no " DQ_PLUGIN_ENTRY_SYMBOL;
    return out;
  }
  out.api = entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  if (!out.api) {
    out.error = path + ": entry refused ABI " + std::to_string(DQ_PLUGIN_ABI_MAJOR);
    return out;
  }
  if (out.api->init() != DQ_OK) {
    out.error = std::string("init failed: ") + out.api->last_error();
    out.api = nullptr;
  }
  return out;
}

inline dq_plugin_dequantize_args host_args(int32_t src_type, int32_t dst_type, const void *src,
                                           size_t src_bytes, int64_t n, void *dst,
                                           size_t dst_bytes) {
  return make_dequantize_args(src_type, dst_type, src, src_bytes, n, dst, dst_bytes,
                              /*on_host=*/true);
}

}  // namespace dq::test
