// Decoders for the small-block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4, NVFP4,
// Q1_0, Q2_0. Each follows ggml's dequantize_row_<type> (ggml-quants.c) operation for
// operation; decode8 writes elements j0..j0+7 of the block at `b` (j0 a multiple of 8).
// Small integers become floats through byte_minus (exact), so every product below is the
// same float multiplication ggml performs.
#pragma once

#include "decode_common.cuh"
#include "dq_common/grids.hpp"

namespace dq::gpu {

// Nibbles of 8 consecutive bytes (low nibbles, or high ones when shift is 4), one per byte.
DQ_DEV_INLINE uint64_t nibbles8(uint64_t q, int shift) { return (q >> shift) & 0x0f0f0f0f0f0f0f0full; }

// The 32-element formats decode a lane's 32 elements (one whole block) with one `sub`.
// Group k holds elements 8k..8k+7: bytes 8 * (k & 1) of qs, low nibbles for k < 2.
DQ_DEV_INLINE int nib_shift(int k) { return (k >> 1) * 4; }

struct FmtQ4_0 {
  static constexpr int kType = 2, kBlockElems = 32, kBlockBytes = 18, kTableBytes = 0;
  struct Sub {
    uint32_t dbits;
    Bytes8 qs;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int, const uint8_t *) {
    return Sub{ld_u16(b + DQ_OFF(block_q4_0, d)), Bytes8(b + DQ_OFF(block_q4_0, qs))};
  }
  DQ_DEV_INLINE static uint64_t quants(const Sub &s, int k) { return nibbles8(s.qs.at(8 * (k & 1)), nib_shift(k)); }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const float d = half_to_float(s.dbits);
    const uint64_t x = quants(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = byte_minus64(x, i, 8) * d;
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    h2_scale8(quants(s, k), 8, h2_splat(s.dbits), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

// Q4_1 / Q5_1: y = q * d + m with q * d exact (5 + 11 bits): one fused multiply-add.
struct FmtQ4_1 {
  static constexpr int kType = 3, kBlockElems = 32, kBlockBytes = 20, kTableBytes = 0;
  struct Sub {
    float d, m;
    const uint8_t *qs;  // 4-byte aligned: blocks are 20 bytes
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int, const uint8_t *) {
    return Sub{ld_half(b + DQ_OFF(block_q4_1, d)), ld_half(b + DQ_OFF(block_q4_1, m)), b + DQ_OFF(block_q4_1, qs)};
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const uint64_t x = nibbles8(ld_u64_a4(s.qs + 8 * (k & 1)), nib_shift(k));
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = fma_exact_product(byte_minus64(x, i, 0), s.d, s.m);
  }
  DQ_DECODE8_FROM_SUB
};

// Q5_0/Q5_1: the fifth bit of element j is bit j of the 32-bit qh word.
DQ_DEV_INLINE uint64_t quants5(uint64_t qs8, uint32_t qh, int k) {
  return nibbles8(qs8, nib_shift(k)) | (spread_bits8((qh >> (8 * k)) & 0xffu) << 4);
}

struct FmtQ5_0 {
  static constexpr int kType = 6, kBlockElems = 32, kBlockBytes = 22, kTableBytes = 0;
  struct Sub {
    uint32_t dbits, qh;
    Bytes8 qs;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int, const uint8_t *) {
    return Sub{ld_u16(b + DQ_OFF(block_q5_0, d)), ld_u32(b + DQ_OFF(block_q5_0, qh)), Bytes8(b + DQ_OFF(block_q5_0, qs))};
  }
  DQ_DEV_INLINE static uint64_t quants(const Sub &s, int k) { return quants5(s.qs.at(8 * (k & 1)), s.qh, k); }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const float d = half_to_float(s.dbits);
    const uint64_t x = quants(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = byte_minus64(x, i, 16) * d;
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    h2_scale8(quants(s, k), 16, h2_splat(s.dbits), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

struct FmtQ5_1 {
  static constexpr int kType = 7, kBlockElems = 32, kBlockBytes = 24, kTableBytes = 0;
  struct Sub {
    float d, m;
    uint32_t qh;
    const uint8_t *qs;  // 8-byte aligned: blocks are 24 bytes
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int, const uint8_t *) {
    return Sub{ld_half(b + DQ_OFF(block_q5_1, d)), ld_half(b + DQ_OFF(block_q5_1, m)),
               ld_u32(b + DQ_OFF(block_q5_1, qh)), b + DQ_OFF(block_q5_1, qs)};
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const uint64_t x = quants5(ld_u64_a8(s.qs + 8 * (k & 1)), s.qh, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = fma_exact_product(byte_minus64(x, i, 0), s.d, s.m);
  }
  DQ_DECODE8_FROM_SUB
};

// int8 values: flipping the sign bit gives value + 128 as an unsigned byte.
inline constexpr uint64_t kSignBits = 0x8080808080808080ull;

struct FmtQ8_0 {
  static constexpr int kType = 8, kBlockElems = 32, kBlockBytes = 34, kTableBytes = 0;
  struct Sub {
    uint32_t dbits;
    Bytes8 qs;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int, const uint8_t *) {
    return Sub{ld_u16(b + DQ_OFF(block_q8_0, d)), Bytes8(b + DQ_OFF(block_q8_0, qs))};
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const float d = half_to_float(s.dbits);
    const uint64_t x = s.qs.at(8 * k) ^ kSignBits;
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = byte_minus64(x, i, 128) * d;
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    h2_scale8(s.qs.at(8 * k) ^ kSignBits, 128, h2_splat(s.dbits), h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

// 16-entry value tables (IQ4_NL/IQ4_XS values, MXFP4/NVFP4 doubled E2M1 values) are
// looked up as floats from shared memory: `table` holds 16 floats made from
// dq_common/grids.hpp (kvalues_iq4nl, kvalues_mxfp4). For f32 output one shared load per
// element beats assembling the value in registers; the f16 paths use byte permutes.
DQ_DEV_INLINE float table16(const uint8_t *table, uint64_t x, int k) {
  return reinterpret_cast<const float *>(table)[byte_of(x, k) & 15];
}

// Register lookups in a 16-entry int8 table for the f16 paths: the table's entries + 128
// as bytes of 4 words (entries 0-3, 4-7, 8-11, 12-15), indexed by byte permutes.
struct Table16Bytes {
  uint32_t w[4];
};
template <size_t N>
constexpr Table16Bytes table16_bytes(const int8_t (&v)[N]) {
  static_assert(N == 16, "16-entry table");
  Table16Bytes t{};
  for (int i = 0; i < 16; ++i) t.w[i / 4] |= static_cast<uint32_t>(static_cast<uint8_t>(v[i] + 128)) << (8 * (i % 4));
  return t;
}

// The table bytes for the 8 nibbles of q (nibble n = bits 4n..4n+3): nibbles 0-3 in *lo,
// 4-7 in *hi, in nibble order.
DQ_DEV_INLINE void lookup16x8(uint32_t q, const Table16Bytes &t, uint32_t *lo, uint32_t *hi) {
  const uint32_t idx = q & 0x77777777u;                              // entry within a half
  const uint32_t sel = ((q >> 1) & 0x44444444u) | 0x32103210u;       // which half
  *lo = perm_bytes_clear(perm_bytes_clear(t.w[0], t.w[1], idx), perm_bytes_clear(t.w[2], t.w[3], idx), sel);
  *hi = perm_bytes_clear(perm_bytes_clear(t.w[0], t.w[1], idx >> 16), perm_bytes_clear(t.w[2], t.w[3], idx >> 16),
                         sel >> 16);
}

// Group k of a 32-element block whose 16 quant bytes are q[0..3] (element j: low nibble of
// byte j for j < 16, high nibble of byte j - 16): the 8 table values + 128 as pairs of
// bytes, pair p in bytes (c, c + 2) of v[p] with c = k >> 1.
DQ_DEV_INLINE void lookup_group(const uint32_t *q, int k, const Table16Bytes &t, uint32_t *v) {
  lookup16x8(q[2 * (k & 1)], t, &v[0], &v[1]);
  lookup16x8(q[2 * (k & 1) + 1], t, &v[2], &v[3]);
}

// 4 half2 words of (table value) * 2^e (f16 bits of the power in a2, b2 applied in turn;
// a single factor when b2 is 1.0).
DQ_DEV_INLINE void table_group_f16(const uint32_t *v, int k, uint32_t a2, uint32_t b2, bool two, uint32_t *h) {
  const int c = k >> 1;
  const uint32_t m = h2_magic(128);
  DQ_UNROLL
  for (int p = 0; p < 4; ++p) {
    const uint32_t x = h2_mul(h2_sub(h2_bytes(v[p], c, c + 2), m), a2);
    h[p] = two ? h2_mul(x, b2) : x;
  }
}

// Scale and quant bytes of a 32-element table format.
struct TableSub {
  float d;
  uint32_t d2;    // f16 path: IQ4_NL's d; MXFP4's first power-of-two factor
  uint32_t b2;    // MXFP4's second factor
  uint32_t q[4];  // the 16 quant bytes
};
DQ_DEV_INLINE void load16(const uint8_t *p, uint32_t *q) {
  const Bytes8 bytes(p);
  const uint64_t a = bytes.at(0), b = bytes.at(8);
  q[0] = static_cast<uint32_t>(a), q[1] = static_cast<uint32_t>(a >> 32);
  q[2] = static_cast<uint32_t>(b), q[3] = static_cast<uint32_t>(b >> 32);
}
DQ_DEV_INLINE uint64_t group_nibbles(const TableSub &s, int k) {
  const int w = 2 * (k & 1);
  return nibbles8(static_cast<uint64_t>(s.q[w]) | (static_cast<uint64_t>(s.q[w + 1]) << 32), nib_shift(k));
}

// Literal words (device code cannot read the host constexpr tables), checked against them.
#define DQ_IQ4NL_BYTES {{0x3f2d1801u, 0x766a5d4fu, 0xa6998d81u, 0xf1d9c5b5u}}
#define DQ_MXFP4_BYTES {{0x83828180u, 0x8c888684u, 0x7d7e7f80u, 0x74787a7cu}}
constexpr bool same_words(const Table16Bytes &a, const Table16Bytes &b) {
  return a.w[0] == b.w[0] && a.w[1] == b.w[1] && a.w[2] == b.w[2] && a.w[3] == b.w[3];
}
static_assert(same_words(Table16Bytes DQ_IQ4NL_BYTES, table16_bytes(dq::grids::kvalues_iq4nl)));
static_assert(same_words(Table16Bytes DQ_MXFP4_BYTES, table16_bytes(dq::grids::kvalues_mxfp4)));

// IQ4_NL: y = d * value, exact in f32 (11 + 7 bits); for f16 one f16 multiply of the exact
// f16 value by d rounds it once.
struct FmtIQ4_NL {
  static constexpr int kType = 20, kBlockElems = 32, kBlockBytes = 18, kTableBytes = 64;
  DQ_DEV_INLINE static TableSub sub(const uint8_t *b, int, const uint8_t *) {
    TableSub s;
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_iq4_nl, d));
    s.d = half_to_float(dbits);
    s.d2 = h2_splat(dbits);
    s.b2 = 0;
    load16(b + DQ_OFF(block_iq4_nl, qs), s.q);
    return s;
  }
  DQ_DEV_INLINE static void group(const TableSub &s, int k, float *y, const uint8_t *table) {
    const uint64_t x = group_nibbles(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = s.d * table16(table, x, i);
  }
  DQ_DEV_INLINE static void group_f16(const TableSub &s, int k, uint32_t *h, const uint8_t *) {
    uint32_t v[4];
    lookup_group(s.q, k, Table16Bytes DQ_IQ4NL_BYTES, v);
    table_group_f16(v, k, s.d2, 0, false, h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

// E8M0 byte -> 2^(e-128) (ggml_e8m0_to_fp32_half): bytes 0 and 1 are f32 subnormals.
DQ_DEV_INLINE float e8m0_to_float_half(uint32_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : ((e - 1u) << 23);
  return bits_to_float(bits);
}

// UE4M3 byte -> half its value (ggml_ue4m3_to_fp32); bit 7 is ignored except that only
// 0x00 and 0x7F are zero. Every result is a small exact float, built from its bits.
DQ_DEV_INLINE float ue4m3_to_float_half(uint32_t x) {
  if (x == 0 || x == 0x7f) return 0.0f;
  const uint32_t exp = (x >> 3) & 0xf;
  const uint32_t man = x & 0x7;
  // exp == 0: man * 2^-9 * 0.5 = man * 2^-10; else (8 + man) * 2^(exp - 10) * 0.5.
  if (exp == 0) return static_cast<float>(man) * bits_to_float((127u - 10u) << 23);
  return static_cast<float>(8u + man) * bits_to_float((127u + exp - 11u) << 23);
}

// f16 bits of 2^e for -24 <= e <= 15 (subnormal below -14).
DQ_DEV_INLINE uint32_t h_pow2(int e) {
  return e >= -14 ? static_cast<uint32_t>(e + 15) << 10 : 1u << (e + 24);
}

// MXFP4: y = value * 2^(e - 128), exact in f32. For f16, value * 2^kA * 2^kB with kA
// clamped to [-14, 15] (the first product stays exact, or overflows only when the true
// value does) and kB the rest clamped to [-24, 2] (a product under 2^-25 rounds to zero
// either way, one over 2^16 to infinity): one rounding, that of the true value.
struct FmtMXFP4 {
  static constexpr int kType = 39, kBlockElems = 32, kBlockBytes = 17, kTableBytes = 64;
  DQ_DEV_INLINE static TableSub sub(const uint8_t *b, int, const uint8_t *) {
    TableSub s;
    const uint32_t e = ld_u8(b + DQ_OFF(block_mxfp4, e));
    s.d = e8m0_to_float_half(e);
    const int k = static_cast<int>(e) - 128;
    const int ka = k < -14 ? -14 : (k > 15 ? 15 : k);
    const int kb0 = k - ka;
    const int kb = kb0 < -24 ? -24 : (kb0 > 2 ? 2 : kb0);
    s.d2 = h2_splat(h_pow2(ka));
    s.b2 = h2_splat(h_pow2(kb));
    load16(b + DQ_OFF(block_mxfp4, qs), s.q);
    return s;
  }
  DQ_DEV_INLINE static void group(const TableSub &s, int k, float *y, const uint8_t *table) {
    const uint64_t x = group_nibbles(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = table16(table, x, i) * s.d;
  }
  DQ_DEV_INLINE static void group_f16(const TableSub &s, int k, uint32_t *h, const uint8_t *) {
    uint32_t v[4];
    lookup_group(s.q, k, Table16Bytes DQ_MXFP4_BYTES, v);
    table_group_f16(v, k, s.d2, s.b2, true, h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
};

// NVFP4: four 16-element sub-blocks; sub-block s uses qs[8s..8s+7], low nibbles first.
struct FmtNVFP4 {
  static constexpr int kType = 40, kBlockElems = 64, kBlockBytes = 36, kTableBytes = 64;
  struct Sub {
    float d[2];
    const uint8_t *qs;  // this half's 16 bytes, 4-byte aligned (blocks are 36 bytes)
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int s0 = j0 >> 4;
    const uint32_t sc = ld_u16(b + DQ_OFF(block_nvfp4, d) + s0);
    return Sub{{ue4m3_to_float_half(sc & 0xffu), ue4m3_to_float_half(sc >> 8)}, b + DQ_OFF(block_nvfp4, qs) + 8 * s0};
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *table) {
    const uint64_t x = nibbles8(ld_u64_a4(s.qs + 8 * (k >> 1)), (k & 1) * 4);
    const float d = s.d[k >> 1];
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = table16(table, x, i) * d;
  }
  DQ_DECODE8_FROM_SUB
};

// Q1_0: bit j of qs picks +d or -d.
struct FmtQ1_0 {
  static constexpr int kType = 41, kBlockElems = 128, kBlockBytes = 18, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q1_0, d));
    const float neg_d = -d;
    const uint32_t bits = ld_u8(b + DQ_OFF(block_q1_0, qs) + (j0 >> 3));
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = ((bits >> k) & 1u) ? d : neg_d;
  }
  // f16(d) is d's own bits and f16(-d) flips the sign bit: a clear bit k sets bit 15 of
  // element k's half.
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    const uint32_t d2 = h2_splat(ld_u16(b + DQ_OFF(block_q1_0, d)));
    const uint32_t neg = ~ld_u8(b + DQ_OFF(block_q1_0, qs) + (j0 >> 3));
    DQ_UNROLL
    for (int i = 0; i < 4; ++i)
      h[i] = d2 ^ (((neg >> (2 * i)) & 1u) << 15) ^ (((neg >> (2 * i + 1)) & 1u) << 31);
  }
  // bf16: rounding is symmetric, so bf16(d) = -bf16(-d): a set bit k flips the sign of
  // element k's bf16(-d), the f32 path's -d rounded once. One multiply per pair moves bits
  // 2i and 2i + 1 of the byte to bits 15 and 31 (its two shifted copies of the byte do not
  // overlap, so no carries reach them).
  DQ_DEV_INLINE static void decode8_bf16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    const float neg_d = -ld_half(b + DQ_OFF(block_q1_0, d));
    const uint32_t neg2 = bf162_pack_rn(neg_d, neg_d);
    const uint32_t bits = ld_u8(b + DQ_OFF(block_q1_0, qs) + (j0 >> 3));
    DQ_UNROLL
    for (int i = 0; i < 4; ++i)
      h[i] = neg2 ^ ((bits * ((1u << (15 - 2 * i)) + (1u << (30 - 2 * i)))) & 0x80008000u);
  }
};

// Q2_0: element j is bits 2*(j%4) of byte j/4; code c gives (c - 1) * d.
struct FmtQ2_0 {
  static constexpr int kType = 42, kBlockElems = 64, kBlockBytes = 18, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q2_0, d));
    const uint64_t x = codes(b, j0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 1) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    h2_scale8(codes(b, j0), 1, h2_splat(ld_u16(b + DQ_OFF(block_q2_0, d))), h);
  }
  // bf16: the 4-entry table of (code - 1) * d, each the f32 path's product rounded once.
  DQ_DEV_INLINE static void decode8_bf16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q2_0, d));
    h2_codes8(codes(b, j0), bf162_pack_rn(-1.0f * d, 0.0f * d), bf162_pack_rn(1.0f * d, 2.0f * d), h);
  }
  // The 8 two-bit codes, one per byte (4 codes per source byte, lowest bits first).
  DQ_DEV_INLINE static uint64_t codes(const uint8_t *b, int j0) {
    const uint32_t q = ld_u16(b + DQ_OFF(block_q2_0, qs) + (j0 >> 2));
    auto spread = [](uint32_t c) {
      return (c & 0x03u) | ((c & 0x0cu) << 6) | ((c & 0x30u) << 12) | ((c & 0xc0u) << 18);
    };
    return static_cast<uint64_t>(spread(q & 0xffu)) | (static_cast<uint64_t>(spread(q >> 8)) << 32);
  }
};

}  // namespace dq::gpu
