// Decoders for the i-quants with lookup grids: IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S,
// IQ1_S, IQ1_M, plus IQ4_XS (16-entry table, no grid). Each follows ggml's
// dequantize_row_<type>. `grid` points at the format's lookup grid as ggml stores it
// (uint64 entries of 8 bytes, or uint32 entries of 4 bytes); the kernels stage it in shared
// memory, the host tests pass the shared constexpr table.
#pragma once

#include "decode_common.cuh"
#include "decode_legacy.cuh"  // table16, nibbles8, kSignBits

namespace dq::cuda {

DQ_DEV_INLINE uint32_t popcount32(uint32_t v) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint32_t>(__popc(v));
#else
  return static_cast<uint32_t>(__builtin_popcount(v));
#endif
}

// ggml's ksigns_iq2xs[k]: 7 sign bits plus a parity bit that makes the count of minus signs even.
DQ_DEV_INLINE uint32_t ksigns(uint32_t k) { return k | ((popcount32(k) & 1u) << 7); }

DQ_DEV_INLINE uint64_t grid8(const uint8_t *grid, uint32_t idx) {
  return reinterpret_cast<const uint64_t *>(grid)[idx];
}
DQ_DEV_INLINE uint32_t grid4(const uint8_t *grid, uint32_t idx) {
  return reinterpret_cast<const uint32_t *>(grid)[idx];
}

// y[k] = db * grid[k] * (sign bit k ? -1 : 1), multiplied in ggml's order.
DQ_DEV_INLINE void signed_grid8(float db, uint64_t g, uint32_t signs, float *y) {
  DQ_UNROLL
  for (int k = 0; k < 8; ++k) {
    const float v = db * static_cast<float>(static_cast<int>(byte_of(g, k)));
    y[k] = v * (((signs >> k) & 1u) ? -1.f : 1.f);
  }
}

struct FmtIQ2_XXS {
  static constexpr int kType = 16, kBlockElems = 256, kBlockBytes = 66;
  static constexpr int kTableBytes = 256 * 8;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq2_xxs, d));
    const int ib32 = j0 >> 5, l = (j0 >> 3) & 3;
    const uint8_t *q = b + DQ_OFF(block_iq2_xxs, qs) + 8 * ib32;
    const uint32_t aux1 = ld_u32(q + 4);
    const float db = d * (0.5f + static_cast<float>(aux1 >> 28)) * 0.25f;
    const uint64_t g = grid8(grid, ld_u8(q + l));
    signed_grid8(db, g, ksigns((aux1 >> (7 * l)) & 127u), y);
  }
};

struct FmtIQ2_XS {
  static constexpr int kType = 17, kBlockElems = 256, kBlockBytes = 74;
  static constexpr int kTableBytes = 512 * 8;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq2_xs, d));
    const int ib32 = j0 >> 5, l = (j0 >> 3) & 3;
    const uint32_t sc = ld_u8(b + DQ_OFF(block_iq2_xs, scales) + ib32);
    const uint32_t s4 = (l >> 1) ? (sc >> 4) : (sc & 0xf);
    const float db = d * (0.5f + static_cast<float>(s4)) * 0.25f;
    const uint32_t q = ld_u16(b + DQ_OFF(block_iq2_xs, qs) + 2 * (4 * ib32 + l));
    signed_grid8(db, grid8(grid, q & 511u), ksigns(q >> 9), y);
  }
};

struct FmtIQ2_S {
  static constexpr int kType = 22, kBlockElems = 256, kBlockBytes = 82;
  static constexpr int kTableBytes = 1024 * 8;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq2_s, d));
    const int ib32 = j0 >> 5, l = (j0 >> 3) & 3;
    const uint32_t sc = ld_u8(b + DQ_OFF(block_iq2_s, scales) + ib32);
    const uint32_t s4 = (l >> 1) ? (sc >> 4) : (sc & 0xf);
    const float db = d * (0.5f + static_cast<float>(s4)) * 0.25f;
    const uint8_t *qs = b + DQ_OFF(block_iq2_s, qs);
    const uint32_t qh = ld_u8(b + DQ_OFF(block_iq2_s, qh) + ib32);
    const uint32_t idx = ld_u8(qs + 4 * ib32 + l) | ((qh << (8 - 2 * l)) & 0x300u);
    const uint32_t signs = ld_u8(qs + 32 + 4 * ib32 + l);
    signed_grid8(db, grid8(grid, idx), signs, y);
  }
};

struct FmtIQ3_XXS {
  static constexpr int kType = 18, kBlockElems = 256, kBlockBytes = 98;
  static constexpr int kTableBytes = 256 * 4;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq3_xxs, d));
    const int ib32 = j0 >> 5, l = (j0 >> 3) & 3;
    const uint8_t *qs = b + DQ_OFF(block_iq3_xxs, qs);
    const uint32_t aux = ld_u32(qs + 64 + 4 * ib32);
    const float db = d * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
    const uint32_t signs = ksigns((aux >> (7 * l)) & 127u);
    const uint32_t g1 = grid4(grid, ld_u8(qs + 8 * ib32 + 2 * l));
    const uint32_t g2 = grid4(grid, ld_u8(qs + 8 * ib32 + 2 * l + 1));
    signed_grid8(db, static_cast<uint64_t>(g1) | (static_cast<uint64_t>(g2) << 32), signs, y);
  }
};

