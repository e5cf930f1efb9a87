// Decoders for the i-quants with lookup grids: IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S,
// IQ1_S, IQ1_M, plus IQ4_XS (16-entry table, no grid). Each follows ggml's
// dequantize_row_<type>. `grid` points at the format's lookup grid as ggml stores it
// (uint64 entries of 8 bytes, or uint32 entries of 4 bytes); the kernels stage it in shared
// memory, the host tests pass the shared constexpr table.
#pragma once

#include "decode_common.cuh"
#include "decode_kquants.cuh"  // Bytes8, DQ_DECODE8_FROM_SUB
#include "decode_legacy.cuh"  // table16, nibbles8, kSignBits

namespace dq::gpu {

DQ_DEV_INLINE uint32_t popcount32(uint32_t v) {
#if DQ_GPU_DEVICE_CODE
  return gpu::popcount(v);
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

// y[i] = db * grid[i] * (sign bit i ? -1 : 1). ggml multiplies in that order; db * grid is
// exact for every grid format (at most 16 + 6 bits), so negating the exact grid value first
// (flipping its sign bit) gives the same bits with one multiply.
DQ_DEV_INLINE void signed_grid8(float db, uint64_t g, uint32_t signs, float *y) {
  DQ_UNROLL
  for (int i = 0; i < 8; ++i)
    y[i] = db * bits_to_float(float_bits(byte_minus64(g, i, 0)) ^ ((signs << (31 - i)) & 0x80000000u));
}

// f16 output of the grid formats: ggml's value is d * s * grid * sign with s the sub-block
// factor, all exact in f32. s * grid is an exact f16 for every format (IQ2: 31/8 * 43,
// IQ3_XXS: 31/4 * 62, IQ3_S: 31 * 15, all under 2048 units of their scale), so one f16
// multiply by d rounds the exact value once, as the f32 -> f16 rounding does; the sign
// flips the rounded result (rounding is symmetric). s * grid comes from the f16 1024 + grid
// as one exact fma: (1024 + grid) * s - 1024 * s (1024 * s is exact). d2, s2, c2: the f16
// bits of d, s and -1024 * s in both lanes.
DQ_DEV_INLINE void signed_grid8_f16(uint32_t d2, uint32_t s2, uint32_t c2, uint64_t g, uint32_t signs, uint32_t *h) {
  DQ_UNROLL
  for (int p = 0; p < 4; ++p) {
    const uint32_t w = static_cast<uint32_t>(g >> (32 * (p >> 1)));
    const uint32_t gs = h2_fma(h2_bytes(w, 2 * (p & 1), 2 * (p & 1) + 1), s2, c2);
    // Sign bits 2p and 2p + 1 to bits 15 and 31.
    const uint32_t sb = ((signs << (15 - 2 * p)) * 0x8001u) & 0x80008000u;
    h[p] = h2_mul(gs, d2) ^ sb;
  }
}

// bf16 output of the IQ2 formats: their grid bytes are 8, 25 and 43 (Iq2GridBytes test),
// whose low 2 bits (0, 1, 3) index a 3-entry table of the f32 path's db * grid, each rounded
// once (bf162_pack_rn). The f32 path's db * -grid is -(db * grid) (rounding is symmetric),
// and so is its bf16, so the sign bits flip the looked-up values as in signed_grid8_f16.
DQ_DEV_INLINE void signed_grid8_bf16(float db, uint64_t g, uint32_t signs, uint32_t *h) {
  h2_codes8(g, bf162_pack_rn(db * 8.0f, db * 25.0f), bf162_pack_rn(db * 43.0f, db * 43.0f), h);
  DQ_UNROLL
  for (int p = 0; p < 4; ++p) h[p] ^= ((signs << (15 - 2 * p)) * 0x8001u) & 0x80008000u;
}

// -1024 * s for f16 bits s2 (both lanes): the exponent field grows by 10, the sign flips.
DQ_DEV_INLINE uint32_t h2_neg1024x(uint32_t s2) { return (s2 + 0x28002800u) ^ 0x80008000u; }

// f16 bits of small exact values: n / 2^k for an integer 0 <= n < 2048 (via 1024 + n).
DQ_DEV_INLINE uint32_t h2_int(uint32_t n) { return h2_sub(h2_magic(0) + n * 0x10001u, h2_magic(0)); }

// IQ2 sub-block factor (0.5 + ls) * 0.25 = (2 ls + 1) / 8 as f16 in both lanes.
DQ_DEV_INLINE uint32_t iq2_s2(uint32_t ls) { return h2_mul(h2_int(2 * ls + 1), 0x30003000u); }

struct GridSub {
  float db;
  uint32_t d2, s2;  // f16 path: d and the sub-block factor in both lanes
  const uint8_t *q;
  uint32_t aux;
};

struct FmtIQ2_XXS {
  static constexpr int kType = 16, kBlockElems = 256, kBlockBytes = 66;
  static constexpr int kTableBytes = 256 * 8;
  DQ_DEV_INLINE static GridSub sub(const uint8_t *b, int j0, const uint8_t *) {
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_iq2_xxs, d));
    const uint8_t *q = b + DQ_OFF(block_iq2_xxs, qs) + 8 * (j0 >> 5);
    const uint32_t aux1 = ld_u32(q + 4);
    const float db = half_to_float(dbits) * (0.5f + static_cast<float>(aux1 >> 28)) * 0.25f;
    return GridSub{db, h2_splat(dbits), iq2_s2(aux1 >> 28), q, aux1};
  }
  DQ_DEV_INLINE static void group(const GridSub &s, int l, float *y, const uint8_t *grid) {
    signed_grid8(s.db, grid8(grid, ld_u8(s.q + l)), ksigns((s.aux >> (7 * l)) & 127u), y);
  }
  DQ_DEV_INLINE static void group_f16(const GridSub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_f16(s.d2, s.s2, h2_neg1024x(s.s2), grid8(grid, ld_u8(s.q + l)), ksigns((s.aux >> (7 * l)) & 127u), h);
  }
  DQ_DEV_INLINE static void group_bf16(const GridSub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_bf16(s.db, grid8(grid, ld_u8(s.q + l)), ksigns((s.aux >> (7 * l)) & 127u), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

// IQ2_XS / IQ2_S: 4-bit scales, low nibble for groups 0-1 of a sub-block, high for 2-3.
struct Iq2Sub {
  float db[2];
  uint32_t d2, s2[2];
  const uint8_t *q;
  uint32_t qh;
};
DQ_DEV_INLINE Iq2Sub iq2_sub(uint32_t dbits, uint32_t sc, const uint8_t *q, uint32_t qh) {
  const float d = half_to_float(dbits);
  return Iq2Sub{{d * (0.5f + static_cast<float>(sc & 0xf)) * 0.25f, d * (0.5f + static_cast<float>(sc >> 4)) * 0.25f},
                h2_splat(dbits),
                {iq2_s2(sc & 0xf), iq2_s2(sc >> 4)},
                q,
                qh};
}

struct FmtIQ2_XS {
  static constexpr int kType = 17, kBlockElems = 256, kBlockBytes = 74;
  static constexpr int kTableBytes = 512 * 8;
  DQ_DEV_INLINE static Iq2Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int ib32 = j0 >> 5;
    return iq2_sub(ld_u16(b + DQ_OFF(block_iq2_xs, d)), ld_u8(b + DQ_OFF(block_iq2_xs, scales) + ib32),
                   b + DQ_OFF(block_iq2_xs, qs) + 8 * ib32, 0);
  }
  DQ_DEV_INLINE static void group(const Iq2Sub &s, int l, float *y, const uint8_t *grid) {
    const uint32_t q = ld_u16(s.q + 2 * l);
    signed_grid8(s.db[l >> 1], grid8(grid, q & 511u), ksigns(q >> 9), y);
  }
  DQ_DEV_INLINE static void group_f16(const Iq2Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    const uint32_t q = ld_u16(s.q + 2 * l);
    signed_grid8_f16(s.d2, s.s2[l >> 1], h2_neg1024x(s.s2[l >> 1]), grid8(grid, q & 511u), ksigns(q >> 9), h);
  }
  DQ_DEV_INLINE static void group_bf16(const Iq2Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    const uint32_t q = ld_u16(s.q + 2 * l);
    signed_grid8_bf16(s.db[l >> 1], grid8(grid, q & 511u), ksigns(q >> 9), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

struct FmtIQ2_S {
  static constexpr int kType = 22, kBlockElems = 256, kBlockBytes = 82;
  static constexpr int kTableBytes = 1024 * 8;
  DQ_DEV_INLINE static Iq2Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int ib32 = j0 >> 5;
    return iq2_sub(ld_u16(b + DQ_OFF(block_iq2_s, d)), ld_u8(b + DQ_OFF(block_iq2_s, scales) + ib32),
                   b + DQ_OFF(block_iq2_s, qs) + 4 * ib32, ld_u8(b + DQ_OFF(block_iq2_s, qh) + ib32));
  }
  DQ_DEV_INLINE static uint32_t index(const Iq2Sub &s, int l) {
    return ld_u8(s.q + l) | ((s.qh << (8 - 2 * l)) & 0x300u);
  }
  DQ_DEV_INLINE static void group(const Iq2Sub &s, int l, float *y, const uint8_t *grid) {
    signed_grid8(s.db[l >> 1], grid8(grid, index(s, l)), ld_u8(s.q + 32 + l), y);
  }
  DQ_DEV_INLINE static void group_f16(const Iq2Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_f16(s.d2, s.s2[l >> 1], h2_neg1024x(s.s2[l >> 1]), grid8(grid, index(s, l)), ld_u8(s.q + 32 + l), h);
  }
  DQ_DEV_INLINE static void group_bf16(const Iq2Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_bf16(s.db[l >> 1], grid8(grid, index(s, l)), ld_u8(s.q + 32 + l), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

struct FmtIQ3_XXS {
  static constexpr int kType = 18, kBlockElems = 256, kBlockBytes = 98;
  static constexpr int kTableBytes = 256 * 4;
  DQ_DEV_INLINE static GridSub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int ib32 = j0 >> 5;
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_iq3_xxs, d));
    const uint8_t *qs = b + DQ_OFF(block_iq3_xxs, qs);
    const uint32_t aux = ld_u32(qs + 64 + 4 * ib32);
    const float db = half_to_float(dbits) * (0.5f + static_cast<float>(aux >> 28)) * 0.5f;
    // (0.5 + ls) * 0.5 = (2 ls + 1) / 4.
    return GridSub{db, h2_splat(dbits), h2_mul(h2_int(2 * (aux >> 28) + 1), 0x34003400u), qs + 8 * ib32, aux};
  }
  DQ_DEV_INLINE static uint64_t grid_values(const GridSub &s, int l, const uint8_t *grid) {
    const uint32_t i2 = ld_u16(s.q + 2 * l);
    return static_cast<uint64_t>(grid4(grid, i2 & 0xffu)) | (static_cast<uint64_t>(grid4(grid, i2 >> 8)) << 32);
  }
  DQ_DEV_INLINE static void group(const GridSub &s, int l, float *y, const uint8_t *grid) {
    signed_grid8(s.db, grid_values(s, l, grid), ksigns((s.aux >> (7 * l)) & 127u), y);
  }
  DQ_DEV_INLINE static void group_f16(const GridSub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_f16(s.d2, s.s2, h2_neg1024x(s.s2), grid_values(s, l, grid), ksigns((s.aux >> (7 * l)) & 127u), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

struct FmtIQ3_S {
  static constexpr int kType = 21, kBlockElems = 256, kBlockBytes = 110;
  static constexpr int kTableBytes = 512 * 4;
  struct Sub {
    float db;
    uint32_t d2, s2;
    const uint8_t *qs, *signs;
    uint32_t qh;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int ib32 = j0 >> 5;
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_iq3_s, d));
    const uint32_t sc = ld_u8(b + DQ_OFF(block_iq3_s, scales) + (ib32 >> 1));
    const uint32_t s4 = (ib32 & 1) ? (sc >> 4) : (sc & 0xf);
    return Sub{half_to_float(dbits) * static_cast<float>(static_cast<int>(1 + 2 * s4)), h2_splat(dbits),
               h2_int(1 + 2 * s4), b + DQ_OFF(block_iq3_s, qs) + 8 * ib32,
               b + DQ_OFF(block_iq3_s, signs) + 4 * ib32, ld_u8(b + DQ_OFF(block_iq3_s, qh) + ib32)};
  }
  DQ_DEV_INLINE static uint64_t grid_values(const Sub &s, int l, const uint8_t *grid) {
    const uint32_t i2 = ld_u16(s.qs + 2 * l);
    const uint32_t i1 = (i2 & 0xffu) | ((s.qh << (8 - 2 * l)) & 256u);
    const uint32_t i3 = (i2 >> 8) | ((s.qh << (7 - 2 * l)) & 256u);
    return static_cast<uint64_t>(grid4(grid, i1)) | (static_cast<uint64_t>(grid4(grid, i3)) << 32);
  }
  DQ_DEV_INLINE static void group(const Sub &s, int l, float *y, const uint8_t *grid) {
    signed_grid8(s.db, grid_values(s, l, grid), ld_u8(s.signs + l), y);
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    signed_grid8_f16(s.d2, s.s2, h2_neg1024x(s.s2), grid_values(s, l, grid), ld_u8(s.signs + l), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

// IQ1_S / IQ1_M: grid bytes are int8 (-1, 0, 1); y = dl * (grid + delta), exact in f32
// (dl = d * odd <= 15, grid + delta in eighths). For f16: (2s + 1) * (grid + delta) is an
// exact f16 (<= 135/8, computed as one exact fma), times d rounds once.
inline constexpr float kIq1sDelta = 0.125f;

DQ_DEV_INLINE void iq1_grid8(float dl, float delta, uint64_t g, float *y) {
  g ^= kSignBits;  // int8 -> value + 128
  DQ_UNROLL
  for (int i = 0; i < 8; ++i) y[i] = dl * (byte_minus64(g, i, 128) + delta);
}

// bf16 output: a group's 8 values take 3 distinct values, dl * (g + delta) for grid byte
// g in {-1, 0, 1}, each computed as iq1_grid8 does (the float of g is exact) and rounded
// once. g & 3 (3, 0, 1) is the h2_codes8 code: b01 holds g = 0, 1 and b3 g = -1 (code 2 never
// occurs, so b3 has it in both lanes).
struct Iq1BF16Table {
  uint32_t b01, b3;
};
DQ_DEV_INLINE Iq1BF16Table iq1_bf16_table(float dl, float delta) {
  return Iq1BF16Table{bf162_pack_rn(dl * (0.0f + delta), dl * (1.0f + delta)),
                      bf162_pack_rn(dl * (-1.0f + delta), dl * (-1.0f + delta))};
}
DQ_DEV_INLINE void iq1_grid8_bf16(const Iq1BF16Table &t, uint64_t g, uint32_t *h) { h2_codes8(g, t.b01, t.b3, h); }

// d2: d in both lanes; s2: 2s + 1; sd2: (2s + 1) * delta (exact).
DQ_DEV_INLINE void iq1_grid8_f16(uint32_t d2, uint32_t s2, uint32_t sd2, uint64_t g, uint32_t *h) {
  g ^= kSignBits;
  const uint32_t m = h2_magic(128);
  DQ_UNROLL
  for (int p = 0; p < 4; ++p) {
    const uint32_t w = static_cast<uint32_t>(g >> (32 * (p >> 1)));
    const uint32_t gv = h2_sub(h2_bytes(w, 2 * (p & 1), 2 * (p & 1) + 1), m);
    h[p] = h2_mul(h2_fma(gv, s2, sd2), d2);
  }
}

struct FmtIQ1_S {
  static constexpr int kType = 19, kBlockElems = 256, kBlockBytes = 50;
  static constexpr int kTableBytes = 2048 * 8;
  struct Sub {
    float dl, delta;
    uint32_t d2, s2, sd2;
    const uint8_t *qs;
    uint32_t qh;
    Iq1BF16Table bt;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int ib = j0 >> 5;
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_iq1_s, d));
    const uint32_t qh = ld_u16(b + DQ_OFF(block_iq1_s, qh) + 2 * ib);
    const uint32_t odd = 2 * ((qh >> 12) & 7) + 1;
    const float dl = half_to_float(dbits) * static_cast<float>(static_cast<int>(odd));
    const bool neg = (qh & 0x8000u) != 0;
    const float delta = neg ? -kIq1sDelta : kIq1sDelta;
    // (2s + 1) * delta = odd / 8 with delta's sign: 0x3000 is 2^-3 in f16.
    const uint32_t sd = h2_mul(h2_int(odd), 0x30003000u) | (neg ? 0x80008000u : 0u);
    return Sub{dl, delta, h2_splat(dbits), h2_int(odd), sd, b + DQ_OFF(block_iq1_s, qs) + 4 * ib, qh,
               iq1_bf16_table(dl, delta)};
  }
  DQ_DEV_INLINE static uint64_t grid_values(const Sub &s, int l, const uint8_t *grid) {
    return grid8(grid, ld_u8(s.qs + l) | (((s.qh >> (3 * l)) & 7u) << 8));
  }
  DQ_DEV_INLINE static void group(const Sub &s, int l, float *y, const uint8_t *grid) {
    iq1_grid8(s.dl, s.delta, grid_values(s, l, grid), y);
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    iq1_grid8_f16(s.d2, s.s2, s.sd2, grid_values(s, l, grid), h);
  }
  // dl and delta are per 32 elements, so the bf16 table is built once per sub.
  DQ_DEV_INLINE static void group_bf16(const Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    iq1_grid8_bf16(s.bt, grid_values(s, l, grid), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

struct FmtIQ1_M {
  static constexpr int kType = 29, kBlockElems = 256, kBlockBytes = 56;
  static constexpr int kTableBytes = 2048 * 8;
  struct Sub {
    uint32_t dbits, scw;
    int shift0;
    const uint8_t *qs, *qh;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const uint8_t *scb = b + DQ_OFF(block_iq1_m, scales);
    const uint32_t sc0 = ld_u16(scb), sc1 = ld_u16(scb + 2), sc2 = ld_u16(scb + 4), sc3 = ld_u16(scb + 6);
    // The f16 super-block scale lives in the top nibbles of the four scale words.
    const uint32_t dbits = (sc0 >> 12) | ((sc1 >> 8) & 0x00f0u) | ((sc2 >> 4) & 0x0f00u) | (sc3 & 0xf000u);
    const int ib = j0 >> 5;
    return Sub{dbits, ld_u16(scb + 2 * (ib >> 1)), 6 * (ib & 1), b + DQ_OFF(block_iq1_m, qs) + 4 * ib,
               b + DQ_OFF(block_iq1_m, qh) + 2 * ib};
  }
  // Group l: scale factor 2s + 1, delta sign, grid index.
  DQ_DEV_INLINE static uint32_t odd(const Sub &s, int l) {
    return 2 * ((s.scw >> (s.shift0 + (l < 2 ? 0 : 3))) & 7) + 1;
  }
  DQ_DEV_INLINE static uint32_t qh(const Sub &s, int l) { return ld_u8(s.qh + (l >> 1)); }
  DQ_DEV_INLINE static bool neg(const Sub &s, int l) { return (qh(s, l) & ((l & 1) ? 0x80u : 0x08u)) != 0; }
  DQ_DEV_INLINE static uint64_t grid_values(const Sub &s, int l, const uint8_t *grid) {
    const uint32_t h = qh(s, l);
    return grid8(grid, ld_u8(s.qs + l) | (((l & 1) ? (h << 4) : (h << 8)) & 0x700u));
  }
  DQ_DEV_INLINE static void group(const Sub &s, int l, float *y, const uint8_t *grid) {
    const float dl = half_to_float(s.dbits) * static_cast<float>(static_cast<int>(odd(s, l)));
    const float delta = neg(s, l) ? -kIq1sDelta : kIq1sDelta;
    iq1_grid8(dl, delta, grid_values(s, l, grid), y);
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    const uint32_t o = odd(s, l);
    const uint32_t sd = h2_mul(h2_int(o), 0x30003000u) | (neg(s, l) ? 0x80008000u : 0u);
    iq1_grid8_f16(h2_splat(s.dbits), h2_int(o), sd, grid_values(s, l, grid), h);
  }
  DQ_DEV_INLINE static void group_bf16(const Sub &s, int l, uint32_t *h, const uint8_t *grid) {
    const float dl = half_to_float(s.dbits) * static_cast<float>(static_cast<int>(odd(s, l)));
    const float delta = neg(s, l) ? -kIq1sDelta : kIq1sDelta;
    iq1_grid8_bf16(iq1_bf16_table(dl, delta), grid_values(s, l, grid), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

struct FmtIQ4_XS {
  static constexpr int kType = 23, kBlockElems = 256, kBlockBytes = 136, kTableBytes = 64;
  struct Sub {
    float dl;
    const uint8_t *qs;  // this sub-block's 16 bytes, 8-byte aligned (blocks are 136 bytes)
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_iq4_xs, d));
    const int ib = j0 >> 5;
    const uint32_t sl = ld_u8(b + DQ_OFF(block_iq4_xs, scales_l) + (ib >> 1));
    const uint32_t sh = ld_u16(b + DQ_OFF(block_iq4_xs, scales_h));
    const int ls = static_cast<int>(((sl >> (4 * (ib & 1))) & 0xf) | (((sh >> (2 * ib)) & 3) << 4));
    return Sub{d * static_cast<float>(ls - 32), b + DQ_OFF(block_iq4_xs, qs) + 16 * ib};
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *table) {
    const uint64_t x = nibbles8(ld_u64_a8(s.qs + 8 * (k & 1)), nib_shift(k));
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = s.dl * table16(table, x, i);
  }
  DQ_DECODE8_FROM_SUB
};

}  // namespace dq::gpu
