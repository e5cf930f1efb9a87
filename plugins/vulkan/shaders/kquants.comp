#version 450
// The k-quants: 256-element super-blocks Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K, each as ggml's
// dequantize_row_<type> (plugins/cpu/scalar/kquants.cpp), with its evaluation order:
// sub-block scale and min first (d * sc, dmin * m), then (d * sc) * q - (dmin * m), every
// product and difference rounded on its own (`precise`: no contraction into an FMA).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

const uint kQ2_K = 10u, kQ3_K = 11u, kQ4_K = 12u, kQ5_K = 13u, kQ6_K = 14u, kQ8_K = 15u;

uint block_bytes() {
  if (SRC_TYPE == kQ2_K) return 84u;
  if (SRC_TYPE == kQ3_K) return 110u;
  if (SRC_TYPE == kQ4_K) return 144u;
  if (SRC_TYPE == kQ5_K) return 176u;
  if (SRC_TYPE == kQ6_K) return 210u;
  return 292u;  // Q8_K
}

// y = dl * q - ml with both operations rounded separately.
uint scaled_minus(float dl, float q, float ml) {
  precise float prod = dl * q;
  precise float y = prod - ml;
  return floatBitsToUint(y);
}

// Q4_K / Q5_K: eight 6-bit scales and mins packed in 12 bytes at `s` (ggml get_scale_min_k4).
void scale_min_k4(uint s, uint j, out uint sc, out uint m) {
  if (j < 4u) {
    sc = src_byte(s + j) & 63u;
    m = src_byte(s + j + 4u) & 63u;
  } else {
    sc = (src_byte(s + j + 4u) & 0xfu) | ((src_byte(s + j - 4u) >> 6) << 4);
    m = (src_byte(s + j + 4u) >> 4) | ((src_byte(s + j) >> 6) << 4);
  }
}

// Q2_K and Q3_K: 2 chunks of 128; in a chunk, 4 shifts of 2 bits over 32 bytes of qs, each
// as two 16-element halves with their own scale.
uint decode_q2_q3(uint b, uint j) {
  const uint n = j / 128u, r = j % 128u;
  const uint j4 = r / 32u, half_i = (r % 32u) / 16u, l = r % 16u;
  const uint is = n * 8u + j4 * 2u + half_i;
  const uint k = l + 16u * half_i;
  const uint shift = 2u * j4;
  if (SRC_TYPE == kQ2_K) {
    const float d = half_to_float(src_u16(b + 80u));
    const float dmin = half_to_float(src_u16(b + 82u));
    const uint sc = src_byte(b + is);
    precise float dl = d * float(sc & 0xfu);
    precise float ml = dmin * float(sc >> 4);
    const uint q = (src_byte(b + 16u + n * 32u + k) >> shift) & 3u;
    return scaled_minus(dl, float(q), ml);
  }
  // Q3_K: sixteen 6-bit scales, low 4 bits in bytes 0..7 of `scales`, high 2 in 8..11.
  const uint s = b + 96u;
  const uint low = is < 8u ? (src_byte(s + is) & 0xfu) : (src_byte(s + is - 8u) >> 4);
  const uint high = (src_byte(s + 8u + (is % 4u)) >> (2u * (is / 4u))) & 3u;
  const float d_all = half_to_float(src_u16(b + 108u));
  precise float dl = d_all * float(int(low | (high << 4)) - 32);
  const uint hbit = (src_byte(b + k) >> (n * 4u + j4)) & 1u;
  const int q = int((src_byte(b + 32u + n * 32u + k) >> shift) & 3u) - (hbit != 0u ? 0 : 4);
  precise float y = dl * float(q);
  return floatBitsToUint(y);
}