struct FmtIQ3_S {
  static constexpr int kType = 21, kBlockElems = 256, kBlockBytes = 110;
  static constexpr int kTableBytes = 512 * 4;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq3_s, d));
    const int ib32 = j0 >> 5, l = (j0 >> 3) & 3;
    const uint32_t sc = ld_u8(b + DQ_OFF(block_iq3_s, scales) + (ib32 >> 1));
    const uint32_t s4 = (ib32 & 1) ? (sc >> 4) : (sc & 0xf);
    const float db = d * static_cast<float>(static_cast<int>(1 + 2 * s4));
    const uint8_t *qs = b + DQ_OFF(block_iq3_s, qs) + 8 * ib32;
    const uint32_t qh = ld_u8(b + DQ_OFF(block_iq3_s, qh) + ib32);
    const uint32_t i1 = ld_u8(qs + 2 * l) | ((qh << (8 - 2 * l)) & 256u);
    const uint32_t i2 = ld_u8(qs + 2 * l + 1) | ((qh << (7 - 2 * l)) & 256u);
    const uint32_t signs = ld_u8(b + DQ_OFF(block_iq3_s, signs) + 4 * ib32 + l);
    const uint64_t g = static_cast<uint64_t>(grid4(grid, i1)) |
                       (static_cast<uint64_t>(grid4(grid, i2)) << 32);
    signed_grid8(db, g, signs, y);
  }
};

// IQ1_S / IQ1_M: grid bytes are int8 (-1, 0, 1); y = dl * (grid + delta).
inline constexpr float kIq1sDelta = 0.125f;

DQ_DEV_INLINE void iq1_grid8(float dl, float delta, uint64_t g, float *y) {
  DQ_UNROLL
  for (int k = 0; k < 8; ++k) {
    const int v = static_cast<int8_t>(static_cast<uint8_t>(byte_of(g, k)));
    y[k] = dl * (static_cast<float>(v) + delta);
  }
}

struct FmtIQ1_S {
  static constexpr int kType = 19, kBlockElems = 256, kBlockBytes = 50;
  static constexpr int kTableBytes = 2048 * 8;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const float d = ld_half(b + DQ_OFF(block_iq1_s, d));
    const int ib = j0 >> 5, l = (j0 >> 3) & 3;
    const uint32_t qh = ld_u16(b + DQ_OFF(block_iq1_s, qh) + 2 * ib);
    const float dl = d * static_cast<float>(static_cast<int>(2 * ((qh >> 12) & 7) + 1));
    const float delta = (qh & 0x8000u) ? -kIq1sDelta : kIq1sDelta;
    const uint32_t idx = ld_u8(b + DQ_OFF(block_iq1_s, qs) + 4 * ib + l) | (((qh >> (3 * l)) & 7u) << 8);
    iq1_grid8(dl, delta, grid8(grid, idx), y);
  }
};

struct FmtIQ1_M {
  static constexpr int kType = 29, kBlockElems = 256, kBlockBytes = 56;
  static constexpr int kTableBytes = 2048 * 8;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *grid) {
    const uint8_t *scb = b + DQ_OFF(block_iq1_m, scales);
    const uint32_t sc0 = ld_u16(scb), sc1 = ld_u16(scb + 2), sc2 = ld_u16(scb + 4),
                   sc3 = ld_u16(scb + 6);
    // The f16 super-block scale lives in the top nibbles of the four scale words.
    const uint32_t dbits = (sc0 >> 12) | ((sc1 >> 8) & 0x00f0u) | ((sc2 >> 4) & 0x0f00u) | (sc3 & 0xf000u);
    const float d = half_to_float(dbits);
    const int ib = j0 >> 5, l = (j0 >> 3) & 3;
    const uint32_t scw = ld_u16(scb + 2 * (ib >> 1));
    const int shift = 6 * (ib & 1) + (l < 2 ? 0 : 3);
    const float dl = d * static_cast<float>(static_cast<int>(2 * ((scw >> shift) & 7) + 1));
    const uint32_t qh = ld_u8(b + DQ_OFF(block_iq1_m, qh) + 2 * ib + (l >> 1));
    const uint32_t qs = ld_u8(b + DQ_OFF(block_iq1_m, qs) + 4 * ib + l);
    const uint32_t idx = qs | (((l & 1) ? (qh << 4) : (qh << 8)) & 0x700u);
    const float delta = (qh & ((l & 1) ? 0x80u : 0x08u)) ? -kIq1sDelta : kIq1sDelta;
    iq1_grid8(dl, delta, grid8(grid, idx), y);
  }
};

struct FmtIQ4_XS {
  static constexpr int kType = 23, kBlockElems = 256, kBlockBytes = 136, kTableBytes = 64;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *table) {
    const float d = ld_half(b + DQ_OFF(block_iq4_xs, d));
    const int ib = j0 >> 5, jj = j0 & 31;
    const uint32_t sl = ld_u8(b + DQ_OFF(block_iq4_xs, scales_l) + (ib >> 1));
    const uint32_t sh = ld_u16(b + DQ_OFF(block_iq4_xs, scales_h));
    const int ls = static_cast<int>(((sl >> (4 * (ib & 1))) & 0xf) | (((sh >> (2 * ib)) & 3) << 4));
    const float dl = d * static_cast<float>(ls - 32);
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_iq4_xs, qs) + 16 * ib + (jj & 15)), jj >= 16 ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = dl * table16(table, x, k);
  }
};

}  // namespace dq::cuda
