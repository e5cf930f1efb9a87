#include "scale_fields.hpp"

#include <cstring>

#include "dq/dq.h"

namespace dq::conformance {

std::vector<ScaleField> scale_fields(int32_t type) {
  using K = ScaleKind;
  switch (type) {
    // d first: q4_0, q5_0, q8_0, iq4_nl, iq2_xxs, iq2_xs, iq2_s, iq3_xxs, iq3_s, iq1_s,
    // iq4_xs, q1_0, q2_0.
    case DQ_TYPE_Q4_0: case DQ_TYPE_Q5_0: case DQ_TYPE_Q8_0: case DQ_TYPE_IQ4_NL:
    case DQ_TYPE_IQ2_XXS: case DQ_TYPE_IQ2_XS: case DQ_TYPE_IQ2_S: case DQ_TYPE_IQ3_XXS:
    case DQ_TYPE_IQ3_S: case DQ_TYPE_IQ1_S: case DQ_TYPE_IQ4_XS: case DQ_TYPE_Q1_0:
    case DQ_TYPE_Q2_0:
      return {{0, K::f16}};
    // d then m (or dmin): q4_1, q5_1, q4_K, q5_K.
    case DQ_TYPE_Q4_1: case DQ_TYPE_Q5_1: case DQ_TYPE_Q4_K: case DQ_TYPE_Q5_K:
      return {{0, K::f16}, {2, K::f16}};
    case DQ_TYPE_Q2_K: return {{80, K::f16}, {82, K::f16}};  // scales[16] qs[64] d dmin
    case DQ_TYPE_Q3_K: return {{108, K::f16}};               // hmask[32] qs[64] scales[12] d
    case DQ_TYPE_Q6_K: return {{208, K::f16}};               // ql[128] qh[64] scales[16] d
    case DQ_TYPE_Q8_K: return {{0, K::f32}};                 // float d; qs[256]; bsums
    case DQ_TYPE_TQ1_0: return {{52, K::f16}};               // qs[48] qh[4] d
    case DQ_TYPE_TQ2_0: return {{64, K::f16}};               // qs[64] d
    case DQ_TYPE_IQ1_M: return {{48, K::f16_nibbles}};       // qs[32] qh[16] scales[8]
    case DQ_TYPE_MXFP4: return {{0, K::e8m0}};               // e; qs[16]
    default: return {};
  }
}

namespace {
uint16_t load_u16(const uint8_t *p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
void store_u16(uint8_t *p, uint16_t v) { std::memcpy(p, &v, 2); }
}  // namespace

// ggml (dequantize_row_iq1_m): scale = sc[0]>>12 | (sc[1]>>8)&0xf0 | (sc[2]>>4)&0xf00 |
// sc[3]&0xf000, i.e. nibble k of the f16 is the top nibble of word k.
uint16_t read_f16_nibbles(const uint8_t *p) {
  uint16_t v = 0;
  for (int k = 0; k < 4; ++k) v |= static_cast<uint16_t>((load_u16(p + 2 * k) >> 12) << (4 * k));
  return v;
}

void write_f16_nibbles(uint8_t *p, uint16_t f16_bits) {
  for (int k = 0; k < 4; ++k) {
    const uint16_t word = load_u16(p + 2 * k);
    const uint16_t nibble = (f16_bits >> (4 * k)) & 0xf;
    store_u16(p + 2 * k, static_cast<uint16_t>((word & 0x0fff) | (nibble << 12)));
  }
}

}  // namespace dq::conformance
