// Decoders for the ternary formats TQ1_0 (base-3 packed, 5 trits a byte) and TQ2_0
// (2 bits a value), following ggml's dequantize_row_tq1_0 / tq2_0.
#pragma once

#include "decode_common.cuh"

namespace dq::cuda {

// Trit n (0 = most significant) of bytes 0 and 2 of w at once, in 16-bit lanes:
// q = uint8(byte * 3^n); trit = (q * 3) >> 8, as ggml computes per byte. Lanes hold at
// most 255 * 81 before masking, so nothing carries into the neighbouring lane.
DQ_DEV_INLINE uint32_t tq1_trits2(uint32_t w02, uint32_t pow3) {
  const uint32_t q = (w02 * pow3) & 0x00ff00ffu;
  return ((q * 3u) >> 8) & 0x00030003u;
}

// Elements [0,160): trit n of qs[m] at n*32 + m; [160,240): trit n of qs[32 + m] at
// 160 + n*16 + m; [240,256): trit n of qh[j] at 240 + n*4 + j.
struct FmtTQ1_0 {
  static constexpr int kType = 34, kBlockElems = 256, kBlockBytes = 54, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_tq1_0, d));
    if (j0 < 240) {
      int n, m0;
      if (j0 < 160) {
        n = j0 >> 5;
        m0 = j0 & 31;
      } else {
        n = (j0 - 160) >> 4;
        m0 = 32 + ((j0 - 160) & 15);
      }
      const uint32_t pow3 = n == 0 ? 1u : n == 1 ? 3u : n == 2 ? 9u : n == 3 ? 27u : 81u;
      const uint64_t q = ld_u64(b + DQ_OFF(block_tq1_0, qs) + m0);
      DQ_UNROLL
      for (int w = 0; w < 2; ++w) {
        const uint32_t word = static_cast<uint32_t>(q >> (32 * w));
        // bytes 0,2 and bytes 1,3 into 16-bit lanes
        const uint32_t t02 = tq1_trits2(word & 0x00ff00ffu, pow3);
        const uint32_t t13 = tq1_trits2((word >> 8) & 0x00ff00ffu, pow3);
        y[4 * w + 0] = byte_minus(t02, 0, 1) * d;
        y[4 * w + 1] = byte_minus(t13, 0, 1) * d;
        y[4 * w + 2] = byte_minus(t02, 2, 1) * d;
        y[4 * w + 3] = byte_minus(t13, 2, 1) * d;
      }
    } else {
      // 16 values from the 4 qh bytes: element 240 + r + k is trit (r+k)/4 of qh[(r+k)%4].
      const uint32_t qh = ld_u32(b + DQ_OFF(block_tq1_0, qh));
      const int r = j0 - 240;  // 0 or 8
      DQ_UNROLL
      for (int half = 0; half < 2; ++half) {
        const int n = (r >> 2) + half;  // trit index for these 4 elements
        const uint32_t pow3 = n == 0 ? 1u : n == 1 ? 3u : n == 2 ? 9u : 27u;
        const uint32_t t02 = tq1_trits2(qh & 0x00ff00ffu, pow3);
        const uint32_t t13 = tq1_trits2((qh >> 8) & 0x00ff00ffu, pow3);
        y[4 * half + 0] = byte_minus(t02, 0, 1) * d;
        y[4 * half + 1] = byte_minus(t13, 0, 1) * d;
        y[4 * half + 2] = byte_minus(t02, 2, 1) * d;
        y[4 * half + 3] = byte_minus(t13, 2, 1) * d;
      }
    }
  }
};

// TQ2_0: chunks of 128; value l*32 + m of a chunk is bits 2l of qs[32c + m].
struct FmtTQ2_0 {
  static constexpr int kType = 35, kBlockElems = 256, kBlockBytes = 66, kTableBytes = 0;
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *) {
    const float d = ld_half(b + DQ_OFF(block_tq2_0, d));
    const int c = j0 >> 7, l = (j0 >> 5) & 3, m0 = j0 & 31;
    const uint64_t x = (ld_u64(b + DQ_OFF(block_tq2_0, qs) + 32 * c + m0) >> (2 * l)) & (3 * kBytes01);
    DQ_UNROLL
    for (int k = 0; k < 8; ++k) y[k] = byte_minus64(x, k, 1) * d;
  }
};

}  // namespace dq::cuda
