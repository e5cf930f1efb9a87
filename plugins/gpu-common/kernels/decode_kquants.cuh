// Decoders for the 256-element k-quant super-blocks: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
// Each follows ggml's dequantize_row_<type>; the index arithmetic maps an element position
// to the byte, shift and sub-block scale that ggml's nested loops visit it with. The 8
// quants of a group are assembled one per byte, then become floats through byte_minus.
#pragma once

#include "decode_common.cuh"
#include "decode_legacy.cuh"  // nibbles8, kSignBits

namespace dq::gpu {

// Q2_K: halves of 128; in a half, 4 shifts x 32 elements; scale index per 16 elements.
// y = dl * q - ml with dl * q exact (4 + 11 + 2 bits), so one fused multiply-add matches.
struct FmtQ2_K {
  static constexpr int kType = 10, kBlockElems = 256, kBlockBytes = 84, kTableBytes = 0;
  struct Sub {
    float dl[2], nml[2];
    const uint8_t *q;
    int shift;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    Sub s;
    const float d = ld_half(b + DQ_OFF(block_q2_K, d));
    const float min = ld_half(b + DQ_OFF(block_q2_K, dmin));
    const int n = j0 >> 7, jj = (j0 >> 5) & 3;
    const uint32_t sc2 = ld_u16(b + DQ_OFF(block_q2_K, scales) + n * 8 + jj * 2);
    DQ_UNROLL
    for (int i = 0; i < 2; ++i) {
      const uint32_t sc = (sc2 >> (8 * i)) & 0xffu;
      s.dl[i] = d * static_cast<float>(static_cast<int>(sc & 0xf));
      s.nml[i] = -(min * static_cast<float>(static_cast<int>(sc >> 4)));
    }
    s.q = b + DQ_OFF(block_q2_K, qs) + n * 32;  // 4-byte aligned: blocks are 84 bytes
    s.shift = 2 * jj;
    return s;
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const uint64_t x = (ld_u64_a4(s.q + 8 * k) >> s.shift) & (3 * kBytes01);
    const float dl = s.dl[k >> 1], nml = s.nml[k >> 1];
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = fma_exact_product(dl, byte_minus64(x, i, 0), nml);
  }
  // f16: the 4 outputs of the group's scale (q = 0..3), computed as above and rounded.
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    const uint64_t x = (ld_u64_a4(s.q + 8 * k) >> s.shift) & (3 * kBytes01);
    const float dl = s.dl[k >> 1], nml = s.nml[k >> 1];
    const uint32_t t01 = h2_pack_rn(fma_exact_product(dl, 0.0f, nml), fma_exact_product(dl, 1.0f, nml));
    const uint32_t t23 = h2_pack_rn(fma_exact_product(dl, 2.0f, nml), fma_exact_product(dl, 3.0f, nml));
    h2_codes8(x, t01, t23, h);
  }
  // bf16: the same 4 outputs rounded to bf16 instead.
  DQ_DEV_INLINE static void group_bf16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    const uint64_t x = (ld_u64_a4(s.q + 8 * k) >> s.shift) & (3 * kBytes01);
    const float dl = s.dl[k >> 1], nml = s.nml[k >> 1];
    const uint32_t t01 = bf162_pack_rn(fma_exact_product(dl, 0.0f, nml), fma_exact_product(dl, 1.0f, nml));
    const uint32_t t23 = bf162_pack_rn(fma_exact_product(dl, 2.0f, nml), fma_exact_product(dl, 3.0f, nml));
    h2_codes8(x, t01, t23, h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

// Q3_K 6-bit scale k (0..15), unpacked as ggml's kmask shuffle does.
DQ_DEV_INLINE int q3k_scale(const uint8_t *sc, int k) {
  const uint32_t low = k < 8 ? (ld_u8(sc + k) & 0xf) : (ld_u8(sc + k - 8) >> 4);
  const uint32_t high = (ld_u8(sc + 8 + (k & 3)) >> (2 * (k >> 2))) & 3;
  return static_cast<int>(low | (high << 4));
}

// Q3_K: value = 2-bit quant - (hmask bit ? 0 : 4) = (quant | hbit << 2) - 4; y = dl * value
// with dl = d * (scale - 32). The product is exact (11 + 6 + 3 bits), so f16 output can be
// computed as d * ((scale - 32) * value) in half precision: the inner product is an exact
// integer of magnitude <= 128, the outer one rounds once, as the f32 -> f16 rounding does.
struct FmtQ3_K {
  static constexpr int kType = 11, kBlockElems = 256, kBlockBytes = 110, kTableBytes = 0;
  struct Sub {
    uint32_t dbits;  // f16 bits of d
    int sc[2];
    Bytes8 bytes;
    int qoff, qshift, hshift;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const int n = j0 >> 7, jj = (j0 >> 5) & 3;
    const int is = n * 8 + jj * 2;
    const uint8_t *scb = b + DQ_OFF(block_q3_K, scales);
    return Sub{ld_u16(b + DQ_OFF(block_q3_K, d)),
               {q3k_scale(scb, is) - 32, q3k_scale(scb, is + 1) - 32},
               Bytes8(b),
               DQ_OFF(block_q3_K, qs) + n * 32,
               2 * jj,
               4 * n + jj};
  }
  DQ_DEV_INLINE static uint64_t values(const Sub &s, int k) {  // value + 4, one per byte
    const uint64_t q2 = (s.bytes.at(s.qoff + 8 * k) >> s.qshift) & (3 * kBytes01);
    const uint64_t h = (s.bytes.at(DQ_OFF(block_q3_K, hmask) + 8 * k) >> s.hshift) & kBytes01;
    return q2 | (h << 2);
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const float dl = half_to_float(s.dbits) * static_cast<float>(s.sc[k >> 1]);
    const uint64_t x = values(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = dl * byte_minus64(x, i, 4);
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    const uint32_t d2 = h2_splat(s.dbits);
    // (scale - 32) as an f16 in both lanes: exact for |scale - 32| <= 32.
    const uint32_t sc2 = h2_sub(h2_magic(s.sc[k >> 1] + 32), h2_magic(32));
    const uint64_t x = values(s, k);
    const uint32_t lo = static_cast<uint32_t>(x), hi = static_cast<uint32_t>(x >> 32);
    const uint32_t m = h2_magic(4);
    h[0] = h2_mul(h2_mul(h2_sub(h2_bytes(lo, 0, 1), m), sc2), d2);
    h[1] = h2_mul(h2_mul(h2_sub(h2_bytes(lo, 2, 3), m), sc2), d2);
    h[2] = h2_mul(h2_mul(h2_sub(h2_bytes(hi, 0, 1), m), sc2), d2);
    h[3] = h2_mul(h2_mul(h2_sub(h2_bytes(hi, 2, 3), m), sc2), d2);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
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

// Q4_K / Q5_K sub-block: y = d1 * q - m1, d1 * q exact (11 + 6 + 5 bits): one fused
// multiply-add gives ggml's bits.
struct KSub {
  float d1, nm1;
  const uint8_t *q;   // the 32 quant bytes of this 64-element chunk (8-byte aligned)
  const uint8_t *qh;  // Q5_K: the 32 high-bit bytes
  int shift;          // 0: low nibbles, 4: high nibbles
  int hshift;         // Q5_K: bit of qh
};
template <int kDOff, int kScalesOff, int kQsOff, int kQhOff>
DQ_DEV_INLINE KSub k4_sub(const uint8_t *b, int j0) {
  const float d = ld_half(b + kDOff);
  const float min = ld_half(b + kDOff + 2);
  const int c = j0 >> 6, hi = (j0 >> 5) & 1;
  int sc, m;
  scale_min_k4(2 * c + hi, b + kScalesOff, &sc, &m);
  return KSub{d * static_cast<float>(sc), -(min * static_cast<float>(m)), b + kQsOff + c * 32, b + kQhOff,
              4 * hi, 2 * c + hi};
}

// Q4_K: chunks of 64 = 32 low nibbles then 32 high nibbles of the same 32 bytes.
struct FmtQ4_K {
  static constexpr int kType = 12, kBlockElems = 256, kBlockBytes = 144, kTableBytes = 0;
  DQ_DEV_INLINE static KSub sub(const uint8_t *b, int j0, const uint8_t *) {
    return k4_sub<DQ_OFF(block_q4_K, d), DQ_OFF(block_q4_K, scales), DQ_OFF(block_q4_K, qs), 0>(b, j0);
  }
  DQ_DEV_INLINE static void group(const KSub &s, int k, float *y, const uint8_t *) {
    const uint64_t x = nibbles8(ld_u64_a8(s.q + 8 * k), s.shift);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = fma_exact_product(s.d1, byte_minus64(x, i, 0), s.nm1);
  }
  DQ_DECODE8_FROM_SUB
};

struct FmtQ5_K {
  static constexpr int kType = 13, kBlockElems = 256, kBlockBytes = 176, kTableBytes = 0;
  DQ_DEV_INLINE static KSub sub(const uint8_t *b, int j0, const uint8_t *) {
    return k4_sub<DQ_OFF(block_q5_K, d), DQ_OFF(block_q5_K, scales), DQ_OFF(block_q5_K, qs),
                  DQ_OFF(block_q5_K, qh)>(b, j0);
  }
  DQ_DEV_INLINE static void group(const KSub &s, int k, float *y, const uint8_t *) {
    const uint64_t lo4 = nibbles8(ld_u64_a8(s.q + 8 * k), s.shift);
    const uint64_t h = (ld_u64_a8(s.qh + 8 * k) >> s.hshift) & kBytes01;
    const uint64_t x = lo4 | (h << 4);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = fma_exact_product(s.d1, byte_minus64(x, i, 0), s.nm1);
  }
  DQ_DECODE8_FROM_SUB
};

// Q6_K: halves of 128; quarter qq of a half takes ql[l + 32*(qq&1)] nibble (qq>>1) and
// qh bits 2*qq; scale sc[8n + l/16 + 2qq]. y = d * sc * q, left to right.
struct FmtQ6_K {
  static constexpr int kType = 14, kBlockElems = 256, kBlockBytes = 210, kTableBytes = 0;
  struct Sub {
    float dsc[2];
    Bytes8 bytes;
    int loff, lshift, hoff, hshift;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_q6_K, d));
    const int n = j0 >> 7, qq = (j0 >> 5) & 3;
    const uint32_t sc2 = ld_u16(b + DQ_OFF(block_q6_K, scales) + n * 8 + 2 * qq);
    Sub s{{d * static_cast<float>(static_cast<int>(static_cast<int8_t>(static_cast<uint8_t>(sc2 & 0xffu)))),
           d * static_cast<float>(static_cast<int>(static_cast<int8_t>(static_cast<uint8_t>(sc2 >> 8))))},
          Bytes8(b),
          DQ_OFF(block_q6_K, ql) + n * 64 + 32 * (qq & 1),
          4 * (qq >> 1),
          DQ_OFF(block_q6_K, qh) + n * 32,
          2 * qq};
    return s;
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const uint64_t lo4 = nibbles8(s.bytes.at(s.loff + 8 * k), s.lshift);
    const uint64_t hi2 = (s.bytes.at(s.hoff + 8 * k) >> s.hshift) & (3 * kBytes01);
    const uint64_t x = lo4 | (hi2 << 4);
    const float dsc = s.dsc[k >> 1];
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = dsc * byte_minus64(x, i, 32);
  }
  DQ_DECODE8_FROM_SUB
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

}  // namespace dq::gpu
