// Decoders for the ternary formats TQ1_0 (base-3 packed, 5 trits a byte) and TQ2_0
// (2 bits a value), following ggml's dequantize_row_tq1_0 / tq2_0. Both assemble the 8
// codes of a group one per byte, then scale (value = (code - 1) * d).
#pragma once

#include "decode_common.cuh"

namespace dq::cuda {

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

DQ_DEV_INLINE uint32_t pow3_of(int n) { return static_cast<uint32_t>((0x511b090301ull >> (8 * n)) & 0xffu); }

// TQ1_0 elements [0,160): trit n of qs[m] at n*32 + m; [160,240): trit n of qs[32 + m] at
// 160 + n*16 + m; [240,256): trit n of qh[j] at 240 + n*4 + j. Computed without branches,
// since one warp's groups span all three regions.
struct FmtTQ1_0 {
  static constexpr int kType = 34, kBlockElems = 256, kBlockBytes = 54, kTableBytes = 0;
  // The source words of elements j0..j0+3 (lo) and j0+4..j0+7 (hi), one byte each, and
  // the multipliers that bring their trits to the top.
  DQ_DEV_INLINE static void sources(const uint8_t *b, int j0, uint32_t *lo, uint32_t *hi, uint32_t *p_lo,
                                    uint32_t *p_hi) {
    const bool tail = j0 >= 240;
    const int r2 = j0 - 160;
    const int n = j0 < 160 ? (j0 >> 5) : (r2 >> 4);
    const int m0 = j0 < 160 ? (j0 & 31) : 32 + (r2 & 15);  // in bounds for the tail too
    const uint64_t q = ld_u64(b + DQ_OFF(block_tq1_0, qs) + m0);
    const uint32_t qh = ld_u32(b + DQ_OFF(block_tq1_0, qh));
    const int nt = (j0 - 240) >> 2;  // tail: trits nt (elements 0..3) and nt + 1 (4..7)
    *lo = tail ? qh : static_cast<uint32_t>(q);
    *hi = tail ? qh : static_cast<uint32_t>(q >> 32);
    *p_lo = pow3_of(tail ? nt : n);
    *p_hi = pow3_of(tail ? nt + 1 : n);
  }
  DQ_DEV_INLINE static uint64_t codes(const uint8_t *b, int j0) {
    uint32_t lo, hi, p_lo, p_hi;
    sources(b, j0, &lo, &hi, &p_lo, &p_hi);
    return static_cast<uint64_t>(tq1_trits4(lo, p_lo)) | (static_cast<uint64_t>(tq1_trits4(hi, p_hi)) << 32);
  }
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_tq1_0, d));
    const uint64_t x = codes(b, j0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 1) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    uint32_t lo, hi, p_lo, p_hi;
    sources(b, j0, &lo, &hi, &p_lo, &p_hi);
    const uint32_t d2 = h2_splat(ld_u16(b + DQ_OFF(block_tq1_0, d)));
    h[0] = h2_mul(tq1_pair(lo, 0x4140u, p_lo), d2);
    h[1] = h2_mul(tq1_pair(lo, 0x4342u, p_lo), d2);
    h[2] = h2_mul(tq1_pair(hi, 0x4140u, p_hi), d2);
    h[3] = h2_mul(tq1_pair(hi, 0x4342u, p_hi), d2);
  }
};

// TQ2_0: chunks of 128; value l*32 + m of a chunk is bits 2l of qs[32c + m].
struct FmtTQ2_0 {
  static constexpr int kType = 35, kBlockElems = 256, kBlockBytes = 66, kTableBytes = 0;
  DQ_DEV_INLINE static uint64_t codes(const uint8_t *b, int j0) {
    const int c = j0 >> 7, l = (j0 >> 5) & 3, m0 = j0 & 31;
    return (ld_u64(b + DQ_OFF(block_tq2_0, qs) + 32 * c + m0) >> (2 * l)) & (3 * kBytes01);
  }
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_tq2_0, d));
    const uint64_t x = codes(b, j0);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 1) * d;
  }
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *) {
    h2_scale8(codes(b, j0), 1, h2_splat(ld_u16(b + DQ_OFF(block_tq2_0, d))), h);
  }
};

}  // namespace dq::cuda
