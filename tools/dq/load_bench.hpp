// dq load --bench-model: the loader benchmark (generated llama-like model, loader vs pinned
// host-to-device bandwidth vs the old path, all measured in one run).
#pragma once

#include <cstdint>
#include <string>

#include "dq/dq.hpp"
#include "temp_file.hpp"

namespace dq::tool {

struct BenchConfig {
  Location where;
  int32_t to;
  uint64_t budget;
  int threads;
  double gigabytes;
  int repeat;
};

int run_load_bench(const Context &ctx, const BenchConfig &cfg);

}  // namespace dq::tool
