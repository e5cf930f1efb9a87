// Decoders for the ternary formats TQ1_0 (base-3 packed, 5 trits a byte) and TQ2_0
// (2 bits a value), following ggml's dequantize_row_tq1_0 / tq2_0.
#pragma once

#include "decode_common.cuh"

namespace dq::cuda {

// Trit n (0 = most significant) of a byte holding 5 trits in ggml's fixed-point form.
DQ_DEV_INLINE int tq1_trit(uint32_t byte, int n) {
  const uint32_t pow3 = n == 0 ? 1u : n == 1 ? 3u : n == 2 ? 9u : n == 3 ? 27u : 81u;
  const uint32_t q = (byte * pow3) & 0xffu;  // uint8_t wrap, as in ggml
  return static_cast<int>((q * 3u) >> 8);
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
      const uint64_t q = ld_u64(b + DQ_OFF(block_tq1_0, qs) + m0);
DQ_UNROLL
      for (int k = 0; k < 8; ++k) {
        const int xi = tq1_trit(byte_of(q, k), n);
        y[k] = static_cast<float>(xi - 1) * d;
      }
    } else {
      const uint32_t qh = ld_u32(b + DQ_OFF(block_tq1_0, qh));
      const int r = j0 - 240;  // 0 or 8
DQ_UNROLL
      for (int k = 0; k < 8; ++k) {
        const int e = r + k;
        const int xi = tq1_trit((qh >> (8 * (e & 3))) & 0xffu, e >> 2);
        y[k] = static_cast<float>(xi - 1) * d;
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
    const uint64_t q = ld_u64(b + DQ_OFF(block_tq2_0, qs) + 32 * c + m0);
DQ_UNROLL
    for (int k = 0; k < 8; ++k) {
      const int x = static_cast<int>((byte_of(q, k) >> (2 * l)) & 3);
      y[k] = static_cast<float>(x - 1) * d;
    }
  }
};

}  // namespace dq::cuda
