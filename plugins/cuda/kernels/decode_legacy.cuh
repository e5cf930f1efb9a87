// Decoders for the small-block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL, MXFP4, NVFP4,
// Q1_0, Q2_0. Each follows ggml's dequantize_row_<type> (ggml-quants.c) operation for
// operation; decode8 writes elements j0..j0+7 of the block at `b` (j0 a multiple of 8).
// Small integers become floats through byte_minus (exact), so every product below is the
// same float multiplication ggml performs.
#pragma once

#include "decode_common.cuh"

namespace dq::cuda {

// Nibbles of 8 consecutive bytes (low nibbles, or high ones when shift is 4), one per byte.
DQ_DEV_INLINE uint64_t nibbles8(uint64_t q, int shift) { return (q >> shift) & 0x0f0f0f0f0f0f0f0full; }

struct FmtQ4_0 {
  static constexpr int kType = 2, kBlockElems = 32, kBlockBytes = 18, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q4_0, d));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_q4_0, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 8) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    const uint32_t d2 = h2_splat(ld_u16(b + DQ_OFF(block_q4_0, d)));
    h2_scale8(nibbles8(ld_u64(b + DQ_OFF(block_q4_0, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0), 8, d2, h);
  }
};

struct FmtQ4_1 {
  static constexpr int kType = 3, kBlockElems = 32, kBlockBytes = 20, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q4_1, d));
    const float m = ld_half(b + DQ_OFF(block_q4_1, m));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_q4_1, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 0) * d + m;
  }
};

// Q5_0/Q5_1: the fifth bit of element j is bit j of the 32-bit qh word.
struct FmtQ5_0 {
  static constexpr int kType = 6, kBlockElems = 32, kBlockBytes = 22, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q5_0, d));
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(quants(b, j0), k, 16) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    h2_scale8(quants(b, j0), 16, h2_splat(ld_u16(b + DQ_OFF(block_q5_0, d))), h);
  }
  // The 8 five-bit quants, one per byte.
  DQ_DEV_INLINE static uint64_t quants(const uint8_t *b, int j0) {
    const uint32_t qh = ld_u32(b + DQ_OFF(block_q5_0, qh));
    return nibbles8(ld_u64(b + DQ_OFF(block_q5_0, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0) |
           (spread_bits8((qh >> j0) & 0xffu) << 4);
  }
};

struct FmtQ5_1 {
  static constexpr int kType = 7, kBlockElems = 32, kBlockBytes = 24, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q5_1, d));
    const float m = ld_half(b + DQ_OFF(block_q5_1, m));
    const uint32_t qh = ld_u32(b + DQ_OFF(block_q5_1, qh));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_q5_1, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0) |
                       (spread_bits8((qh >> j0) & 0xffu) << 4);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 0) * d + m;
  }
};

// int8 values: flipping the sign bit gives value + 128 as an unsigned byte.
inline constexpr uint64_t kSignBits = 0x8080808080808080ull;

struct FmtQ8_0 {
  static constexpr int kType = 8, kBlockElems = 32, kBlockBytes = 34, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q8_0, d));
    const uint64_t x = ld_u64(b + DQ_OFF(block_q8_0, qs) + j0) ^ kSignBits;
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 128) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    const uint32_t d2 = h2_splat(ld_u16(b + DQ_OFF(block_q8_0, d)));
    h2_scale8(ld_u64(b + DQ_OFF(block_q8_0, qs) + j0) ^ kSignBits, 128, d2, h);
  }
};

// 16-entry value tables (IQ4_NL/IQ4_XS values, MXFP4/NVFP4 doubled E2M1 values) are
// looked up as floats from shared memory: `table` holds 16 floats made from
// dq_common/grids.hpp (kvalues_iq4nl, kvalues_mxfp4). One shared load per element beats
// assembling the value in registers.
DQ_DEV_INLINE float table16(const uint8_t *table, uint64_t x, int k) {
  return reinterpret_cast<const float *>(table)[byte_of(x, k) & 15];
}

struct FmtIQ4_NL {
  static constexpr int kType = 20, kBlockElems = 32, kBlockBytes = 18, kTableBytes = 64;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *table) {
    const float d = ld_half(b + DQ_OFF(block_iq4_nl, d));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_iq4_nl, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = d * table16(table, x, k);
  }
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

struct FmtMXFP4 {
  static constexpr int kType = 39, kBlockElems = 32, kBlockBytes = 17, kTableBytes = 64;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *table) {
    const float d = e8m0_to_float_half(ld_u8(b + DQ_OFF(block_mxfp4, e)));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_mxfp4, qs) + (j0 & 15)), j0 >= 16 ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = table16(table, x, k) * d;
  }
};

// NVFP4: four 16-element sub-blocks; sub-block s uses qs[8s..8s+7], low nibbles first.
struct FmtNVFP4 {
  static constexpr int kType = 40, kBlockElems = 64, kBlockBytes = 36, kTableBytes = 64;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *table) {
    const int s = j0 >> 4;
    const float d = ue4m3_to_float_half(ld_u8(b + DQ_OFF(block_nvfp4, d) + s));
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_nvfp4, qs) + 8 * s), (j0 & 8) ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = table16(table, x, k) * d;
  }
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
  // The 8 two-bit codes, one per byte (4 codes per source byte, lowest bits first).
  DQ_DEV_INLINE static uint64_t codes(const uint8_t *b, int j0) {
    const uint32_t q = ld_u16(b + DQ_OFF(block_q2_0, qs) + (j0 >> 2));
    auto spread = [](uint32_t c) {
      return (c & 0x03u) | ((c & 0x0cu) << 6) | ((c & 0x30u) << 12) | ((c & 0xc0u) << 18);
    };
    return static_cast<uint64_t>(spread(q & 0xffu)) | (static_cast<uint64_t>(spread(q >> 8)) << 32);
  }
};

}  // namespace dq::cuda
