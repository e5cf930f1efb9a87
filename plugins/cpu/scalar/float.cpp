// F32, F16 and BF16 "blocks" (one element each): widening is exact.
#include <cstring>

#include "dq_common/blocks.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

void dequant_f32(const uint8_t *src, float *dst, int64_t n) {
  memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

void dequant_f16(const uint8_t *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = blocks::load_f16(src + 2 * i);
}

void dequant_bf16(const uint8_t *src, float *dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_f32(blocks::load_u16(src + 2 * i));
}

}  // namespace dq::cpu::scalar
