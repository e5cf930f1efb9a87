// What stands behind dq_loaded_model and dq_loader (the loader's public handles).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "context.hpp"
#include "loader/copy_pool.hpp"
#include "loader/device_api.hpp"
#include "loader/load_plan.hpp"
#include "loader/staging_ring.hpp"
#include "registry/registry.hpp"

struct dq_loaded_model {
  dq_context *ctx = nullptr;
  const dq_plugin_api *device_api = nullptr;  // null: host memory
  int32_t device = 0;
  std::string where;      // "cuda", "host"
  void *arena = nullptr;  // loader-owned destination memory (one block)
  std::vector<dq::loader::TensorJob> jobs;
  dq_load_stats stats{};
  // A load over several devices (dq_load_options.devices): one entry per device slot, each
  // with its own arena and stats; jobs name theirs by device_slot. Empty for one device.
  struct DevicePart {
    const dq_plugin_api *device_api = nullptr;  // null: host memory
    int32_t device = 0;
    std::string where;
    void *arena = nullptr;
    dq_load_stats stats{};
  };
  std::vector<DevicePart> parts;
  ~dq_loaded_model();
};

struct dq_loader {
  dq_context *ctx = nullptr;
  dq::core::Registry *registry = nullptr;
  const dq::core::Backend *device_backend = nullptr;  // null: host memory
  const dq::core::Backend *cpu_backend = nullptr;
  std::string where;  // "cuda", "host"
  int32_t device = 0;
  uint64_t budget = 0;
  double setup_seconds = 0;
  std::unique_ptr<dq::loader::DeviceApi> dev;
  std::unique_ptr<dq::loader::CopyPool> pool;
  std::unique_ptr<dq::loader::StagingRing> ring;
};
