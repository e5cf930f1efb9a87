#version 450
// The 32-element legacy formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, each as ggml's
// dequantize_row_<type> (plugins/cpu/scalar/legacy.cpp): element j of a 4/5-bit block is
// the low nibble of qs[j] (j < 16) or the high nibble of qs[j - 16]; the fifth bit of
// element j is bit j of qh. y = x * d, or x * d + m with the product and the sum rounded
// separately (`precise`: no contraction into an FMA).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

const uint kQ4_0 = 2u, kQ4_1 = 3u, kQ5_0 = 6u, kQ5_1 = 7u, kQ8_0 = 8u;

uint block_bytes() {
  if (SRC_TYPE == kQ4_0) return 18u;
  if (SRC_TYPE == kQ4_1) return 20u;
  if (SRC_TYPE == kQ5_0) return 22u;
  if (SRC_TYPE == kQ5_1) return 24u;
  return 34u;  // Q8_0
}

// Offset of qs inside the block.
uint qs_offset() {
  if (SRC_TYPE == kQ4_0) return 2u;
  if (SRC_TYPE == kQ4_1) return 4u;
  if (SRC_TYPE == kQ5_0) return 6u;
  if (SRC_TYPE == kQ5_1) return 8u;
  return 2u;
}

uint decode(uint e) {
  const uint b = (e / 32u) * block_bytes();
  const uint j = e % 32u;
  const float d = half_to_float(src_u16(b));
  if (SRC_TYPE == kQ8_0) {
    const int x = int(src_byte(b + 2u + j) << 24) >> 24;  // sign-extend the int8
    precise float y = float(x) * d;
    return floatBitsToUint(y);
  }
  const uint qbyte = src_byte(b + qs_offset() + (j & 15u));
  uint q = j < 16u ? (qbyte & 0x0fu) : (qbyte >> 4);
  if (SRC_TYPE == kQ5_0) q |= ((src_u32(b + 2u) >> j) & 1u) << 4;
  if (SRC_TYPE == kQ5_1) q |= ((src_u32(b + 4u) >> j) & 1u) << 4;
  if (SRC_TYPE == kQ4_0 || SRC_TYPE == kQ5_0) {
    const int x = int(q) - (SRC_TYPE == kQ4_0 ? 8 : 16);
    precise float y = float(x) * d;
    return floatBitsToUint(y);
  }
  const float m = half_to_float(src_u16(b + 2u));
  precise float prod = float(q) * d;
  precise float y = prod + m;
  return floatBitsToUint(y);
}

// Elements e0..e0+7 (a quarter block): d (and m, qh) read once, the 8 quant bytes as two words.
void decode8(uint e0, out uvec4 lo4, out uvec4 hi4) {
  const uint b = (e0 / 32u) * block_bytes();
  const uint j0 = e0 % 32u;
  const float d = half_to_float(src_u16(b));
  uint v[8];
  if (SRC_TYPE == kQ8_0) {
    const uint w0 = src_u32(b + 2u + j0), w1 = src_u32(b + 6u + j0);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) {
      const int x = int(byte8(w0, w1, k) << 24) >> 24;
      precise float y = float(x) * d;
      v[k] = floatBitsToUint(y);
    }
  } else {
    const uint qs = b + qs_offset() + (j0 & 15u);
    const uint w0 = src_u32(qs), w1 = src_u32(qs + 4u);
    const uint nibble = j0 < 16u ? 0u : 4u;
    uint qh = 0u;
    if (SRC_TYPE == kQ5_0) qh = src_u32(b + 2u) >> j0;
    if (SRC_TYPE == kQ5_1) qh = src_u32(b + 4u) >> j0;
    const float m = (SRC_TYPE == kQ4_1 || SRC_TYPE == kQ5_1) ? half_to_float(src_u16(b + 2u)) : 0.0;
    [[unroll]] for (uint k = 0u; k < 8u; ++k) {
      uint q = (byte8(w0, w1, k) >> nibble) & 0x0fu;
      if (SRC_TYPE == kQ5_0 || SRC_TYPE == kQ5_1) q |= ((qh >> k) & 1u) << 4;
      if (SRC_TYPE == kQ4_0 || SRC_TYPE == kQ5_0) {
        const int x = int(q) - (SRC_TYPE == kQ4_0 ? 8 : 16);
        precise float y = float(x) * d;
        v[k] = floatBitsToUint(y);
      } else {
        precise float prod = float(q) * d;
        precise float y = prod + m;
        v[k] = floatBitsToUint(y);
      }
    }
  }
  lo4 = uvec4(v[0], v[1], v[2], v[3]);
  hi4 = uvec4(v[4], v[5], v[6], v[7]);
}

DQ_MAIN(decode, decode8, false)
