// What a plugin's output should be for a golden file (ggml's f32 values), shared by the
// device golden tests (cuda, vulkan).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "dq_common/half.hpp"

namespace dq::test {

// The golden f32 values as bytes of the output type (f16 / bf16: rounded to nearest-even).
inline std::vector<uint8_t> expected_from_golden(const std::vector<float> &golden, int32_t out) {
  if (out == 0) {
    std::vector<uint8_t> e(golden.size() * 4);
    std::memcpy(e.data(), golden.data(), e.size());
    return e;
  }
  std::vector<uint8_t> e(golden.size() * 2);
  for (size_t i = 0; i < golden.size(); ++i) {
    const uint16_t h = out == 1 ? dq::f32_to_f16(golden[i]) : dq::f32_to_bf16(golden[i]);
    std::memcpy(e.data() + 2 * i, &h, 2);
  }
  return e;
}

}  // namespace dq::test
