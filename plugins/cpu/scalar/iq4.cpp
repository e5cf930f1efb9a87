// IQ4_NL (32-element blocks) and IQ4_XS (256-element super-blocks with 6-bit sub-scales):
// 4-bit indices into a fixed non-linear table of 16 values.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;
using dq::grids::kvalues_iq4nl;

void dequant_iq4_nl(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq4_nl), y += 32) {
    const float d = load_f16(src + offsetof(block_iq4_nl, d));
    const uint8_t *qs = src + offsetof(block_iq4_nl, qs);
    for (int j = 0; j < 16; ++j) {
      y[j + 0] = d * kvalues_iq4nl[qs[j] & 0xf];
      y[j + 16] = d * kvalues_iq4nl[qs[j] >> 4];
    }
  }
}

void dequant_iq4_xs(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq4_xs)) {
    const float d = load_f16(src + offsetof(block_iq4_xs, d));
    const uint16_t scales_h = load_u16(src + offsetof(block_iq4_xs, scales_h));
    const uint8_t *scales_l = src + offsetof(block_iq4_xs, scales_l);
    const uint8_t *qs = src + offsetof(block_iq4_xs, qs);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
      const float dl = d * (ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j + 0] = dl * kvalues_iq4nl[qs[j] & 0xf];
        y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
      }
      y += 32;
      qs += 16;
    }
  }
}

}  // namespace dq::cpu::scalar
