// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S: 256-element super-blocks whose groups of 8 (or 4)
// magnitudes come from a lattice grid, with per-group sign bits and 4-bit sub-block scales.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "dq_common/grids.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;
using dq::grids::kmask_iq2xs;
using dq::grids::ksigns_iq2xs;

namespace {

// Byte j of grid entry `entry` (element j of the group).
inline uint8_t grid_byte(uint64_t entry, int j) { return static_cast<uint8_t>(entry >> (8 * j)); }

inline float sign_of(uint8_t signs, int j) { return (signs & kmask_iq2xs[j]) ? -1.f : 1.f; }

}  // namespace

void dequant_iq2_xxs(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq2_xxs)) {
    const float d = load_f16(src + offsetof(block_iq2_xxs, d));
    const uint8_t *qs = src + offsetof(block_iq2_xxs, qs);
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      // 8 bytes per 32 elements: four grid indices, then 4x7 sign bits and a 4-bit scale.
      const uint8_t *idx = qs + 8 * ib32;
      const uint32_t aux = load_u32(idx + 4);
      const float db = d * (0.5f + (aux >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l) {
        const uint64_t grid = grids::iq2xxs_grid[idx[l]];
        const uint8_t signs = ksigns_iq2xs[(aux >> 7 * l) & 127];
        for (int j = 0; j < 8; ++j) y[j] = db * grid_byte(grid, j) * sign_of(signs, j);
        y += 8;
      }
    }
  }
}

void dequant_iq2_xs(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq2_xs)) {
    const float d = load_f16(src + offsetof(block_iq2_xs, d));
    const uint8_t *qs = src + offsetof(block_iq2_xs, qs);
    const uint8_t *scales = src + offsetof(block_iq2_xs, scales);
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + (scales[ib32] & 0xf)) * 0.25f,
                           d * (0.5f + (scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const uint16_t q = load_u16(qs + 2 * (4 * ib32 + l));  // 9-bit index, 7 sign bits
        const uint64_t grid = grids::iq2xs_grid[q & 511];
        const uint8_t signs = ksigns_iq2xs[q >> 9];
        for (int j = 0; j < 8; ++j) y[j] = db[l / 2] * grid_byte(grid, j) * sign_of(signs, j);
        y += 8;
      }
    }
  }
}

void dequant_iq2_s(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq2_s)) {
    const float d = load_f16(src + offsetof(block_iq2_s, d));
    const uint8_t *qs = src + offsetof(block_iq2_s, qs);
    const uint8_t *qh = src + offsetof(block_iq2_s, qh);
    const uint8_t *scales = src + offsetof(block_iq2_s, scales);
    const uint8_t *signs = qs + QK_K / 8;  // second half of qs holds explicit sign bytes
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + (scales[ib32] & 0xf)) * 0.25f,
                           d * (0.5f + (scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l) {
        const float dl = db[l / 2];
        const uint64_t grid = grids::iq2s_grid[qs[l] | ((qh[ib32] << (8 - 2 * l)) & 0x300)];
        for (int j = 0; j < 8; ++j) y[j] = dl * grid_byte(grid, j) * sign_of(signs[l], j);
        y += 8;
      }
      qs += 4;
      signs += 4;
    }
  }
}

void dequant_iq3_xxs(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq3_xxs)) {
    const float d = load_f16(src + offsetof(block_iq3_xxs, d));
    const uint8_t *qs = src + offsetof(block_iq3_xxs, qs);
    const uint8_t *scales_and_signs = qs + QK_K / 4;
    for (int ib32 = 0; ib32 < QK_K / 32; ++ib32) {
      const uint32_t aux = load_u32(scales_and_signs + 4 * ib32);
      const float db = d * (0.5f + (aux >> 28)) * 0.5f;
      for (int l = 0; l < 4; ++l) {
        const uint8_t signs = ksigns_iq2xs[(aux >> 7 * l) & 127];
        const uint32_t grid1 = grids::iq3xxs_grid[qs[2 * l + 0]];
        const uint32_t grid2 = grids::iq3xxs_grid[qs[2 * l + 1]];
        for (int j = 0; j < 4; ++j) {
          y[j + 0] = db * grid_byte(grid1, j) * sign_of(signs, j + 0);
          y[j + 4] = db * grid_byte(grid2, j) * sign_of(signs, j + 4);
        }
        y += 8;
      }
      qs += 8;
    }
  }
}

void dequant_iq3_s(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_iq3_s)) {
    const float d = load_f16(src + offsetof(block_iq3_s, d));
    const uint8_t *qs = src + offsetof(block_iq3_s, qs);
    const uint8_t *qh = src + offsetof(block_iq3_s, qh);
    const uint8_t *signs = src + offsetof(block_iq3_s, signs);
    const uint8_t *scales = src + offsetof(block_iq3_s, scales);
    for (int ib32 = 0; ib32 < QK_K / 32; ib32 += 2) {
      // Two 32-element halves share one scale byte; each 9-bit grid index takes its top
      // bit from qh.
      const float db_pair[2] = {d * (1 + 2 * (scales[ib32 / 2] & 0xf)),
                                d * (1 + 2 * (scales[ib32 / 2] >> 4))};
      for (int half = 0; half < 2; ++half) {
        const float db = db_pair[half];
        for (int l = 0; l < 4; ++l) {
          const uint32_t grid1 = grids::iq3s_grid[qs[2 * l + 0] | ((qh[half] << (8 - 2 * l)) & 256)];
          const uint32_t grid2 = grids::iq3s_grid[qs[2 * l + 1] | ((qh[half] << (7 - 2 * l)) & 256)];
          for (int j = 0; j < 4; ++j) {
            y[j + 0] = db * grid_byte(grid1, j) * sign_of(signs[l], j + 0);
            y[j + 4] = db * grid_byte(grid2, j) * sign_of(signs[l], j + 4);
          }
          y += 8;
        }
        qs += 8;
        signs += 4;
      }
      qh += 2;
    }
  }
}

}  // namespace dq::cpu::scalar
