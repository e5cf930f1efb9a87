// Decoders for the 256-element k-quant super-blocks: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
// Each follows ggml's dequantize_row_<type>; the index arithmetic maps an element position
// to the byte, shift and sub-block scale that ggml's nested loops visit it with. The 8
// quants of a group are assembled one per byte, then become floats through byte_minus.
#pragma once

#include "decode_common.cuh"
#include "decode_legacy.cuh"  // nibbles8, kSignBits

namespace dq::cuda {

// Q2_K: halves of 128; in a half, 4 shifts x 32 elements; scale index per 16 elements.
struct FmtQ2_K {
  static constexpr int kType = 10, kBlockElems = 256, kBlockBytes = 84, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q2_K, d));
    const float min = ld_half(b + DQ_OFF(block_q2_K, dmin));
    const int n = j0 >> 7, r = j0 & 127, jj = r >> 5, l0 = r & 31;
    const uint32_t sc = ld_u8(b + DQ_OFF(block_q2_K, scales) + n * 8 + jj * 2 + (l0 >> 4));
    const float dl = d * static_cast<float>(static_cast<int>(sc & 0xf));
    const float ml = min * static_cast<float>(static_cast<int>(sc >> 4));
    const uint64_t x = (ld_u64(b + DQ_OFF(block_q2_K, qs) + n * 32 + l0) >> (2 * jj)) & (3 * kBytes01);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = dl * byte_minus64(x, k, 0) - ml;
  }
};

// Q3_K 6-bit scale k (0..15), unpacked as ggml's kmask shuffle does.
DQ_DEV_INLINE int q3k_scale(const uint8_t *sc, int k) {
  const uint32_t low = k < 8 ? (ld_u8(sc + k) & 0xf) : (ld_u8(sc + k - 8) >> 4);
  const uint32_t high = (ld_u8(sc + 8 + (k & 3)) >> (2 * (k >> 2))) & 3;
  return static_cast<int>(low | (high << 4));
}

// Q3_K: value = 2-bit quant - (hmask bit ? 0 : 4) = (quant | hbit << 2) - 4.
struct FmtQ3_K {
  static constexpr int kType = 11, kBlockElems = 256, kBlockBytes = 110, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d_all = ld_half(b + DQ_OFF(block_q3_K, d));
    const int n = j0 >> 7, r = j0 & 127, jj = r >> 5, l0 = r & 31;
    const int is = n * 8 + jj * 2 + (l0 >> 4);
    const float dl = d_all * static_cast<float>(q3k_scale(b + DQ_OFF(block_q3_K, scales), is) - 32);
    const uint64_t q2 = (ld_u64(b + DQ_OFF(block_q3_K, qs) + n * 32 + l0) >> (2 * jj)) & (3 * kBytes01);
    const uint64_t h = (ld_u64(b + DQ_OFF(block_q3_K, hmask) + l0) >> (4 * n + jj)) & kBytes01;
    const uint64_t x = q2 | (h << 2);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = dl * byte_minus64(x, k, 4);
  }
};

// ggml's get_scale_min_k4: 6-bit scale and min j (0..7) of Q4_K / Q5_K.
DQ_DEV_INLINE void scale_min_k4(int j, const uint8_t *q, int *d, int *m) {
  if (j < 4) {
    *d = static_cast<int>(ld_u8(q + j) & 63);
    *m = static_cast<int>(ld_u8(q + j + 4) & 63);
  } else {
    *d = static_cast<int>((ld_u8(q + j + 4) & 0xf) | ((ld_u8(q + j - 4) >> 6) << 4));
    *m = static_cast<int>((ld_u8(q + j + 4) >> 4) | ((ld_u8(q + j) >> 6) << 4));
  }
}

// Q4_K: chunks of 64 = 32 low nibbles then 32 high nibbles of the same 32 bytes.
struct FmtQ4_K {
  static constexpr int kType = 12, kBlockElems = 256, kBlockBytes = 144, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q4_K, d));
    const float min = ld_half(b + DQ_OFF(block_q4_K, dmin));
    const int c = j0 >> 6, hi = (j0 >> 5) & 1, l0 = j0 & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + DQ_OFF(block_q4_K, scales), &sc, &m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = min * static_cast<float>(m);
    const uint64_t x = nibbles8(ld_u64(b + DQ_OFF(block_q4_K, qs) + c * 32 + l0), hi ? 4 : 0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = d1 * byte_minus64(x, k, 0) - m1;
  }
};

struct FmtQ5_K {
  static constexpr int kType = 13, kBlockElems = 256, kBlockBytes = 176, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q5_K, d));
    const float min = ld_half(b + DQ_OFF(block_q5_K, dmin));
    const int c = j0 >> 6, hi = (j0 >> 5) & 1, l0 = j0 & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + DQ_OFF(block_q5_K, scales), &sc, &m);
    const float d1 = d * static_cast<float>(sc);
    const float m1 = min * static_cast<float>(m);
    const uint64_t lo4 = nibbles8(ld_u64(b + DQ_OFF(block_q5_K, qs) + c * 32 + l0), hi ? 4 : 0);
    const uint64_t h = (ld_u64(b + DQ_OFF(block_q5_K, qh) + l0) >> (2 * c + hi)) & kBytes01;
    const uint64_t x = lo4 | (h << 4);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = d1 * byte_minus64(x, k, 0) - m1;
  }
};

// Q6_K: halves of 128; quarter qq of a half takes ql[l + 32*(qq&1)] nibble (qq>>1) and
// qh bits 2*qq; scale sc[8n + l/16 + 2qq]. y = d * sc * q, left to right.
struct FmtQ6_K {
  static constexpr int kType = 14, kBlockElems = 256, kBlockBytes = 210, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q6_K, d));
    const int n = j0 >> 7, r = j0 & 127, qq = r >> 5, l0 = r & 31;
    const int sc = static_cast<int8_t>(
        static_cast<uint8_t>(ld_u8(b + DQ_OFF(block_q6_K, scales) + n * 8 + (l0 >> 4) + 2 * qq)));
    const float dsc = d * static_cast<float>(sc);
    const uint64_t lo4 = nibbles8(ld_u64(b + DQ_OFF(block_q6_K, ql) + n * 64 + l0 + 32 * (qq & 1)), 4 * (qq >> 1));
    const uint64_t hi2 = (ld_u64(b + DQ_OFF(block_q6_K, qh) + n * 32 + l0) >> (2 * qq)) & (3 * kBytes01);
    const uint64_t x = lo4 | (hi2 << 4);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = dsc * byte_minus64(x, k, 32);
  }
};

// Q8_K: f32 scale, int8 values; bsums are not used by dequantization.
struct FmtQ8_K {
  static constexpr int kType = 15, kBlockElems = 256, kBlockBytes = 292, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = bits_to_float(ld_u32(b + DQ_OFF(block_q8_K, d)));
    const uint64_t x = ld_u64(b + DQ_OFF(block_q8_K, qs) + j0) ^ kSignBits;
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = d * byte_minus64(x, k, 128);
  }
};

}  // namespace dq::cuda
