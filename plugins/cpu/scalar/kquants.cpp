// k-quants: 256-element super-blocks with an f16 scale (and min scale) and quantized
// sub-block scales. Expressions keep ggml's evaluation order (e.g. (d * sc) * q - m).
#include <cstddef>
#include <cstring>

#include "dq_common/blocks.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;

namespace {

// Q4_K / Q5_K pack eight 6-bit scales and eight 6-bit mins into 12 bytes.
void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

}  // namespace

void dequant_q2_K(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q2_K)) {
    const float d = load_f16(src + offsetof(block_q2_K, d));
    const float min = load_f16(src + offsetof(block_q2_K, dmin));
    const uint8_t *scales = src + offsetof(block_q2_K, scales);
    const uint8_t *q = src + offsetof(block_q2_K, qs);
    int is = 0;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = scales[is++];
          const float dl = d * (sc & 0xF);
          const float ml = min * (sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
        }
        shift += 2;
      }
      q += 32;
    }
  }
}

void dequant_q3_K(const uint8_t *src, float *y, int64_t nb) {
  constexpr uint32_t kmask1 = 0x03030303;
  constexpr uint32_t kmask2 = 0x0f0f0f0f;
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q3_K)) {
    const float d_all = load_f16(src + offsetof(block_q3_K, d));
    const uint8_t *q = src + offsetof(block_q3_K, qs);
    const uint8_t *hm = src + offsetof(block_q3_K, hmask);
    // Sixteen 6-bit scales: low 4 bits in bytes 0..7, high 2 bits in bytes 8..11.
    uint32_t aux[4];
    memcpy(aux, src + offsetof(block_q3_K, scales), 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t scales[16];
    memcpy(scales, aux, 16);

    int is = 0;
    uint8_t m = 1;
    for (int n = 0; n < QK_K; n += 128) {
      int shift = 0;
      for (int j = 0; j < 4; ++j) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * (scales[is++] - 32);
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * half;
            *y++ = dl * (((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
          }
        }
        shift += 2;
        m <<= 1;
      }
      q += 32;
    }
  }
}

void dequant_q4_K(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q4_K)) {
    const float d = load_f16(src + offsetof(block_q4_K, d));
    const float min = load_f16(src + offsetof(block_q4_K, dmin));
    const uint8_t *scales = src + offsetof(block_q4_K, scales);
    const uint8_t *q = src + offsetof(block_q4_K, qs);
    int is = 0;
    for (int j = 0; j < QK_K; j += 64) {
      uint8_t sc, m;
      scale_min_k4(is + 0, scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(is + 1, scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
      q += 32;
      is += 2;
    }
  }
}

void dequant_q5_K(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q5_K)) {
    const float d = load_f16(src + offsetof(block_q5_K, d));
    const float min = load_f16(src + offsetof(block_q5_K, dmin));
    const uint8_t *scales = src + offsetof(block_q5_K, scales);
    const uint8_t *ql = src + offsetof(block_q5_K, qs);
    const uint8_t *qh = src + offsetof(block_q5_K, qh);
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < QK_K; j += 64) {
      uint8_t sc, m;
      scale_min_k4(is + 0, scales, &sc, &m);
      const float d1 = d * sc;
      const float m1 = min * m;
      scale_min_k4(is + 1, scales, &sc, &m);
      const float d2 = d * sc;
      const float m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      ql += 32;
      is += 2;
      u1 <<= 2;
      u2 <<= 2;
    }
  }
}

void dequant_q6_K(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q6_K)) {
    const float d = load_f16(src + offsetof(block_q6_K, d));
    const uint8_t *ql = src + offsetof(block_q6_K, ql);
    const uint8_t *qh = src + offsetof(block_q6_K, qh);
    const int8_t *sc = reinterpret_cast<const int8_t *>(src + offsetof(block_q6_K, scales));
    for (int n = 0; n < QK_K; n += 128) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
      y += 128;
      ql += 64;
      qh += 32;
      sc += 8;
    }
  }
}

void dequant_q8_K(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_q8_K), y += QK_K) {
    const float d = load_f32(src + offsetof(block_q8_K, d));
    const int8_t *qs = reinterpret_cast<const int8_t *>(src + offsetof(block_q8_K, qs));
    for (int j = 0; j < QK_K; ++j) y[j] = d * qs[j];
  }
}

}  // namespace dq::cpu::scalar
