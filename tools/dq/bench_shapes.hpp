// dq bench --shapes: realistic tensor shapes and one llama-3-8B layer in one batch call, each
// row beside its bound = (bytes read + written) / copy rate + one launch, both measured in
// the same run (issue 17).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "dq/dq.h"
#include "registry/backend.hpp"

namespace dq::tool {

struct ShapeBench {
  dq_context *ctx = nullptr;
  const core::Backend *backend = nullptr;
  int32_t dst_type = DQ_TYPE_F32;
  int repeat = 7;
  // "4096x4096,3072x3072,layer,layer/8" or "default" (4096x4096, 4096x14336, 3072x3072,
  // layer).
  std::string shapes;
  // Random valid blocks of a type (cmd_bench.cpp's generator).
  std::function<std::vector<uint8_t>(int32_t type, int64_t n_blocks)> random_tensor;
  // Host copy at the machine's rate (the cpu backend's reference: memcpy over its threads).
  std::function<void(uint8_t *dst, const uint8_t *src, size_t bytes)> host_copy;
};

// Prints the rows for every type; returns a tool exit status (usage error for a bad --shapes).
int bench_shapes(const ShapeBench &bench, const std::vector<int32_t> &types);

}  // namespace dq::tool
