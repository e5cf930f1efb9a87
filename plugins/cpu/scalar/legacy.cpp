// 32-element blocks with one f16 scale (and min): Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
// Element j of a 4/5-bit block comes from the low nibble of qs[j], element j+16 from the
// high nibble; the fifth bit of element k is bit k of the 32-bit qh word.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;

void dequant_q4_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q4_0), y += 32) {
    const float d = load_f16(src + offsetof(block_q4_0, d));
    const uint8_t *qs = src + offsetof(block_q4_0, qs);
    for (int j = 0; j < 16; ++j) {
      const int x0 = (qs[j] & 0x0F) - 8;
      const int x1 = (qs[j] >> 4) - 8;
      y[j] = x0 * d;
      y[j + 16] = x1 * d;
    }
  }
}

void dequant_q4_1(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q4_1), y += 32) {
    const float d = load_f16(src + offsetof(block_q4_1, d));
    const float m = load_f16(src + offsetof(block_q4_1, m));
    const uint8_t *qs = src + offsetof(block_q4_1, qs);
    for (int j = 0; j < 16; ++j) {
      const int x0 = qs[j] & 0x0F;
      const int x1 = qs[j] >> 4;
      y[j] = x0 * d + m;
      y[j + 16] = x1 * d + m;
    }
  }
}

void dequant_q5_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q5_0), y += 32) {
    const float d = load_f16(src + offsetof(block_q5_0, d));
    const uint32_t qh = load_u32(src + offsetof(block_q5_0, qh));
    const uint8_t *qs = src + offsetof(block_q5_0, qs);
    for (int j = 0; j < 16; ++j) {
      const uint8_t xh_0 = ((qh >> j) << 4) & 0x10;
      const uint8_t xh_1 = (qh >> (j + 12)) & 0x10;
      const int32_t x0 = ((qs[j] & 0x0F) | xh_0) - 16;
      const int32_t x1 = ((qs[j] >> 4) | xh_1) - 16;
      y[j] = x0 * d;
      y[j + 16] = x1 * d;
    }
  }
}

void dequant_q5_1(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q5_1), y += 32) {
    const float d = load_f16(src + offsetof(block_q5_1, d));
    const float m = load_f16(src + offsetof(block_q5_1, m));
    const uint32_t qh = load_u32(src + offsetof(block_q5_1, qh));
    const uint8_t *qs = src + offsetof(block_q5_1, qs);
    for (int j = 0; j < 16; ++j) {
      const uint8_t xh_0 = ((qh >> j) << 4) & 0x10;
      const uint8_t xh_1 = (qh >> (j + 12)) & 0x10;
      const int x0 = (qs[j] & 0x0F) | xh_0;
      const int x1 = (qs[j] >> 4) | xh_1;
      y[j] = x0 * d + m;
      y[j + 16] = x1 * d + m;
    }
  }
}

void dequant_q8_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q8_0), y += 32) {
    const float d = load_f16(src + offsetof(block_q8_0, d));
    const int8_t *qs = reinterpret_cast<const int8_t *>(src + offsetof(block_q8_0, qs));
    for (int j = 0; j < 32; ++j) y[j] = qs[j] * d;
  }
}

}  // namespace dq::cpu::scalar