// Q4_K and Q5_K: 4 chunks of 64 elements: 32 low nibbles then 32 high nibbles of 32 bytes.
uint decode_q4_q5(uint b, uint j) {
  const uint c = j / 64u, r = j % 64u;
  const uint half_i = r / 32u, l = r % 32u;
  const uint is = 2u * c + half_i;
  const float d = half_to_float(src_u16(b));
  const float dmin = half_to_float(src_u16(b + 2u));
  uint sc, m;
  scale_min_k4(b + 4u, is, sc, m);
  precise float dl = d * float(sc);
  precise float ml = dmin * float(m);
  const uint qs = SRC_TYPE == kQ4_K ? b + 16u : b + 48u;
  const uint qbyte = src_byte(qs + 32u * c + l);
  uint q = half_i == 0u ? (qbyte & 0xfu) : (qbyte >> 4);
  if (SRC_TYPE == kQ5_K) q += ((src_byte(b + 16u + l) >> is) & 1u) * 16u;
  return scaled_minus(dl, float(q), ml);
}

// Q6_K: 2 chunks of 128 = 4 groups of 32; y = d * sc * q, left to right.
uint decode_q6(uint b, uint j) {
  const uint n = j / 128u, r = j % 128u;
  const uint g = r / 32u, l = r % 32u;
  const uint ql = src_byte(b + 64u * n + l + (g & 1u) * 32u);
  const uint qh = src_byte(b + 128u + 32u * n + l);
  const uint low = g < 2u ? (ql & 0xfu) : (ql >> 4);
  const int q = int(low | (((qh >> (2u * g)) & 3u) << 4)) - 32;
  const int sc = int(src_byte(b + 192u + 8u * n + l / 16u + 2u * g) << 24) >> 24;
  const float d = half_to_float(src_u16(b + 208u));
  precise float ds = d * float(sc);
  precise float y = ds * float(q);
  return floatBitsToUint(y);
}

// Q8_K: y = d * q for the f32 d (bits `dbits`), which may be subnormal (common.glsl,
// DENORM_MODE): with kDenormExact a zero exponent field takes the integer product, so a
// device that flushes f32 subnormals still writes the host's value.
uint q8_k_value(uint dbits, int q) {
  if ((DENORM_MODE & kDenormExact) != 0u && (dbits & 0x7f800000u) == 0u) return subnormal_times_int_bits(dbits, q);
  return device_mul_bits(uintBitsToFloat(dbits), float(q));
}

uint decode(uint e) {
  const uint b = (e / 256u) * block_bytes();
  const uint j = e % 256u;
  if (SRC_TYPE == kQ2_K || SRC_TYPE == kQ3_K) return decode_q2_q3(b, j);
  if (SRC_TYPE == kQ4_K || SRC_TYPE == kQ5_K) return decode_q4_q5(b, j);
  if (SRC_TYPE == kQ6_K) return decode_q6(b, j);
  // Q8_K: an f32 scale.
  const int q = int(src_byte(b + 4u + j) << 24) >> 24;
  return q8_k_value(src_u32(b), q);
}

