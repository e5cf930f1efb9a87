// TQ1_0 (five base-3 digits per byte, extracted by multiply-and-take-the-top-byte) and
// TQ2_0 (2 bits per element); values -1, 0, +1 times an f16 scale.
#include <cstddef>

#include "dq_common/blocks.hpp"
#include "scalar_kernels.hpp"

namespace dq::cpu::scalar {

using namespace dq::blocks;

namespace {

// Digit n (most significant first) of a byte holding a fixed-point base-3 fraction.
inline float ternary_digit(uint8_t byte, uint8_t pow3) {
  const uint8_t q = static_cast<uint8_t>(byte * pow3);
  const int16_t xi = static_cast<int16_t>((static_cast<uint16_t>(q) * 3) >> 8);
  return static_cast<float>(xi - 1);
}

constexpr uint8_t kPow3[5] = {1, 3, 9, 27, 81};

}  // namespace

void dequant_tq1_0(const uint8_t *src, float *y, int64_t nb) {
  constexpr int kQs = sizeof(block_tq1_0::qs);    // 48
  constexpr int kQh = sizeof(block_tq1_0::qh);    // 4
  constexpr int kWide = kQs - kQs % 32;           // first 32 bytes in one 32-wide pass
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_tq1_0)) {
    const float d = load_f16(src + offsetof(block_tq1_0, d));
    const uint8_t *qs = src + offsetof(block_tq1_0, qs);
    const uint8_t *qh = src + offsetof(block_tq1_0, qh);
    for (int j = 0; j < kWide; j += 32)
      for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 32; ++m) *y++ = ternary_digit(qs[j + m], kPow3[n]) * d;
    for (int j = kWide; j < kQs; j += 16)
      for (int n = 0; n < 5; ++n)
        for (int m = 0; m < 16; ++m) *y++ = ternary_digit(qs[j + m], kPow3[n]) * d;
    for (int n = 0; n < 4; ++n)
      for (int j = 0; j < kQh; ++j) *y++ = ternary_digit(qh[j], kPow3[n]) * d;
  }
}

void dequant_tq2_0(const uint8_t *src, float *y, int64_t nb) {
  for (int64_t i = 0; i < nb; ++i, src += sizeof(block_tq2_0)) {
    const float d = load_f16(src + offsetof(block_tq2_0, d));
    const uint8_t *qs = src + offsetof(block_tq2_0, qs);
    for (int j = 0; j < 64; j += 32)
      for (int l = 0; l < 4; ++l)
        for (int m = 0; m < 32; ++m) {
          const int q = (qs[j + m] >> (l * 2)) & 3;
          *y++ = static_cast<float>(q - 1) * d;
        }
  }
}

}  // namespace dq::cpu::scalar
