// Decoders for the ternary formats TQ1_0 (base-3 packed, 5 trits a byte) and TQ2_0
// (2 bits a value), following ggml's dequantize_row_tq1_0 / tq2_0. Both assemble the 8
// codes of a group one per byte, then scale (value = (code - 1) * d).
#pragma once

#include "decode_common.cuh"

namespace dq::gpu {

// Trit of bytes 0 and 2 of w02 (in 16-bit lanes) for multiplier pow3 = 3^n: q =
// uint8(byte * 3^n), trit = (q * 3) >> 8, as ggml computes per byte. A lane holds at most
// 255 * 81 before masking, so nothing carries into the neighbouring lane.
DQ_DEV_INLINE uint32_t tq1_trits2(uint32_t w02, uint32_t pow3) {
  const uint32_t q = (w02 * pow3) & 0x00ff00ffu;
  return ((q * 3u) >> 8) & 0x00030003u;
}

// The 4 trits (one per byte) of the 4 bytes of w, for multiplier pow3.
DQ_DEV_INLINE uint32_t tq1_trits4(uint32_t w, uint32_t pow3) {
  const uint32_t t02 = tq1_trits2(w & 0x00ff00ffu, pow3);
  const uint32_t t13 = tq1_trits2((w >> 8) & 0x00ff00ffu, pow3);
  return perm_bytes(t02, t13, 0x6240u);  // bytes: t02.b0, t13.b0, t02.b2, t13.b2
}

// For f16: trit - 1 of the two bytes of w that `sel` moves into 16-bit lanes, as a half2.
// (q * 3) & 0x300 is 256 * trit; with 0x6400 (1024) it is the f16 1024 + 256 * trit, and
// one exact fma maps that to (1024 + 256 t) / 256 - 5 = t - 1.
DQ_DEV_INLINE uint32_t tq1_pair(uint32_t w, uint32_t sel, uint32_t pow3) {
  const uint32_t q = (perm_bytes(w, 0, sel) * pow3) & 0x00ff00ffu;
  return h2_fma(((q * 3u) & 0x03000300u) | 0x64006400u, 0x1c001c00u, 0xc500c500u);
}

// For bf16: the h2_codes8 selector (nibbles 2t, 2t + 1 per trit t) that looks up the trits
// of the two bytes of w that `sel` moves into 16-bit lanes. Each lane's q * 3 is below 1024,
// so its byte 1 is the trit alone: one byte permute gathers both.
DQ_DEV_INLINE uint32_t tq1_pair_selector(uint32_t w, uint32_t sel, uint32_t pow3) {
  const uint32_t q = (perm_bytes(w, 0, sel) * pow3) & 0x00ff00ffu;
  return perm_bytes(q * 3u, 0, 0x4431u) * 0x22u + 0x1010u;
}

DQ_DEV_INLINE uint32_t pow3_of(int n) { return static_cast<uint32_t>((0x511b090301ull >> (8 * n)) & 0xffu); }

// TQ1_0 elements [0,160): trit n of qs[m] at n*32 + m; [160,240): trit n of qs[32 + m] at
// 160 + n*16 + m; [240,256): trit n of qh[j] at 240 + n*4 + j. Computed without branches,
// since one warp's groups span all three regions.
struct FmtTQ1_0 {
  static constexpr int kType = 34, kBlockElems = 256, kBlockBytes = 54, kTableBytes = 0;
  // Per 32 elements (j0 a multiple of 32): j0 < 160 takes trit j0 / 32 of qs[8k..], the
  // 32-element runs at 160 and 192 trits n0 and n0 + 1 of qs[32 + 8 (k & 1)..], and the one
  // at 224 trit 4 for groups 0-1 and qh for groups 2-3 (elements 240..255).
  // b01, b2: the bf16 table of (trit - 1) * d, each value computed as the f32 path does
  // and rounded once (trit 2 in both lanes of b2; trit 3 never occurs).
  struct Sub {
    uint32_t dbits, qh, p0, p1, b01, b2;
    Bytes8 qs;
    bool mid, last;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const bool mid = j0 >= 160;
    const int n0 = mid ? (j0 - 160) >> 4 : j0 >> 5;
    const uint32_t dbits = ld_u16(b + DQ_OFF(block_tq1_0, d));
    const float d = half_to_float(dbits);
    return Sub{dbits,
               ld_u32(b + DQ_OFF(block_tq1_0, qh)),
               pow3_of(n0),
               pow3_of(n0 + 1),
               bf162_pack_rn(-1.0f * d, 0.0f * d),
               bf162_pack_rn(1.0f * d, 1.0f * d),
               Bytes8(b + DQ_OFF(block_tq1_0, qs)),
               mid,
               j0 == 224};
  }
  DQ_DEV_INLINE static void group_sources(const Sub &s, int k, uint32_t *lo, uint32_t *hi, uint32_t *p_lo,
                                          uint32_t *p_hi) {
    const uint64_t q = s.qs.at(s.mid ? 32 + 8 * (k & 1) : 8 * k);
    const uint32_t p = (s.mid && k >= 2) ? s.p1 : s.p0;
    const bool tail = s.last && k >= 2;
    *lo = tail ? s.qh : static_cast<uint32_t>(q);
    *hi = tail ? s.qh : static_cast<uint32_t>(q >> 32);
    *p_lo = tail ? (k == 2 ? 1u : 9u) : p;
    *p_hi = tail ? (k == 2 ? 3u : 27u) : p;
  }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    uint32_t lo, hi, p_lo, p_hi;
    group_sources(s, k, &lo, &hi, &p_lo, &p_hi);
    const uint64_t x = static_cast<uint64_t>(tq1_trits4(lo, p_lo)) | (static_cast<uint64_t>(tq1_trits4(hi, p_hi)) << 32);
    const float d = half_to_float(s.dbits);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = byte_minus64(x, i, 1) * d;
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    uint32_t lo, hi, p_lo, p_hi;
    group_sources(s, k, &lo, &hi, &p_lo, &p_hi);
    const uint32_t d2 = h2_splat(s.dbits);
    h[0] = h2_mul(tq1_pair(lo, 0x4140u, p_lo), d2);
    h[1] = h2_mul(tq1_pair(lo, 0x4342u, p_lo), d2);
    h[2] = h2_mul(tq1_pair(hi, 0x4140u, p_hi), d2);
    h[3] = h2_mul(tq1_pair(hi, 0x4342u, p_hi), d2);
  }
  DQ_DEV_INLINE static void group_bf16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    uint32_t lo, hi, p_lo, p_hi;
    group_sources(s, k, &lo, &hi, &p_lo, &p_hi);
    h[0] = perm_bytes_clear(s.b01, s.b2, tq1_pair_selector(lo, 0x4140u, p_lo));
    h[1] = perm_bytes_clear(s.b01, s.b2, tq1_pair_selector(lo, 0x4342u, p_lo));
    h[2] = perm_bytes_clear(s.b01, s.b2, tq1_pair_selector(hi, 0x4140u, p_hi));
    h[3] = perm_bytes_clear(s.b01, s.b2, tq1_pair_selector(hi, 0x4342u, p_hi));
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

// TQ2_0: chunks of 128; value l*32 + m of a chunk is bits 2l of qs[32c + m]. f16 and bf16
// output go through the 4-entry table of (code - 1) * d, each value computed as the f32
// path computes it and rounded once (only the table of the output type is kept).
struct FmtTQ2_0 {
  static constexpr int kType = 35, kBlockElems = 256, kBlockBytes = 66, kTableBytes = 0;
  struct Sub {
    float d;
    uint32_t t01, t23, b01, b23;
    Bytes8 qs;
    int shift;
  };
  DQ_DEV_INLINE static Sub sub(const uint8_t *b, int j0, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_tq2_0, d));
    const float v0 = -1.0f * d, v1 = 0.0f * d, v2 = 1.0f * d, v3 = 2.0f * d;
    return Sub{d,
               h2_pack_rn(v0, v1),
               h2_pack_rn(v2, v3),
               bf162_pack_rn(v0, v1),
               bf162_pack_rn(v2, v3),
               Bytes8(b + DQ_OFF(block_tq2_0, qs) + 32 * (j0 >> 7)),
               2 * ((j0 >> 5) & 3)};
  }
  DQ_DEV_INLINE static uint64_t codes(const Sub &s, int k) { return (s.qs.at(8 * k) >> s.shift) & (3 * kBytes01); }
  DQ_DEV_INLINE static void group(const Sub &s, int k, float *y, const uint8_t *) {
    const uint64_t x = codes(s, k);
    DQ_UNROLL
    for (int i = 0; i < 8; ++i) y[i] = byte_minus64(x, i, 1) * s.d;
  }
  DQ_DEV_INLINE static void group_f16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    h2_codes8(codes(s, k), s.t01, s.t23, h);
  }
  DQ_DEV_INLINE static void group_bf16(const Sub &s, int k, uint32_t *h, const uint8_t *) {
    h2_codes8(codes(s, k), s.b01, s.b23, h);
  }
  DQ_DECODE8_FROM_SUB
  DQ_DECODE8_F16_FROM_SUB
  DQ_DECODE8_BF16_FROM_SUB
};

}  // namespace dq::gpu
