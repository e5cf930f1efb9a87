// Q1_0 (128 elements, one sign bit each: +d or -d) and Q2_0 (64 elements, 2 bits each:
// (q - 1) * d). Element j sits in byte j / (8 / bits), lowest bits first.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;

void dequant_q1_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q1_0), y += 128) {
    const float d = load_f16(src + offsetof(block_q1_0, d));
    const float neg_d = -d;
    const uint8_t *qs = src + offsetof(block_q1_0, qs);
    for (int j = 0; j < 128; ++j) y[j] = ((qs[j / 8] >> (j % 8)) & 1) ? d : neg_d;
  }
}

void dequant_q2_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q2_0), y += 64) {
    const float d = load_f16(src + offsetof(block_q2_0, d));
    const uint8_t *qs = src + offsetof(block_q2_0, qs);
    for (int j = 0; j < 64; ++j) {
      const int q = (qs[j / 4] >> ((j % 4) * 2)) & 0x03;
      y[j] = (q - 1) * d;
    }
  }
}

}  // namespace dq::cpu::scalar
