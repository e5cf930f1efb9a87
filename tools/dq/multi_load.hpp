// dq load --devices A,B,... --split tensor|layer: one load over several devices, reported per
// device against each link's pinned host-to-device rate measured in the same run.
#pragma once

#include <string>
#include <vector>

#include "dq/dq.hpp"

namespace dq::tool {

struct MultiLoadConfig {
  std::vector<Location> devices;
  std::string split;  // "tensor" or "layer"
  int32_t to = DQ_TYPE_F16;
  uint64_t budget = 0;  // per device
  int threads = 0;      // in total
  int repeat = 1;       // timed loads; the median (by pipeline time) is reported
  bool verbose_progress = false;
};

// Loads `path` (`label` in the report) with cfg; returns the exit code.
int run_multi_load(const Context &ctx, const std::string &path, const std::string &label,
                   const MultiLoadConfig &cfg);

// --bench-model with --devices: generates the llama-like model of `gigabytes` and times
// cfg.repeat loads of it over the devices.
int run_multi_load_bench(const Context &ctx, double gigabytes, const MultiLoadConfig &cfg);

}  // namespace dq::tool
