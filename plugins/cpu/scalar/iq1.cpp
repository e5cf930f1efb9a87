// IQ1_S and IQ1_M: ternary grid entries (-1, 0, +1) shifted by +-1/8, scaled by odd 3-bit
// sub-block scales. IQ1_M has no d field: its f16 scale is spread over the scale words' top
// nibbles.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;
using dq::grids::iq1s_delta;

namespace {

inline int8_t grid_value(uint64_t entry, int j) { return static_cast<int8_t>(entry >> (8 * j)); }

}  // namespace

void dequant_iq1_s(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq1_s)) {
    const float d = load_f16(src + offsetof(block_iq1_s, d));
    const uint8_t *qs = src + offsetof(block_iq1_s, qs);
    const uint8_t *qh_bytes = src + offsetof(block_iq1_s, qh);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      // qh: 4x3 high index bits, a 3-bit scale, and the sign of delta in bit 15.
      const uint16_t qh = load_u16(qh_bytes + 2 * ib);
      const float dl = d * (2 * ((qh >> 12) & 7) + 1);
      const float delta = (qh & 0x8000) ? -iq1s_delta : iq1s_delta;
      for (int l = 0; l < 4; ++l) {
        const uint64_t grid = grids::iq1s_grid[qs[l] | (((qh >> 3 * l) & 7) << 8)];
        for (int j = 0; j < 8; ++j) y[j] = dl * (grid_value(grid, j) + delta);
        y += 8;
      }
      qs += 4;
    }
  }
}

void dequant_iq1_m(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq1_m)) {
    const uint8_t *qs = src + offsetof(block_iq1_m, qs);
    const uint8_t *qh = src + offsetof(block_iq1_m, qh);
    uint16_t sc[4];
    for (int k = 0; k < 4; ++k) sc[k] = load_u16(src + offsetof(block_iq1_m, scales) + 2 * k);
    const uint16_t scale_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                                      ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = f16_to_f32(scale_bits);
    for (int ib = 0; ib < QK_K / 32; ++ib) {
      const float dl1 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1);
      const float dl2 = d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1);
      const uint16_t idx[4] = {
          static_cast<uint16_t>(qs[0] | ((qh[0] << 8) & 0x700)),
          static_cast<uint16_t>(qs[1] | ((qh[0] << 4) & 0x700)),
          static_cast<uint16_t>(qs[2] | ((qh[1] << 8) & 0x700)),
          static_cast<uint16_t>(qs[3] | ((qh[1] << 4) & 0x700)),
      };
      const float delta[4] = {
          (qh[0] & 0x08) ? -iq1s_delta : iq1s_delta,
          (qh[0] & 0x80) ? -iq1s_delta : iq1s_delta,
          (qh[1] & 0x08) ? -iq1s_delta : iq1s_delta,
          (qh[1] & 0x80) ? -iq1s_delta : iq1s_delta,
      };
      for (int l = 0; l < 4; ++l) {
        const float dl = l < 2 ? dl1 : dl2;
        const uint64_t grid = grids::iq1s_grid[idx[l]];
        for (int j = 0; j < 8; ++j) y[j] = dl * (grid_value(grid, j) + delta[l]);
        y += 8;
      }
      qs += 4;
      qh += 2;
    }
  }
}

}  // namespace dq::cpu::scalar