// Elements e0..e0+7 (e0 a multiple of 8: one sub-block's run, one scale): the super-block's
// d/dmin and the sub-block scale read once, the 8 quant bytes (and the 8 high-bit bytes) as
// two words each; every product and sum as in the per-element decode above.
void decode8(uint e0, out uvec4 lo4, out uvec4 hi4) {
  const uint b = (e0 / 256u) * block_bytes();
  const uint j0 = e0 % 256u;
  uint v[8];
  if (SRC_TYPE == kQ2_K || SRC_TYPE == kQ3_K) {
    const uint n = j0 / 128u, r = j0 % 128u;
    const uint j4 = r / 32u, half_i = (r % 32u) / 16u, l0 = r % 16u;
    const uint is = n * 8u + j4 * 2u + half_i;
    const uint k0 = l0 + 16u * half_i;
    const uint shift = 2u * j4;
    if (SRC_TYPE == kQ2_K) {
      const uint dd = src_u32(b + 80u);
      const float d = half_to_float(dd & 0xffffu);
      const float dmin = half_to_float(dd >> 16);
      const uint sc = src_byte(b + is);
      precise float dl = d * float(sc & 0xfu);
      precise float ml = dmin * float(sc >> 4);
      const uint w0 = src_u32(b + 16u + n * 32u + k0), w1 = src_u32(b + 20u + n * 32u + k0);
      [[unroll]] for (uint k = 0u; k < 8u; ++k) {
        const uint q = (byte8(w0, w1, k) >> shift) & 3u;
        v[k] = scaled_minus(dl, float(q), ml);
      }
    } else {
      const uint s = b + 96u;
      const uint low = is < 8u ? (src_byte(s + is) & 0xfu) : (src_byte(s + is - 8u) >> 4);
      const uint high = (src_byte(s + 8u + (is % 4u)) >> (2u * (is / 4u))) & 3u;
      const float d_all = half_to_float(src_u16(b + 108u));
      precise float dl = d_all * float(int(low | (high << 4)) - 32);
      const uint h0 = src_u32(b + k0), h1 = src_u32(b + 4u + k0);
      const uint w0 = src_u32(b + 32u + n * 32u + k0), w1 = src_u32(b + 36u + n * 32u + k0);
      [[unroll]] for (uint k = 0u; k < 8u; ++k) {
        const uint hbit = (byte8(h0, h1, k) >> (n * 4u + j4)) & 1u;
        const int q = int((byte8(w0, w1, k) >> shift) & 3u) - (hbit != 0u ? 0 : 4);
        precise float y = dl * float(q);
        v[k] = floatBitsToUint(y);
      }
    }
  } else if (SRC_TYPE == kQ4_K || SRC_TYPE == kQ5_K) {
    const uint c = j0 / 64u, r = j0 % 64u;
    const uint half_i = r / 32u, l0 = r % 32u;
    const uint is = 2u * c + half_i;
    const uint dd = src_u32(b);
    const float d = half_to_float(dd & 0xffffu);
    const float dmin = half_to_float(dd >> 16);
    uint sc, m;
    scale_min_k4(b + 4u, is, sc, m);
    precise float dl = d * float(sc);
    precise float ml = dmin * float(m);
    const uint qs = (SRC_TYPE == kQ4_K ? b + 16u : b + 48u) + 32u * c + l0;
    const uint w0 = src_u32(qs), w1 = src_u32(qs + 4u);
    uint h0 = 0u, h1 = 0u;
    if (SRC_TYPE == kQ5_K) h0 = src_u32(b + 16u + l0), h1 = src_u32(b + 20u + l0);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) {
      const uint qbyte = byte8(w0, w1, k);
      uint q = half_i == 0u ? (qbyte & 0xfu) : (qbyte >> 4);
      if (SRC_TYPE == kQ5_K) q += ((byte8(h0, h1, k) >> is) & 1u) * 16u;
      v[k] = scaled_minus(dl, float(q), ml);
    }
  } else if (SRC_TYPE == kQ6_K) {
    const uint n = j0 / 128u, r = j0 % 128u;
    const uint g = r / 32u, l0 = r % 32u;
    const uint ql = b + 64u * n + l0 + (g & 1u) * 32u;
    const uint l_0 = src_u32(ql), l_1 = src_u32(ql + 4u);
    const uint qh = b + 128u + 32u * n + l0;
    const uint h0 = src_u32(qh), h1 = src_u32(qh + 4u);
    const int sc = int(src_byte(b + 192u + 8u * n + l0 / 16u + 2u * g) << 24) >> 24;
    const float d = half_to_float(src_u16(b + 208u));
    precise float ds = d * float(sc);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) {
      const uint lb = byte8(l_0, l_1, k);
      const uint low = g < 2u ? (lb & 0xfu) : (lb >> 4);
      const int q = int(low | (((byte8(h0, h1, k) >> (2u * g)) & 3u) << 4)) - 32;
      precise float y = ds * float(q);
      v[k] = floatBitsToUint(y);
    }
  } else {
    // Q8_K: an f32 scale.
    const uint dbits = src_u32(b);
    const uint w0 = src_u32(b + 4u + j0), w1 = src_u32(b + 8u + j0);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) v[k] = q8_k_value(dbits, int(byte8(w0, w1, k) << 24) >> 24);
  }
  lo4 = uvec4(v[0], v[1], v[2], v[3]);
  hi4 = uvec4(v[4], v[5], v[6], v[7]);
}

DQ_MAIN(decode, decode8, false)
