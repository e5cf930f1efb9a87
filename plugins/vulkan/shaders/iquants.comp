#version 450
// The lattice i-quants: IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S, IQ1_M, each as ggml's
// dequantize_row_<type> (plugins/cpu/scalar/iq2_iq3.cpp, iq1.cpp), with its evaluation
// order: the sub-block scale first ((d * (0.5 + s)) * 0.25 and the like), then
// (scale * grid value) * sign, or scale * (grid value + delta); every operation rounded on
// its own (`precise`). Groups of 8 elements: ib32 = j / 32, l = (j % 32) / 8, jj = j % 8.
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "grid_layout.h"

// The tables of dq_common/grids.hpp, uploaded once per device (grids.cpp).
layout(std430, set = 0, binding = 2) readonly buffer Grids { uint grid_words[]; };

const uint kIQ2_XXS = 16u, kIQ2_XS = 17u, kIQ3_XXS = 18u, kIQ1_S = 19u, kIQ3_S = 21u, kIQ2_S = 22u,
           kIQ1_M = 29u;

uint block_bytes() {
  if (SRC_TYPE == kIQ2_XXS) return 66u;
  if (SRC_TYPE == kIQ2_XS) return 74u;
  if (SRC_TYPE == kIQ2_S) return 82u;
  if (SRC_TYPE == kIQ3_XXS) return 98u;
  if (SRC_TYPE == kIQ3_S) return 110u;
  if (SRC_TYPE == kIQ1_S) return 50u;
  return 56u;  // IQ1_M
}

// Byte k of a 64-bit grid entry stored as two words at index 2 * entry.
uint grid8(uint lo, uint hi, uint k) { return ((k < 4u ? lo : hi) >> (8u * (k & 3u))) & 0xffu; }

// (db * g) * (+-1): the sign multiply flips the sign of a zero too, as in the reference.
uint grid_signed(float db, uint g, uint signs, uint bit) {
  precise float v = db * float(g);
  precise float y = v * (((signs >> bit) & 1u) != 0u ? -1.0 : 1.0);
  return floatBitsToUint(y);
}

// (d * (0.5 + s)) * k
float half_step_scale(float d, uint s, float k) {
  precise float a = 0.5 + float(s);
  precise float b = d * a;
  precise float c = b * k;
  return c;
}

// dl * (v + delta), v a signed grid byte.
uint iq1_value(float dl, uint byte_, bool negative_delta) {
  precise float v = float(int(byte_ << 24) >> 24) + (negative_delta ? -0.125 : 0.125);
  precise float y = dl * v;
  return floatBitsToUint(y);
}

uint decode(uint e) {
  const uint b = (e / 256u) * block_bytes();
  const uint j = e % 256u;
  const uint ib32 = j / 32u, l = (j % 32u) / 8u, jj = j % 8u;
  if (SRC_TYPE == kIQ2_XXS) {
    const uint q = b + 2u + 8u * ib32;
    const uint aux = src_u32(q + 4u);
    const float db = half_step_scale(half_to_float(src_u16(b)), aux >> 28, 0.25);
    const uint idx = src_byte(q + l);
    const uint signs = grid_words[DQ_GRID_SIGNS_IQ2XS + ((aux >> (7u * l)) & 127u)];
    return grid_signed(db, grid8(grid_words[DQ_GRID_IQ2XXS + 2u * idx], grid_words[DQ_GRID_IQ2XXS + 2u * idx + 1u], jj), signs, jj);
  }
  if (SRC_TYPE == kIQ2_XS || SRC_TYPE == kIQ2_S) {
    const uint scales = SRC_TYPE == kIQ2_XS ? b + 66u : b + 74u;
    const uint sc = src_byte(scales + ib32);
    const float db = half_step_scale(half_to_float(src_u16(b)), l < 2u ? (sc & 0xfu) : (sc >> 4), 0.25);
    if (SRC_TYPE == kIQ2_XS) {
      const uint q = src_u16(b + 2u + 2u * (4u * ib32 + l));
      const uint idx = q & 511u;
      return grid_signed(db, grid8(grid_words[DQ_GRID_IQ2XS + 2u * idx], grid_words[DQ_GRID_IQ2XS + 2u * idx + 1u], jj), grid_words[DQ_GRID_SIGNS_IQ2XS + (q >> 9)], jj);
    }
    const uint qh = src_byte(b + 66u + ib32);
    const uint idx = src_byte(b + 2u + 4u * ib32 + l) | ((qh << (8u - 2u * l)) & 0x300u);
    const uint signs = src_byte(b + 2u + 32u + 4u * ib32 + l);
    return grid_signed(db, grid8(grid_words[DQ_GRID_IQ2S + 2u * idx], grid_words[DQ_GRID_IQ2S + 2u * idx + 1u], jj), signs, jj);
  }
  if (SRC_TYPE == kIQ3_XXS) {
    const uint aux = src_u32(b + 2u + 64u + 4u * ib32);
    const float db = half_step_scale(half_to_float(src_u16(b)), aux >> 28, 0.5);
    const uint signs = grid_words[DQ_GRID_SIGNS_IQ2XS + ((aux >> (7u * l)) & 127u)];
    const uint idx = src_byte(b + 2u + 8u * ib32 + 2u * l + (jj >> 2));
    return grid_signed(db, (grid_words[DQ_GRID_IQ3XXS + idx] >> (8u * (jj & 3u))) & 0xffu, signs, jj);
  }
  if (SRC_TYPE == kIQ3_S) {
    const uint half_i = ib32 & 1u;
    const uint sc = src_byte(b + 106u + ib32 / 2u);
    const uint s = half_i == 0u ? (sc & 0xfu) : (sc >> 4);
    precise float db = half_to_float(src_u16(b)) * float(1u + 2u * s);
    const uint qh = src_byte(b + 66u + ib32);
    const uint q = b + 2u + 8u * ib32;
    const uint idx = jj < 4u ? (src_byte(q + 2u * l) | ((qh << (8u - 2u * l)) & 256u))
                             : (src_byte(q + 2u * l + 1u) | ((qh << (7u - 2u * l)) & 256u));
    const uint signs = src_byte(b + 74u + 4u * ib32 + l);
    return grid_signed(db, (grid_words[DQ_GRID_IQ3S + idx] >> (8u * (jj & 3u))) & 0xffu, signs, jj);
  }
  if (SRC_TYPE == kIQ1_S) {
    const uint qh = src_u16(b + 34u + 2u * ib32);
    precise float dl = half_to_float(src_u16(b)) * float(2u * ((qh >> 12) & 7u) + 1u);
    const uint idx = src_byte(b + 2u + 4u * ib32 + l) | (((qh >> (3u * l)) & 7u) << 8);
    return iq1_value(dl, grid8(grid_words[DQ_GRID_IQ1S + 2u * idx], grid_words[DQ_GRID_IQ1S + 2u * idx + 1u], jj), (qh & 0x8000u) != 0u);
  }
  // IQ1_M: no d field; its f16 bits are the top nibbles of the four scale words.
  const uint sc0 = src_u16(b + 48u), sc1 = src_u16(b + 50u), sc2 = src_u16(b + 52u), sc3 = src_u16(b + 54u);
  const uint scale_bits = (sc0 >> 12) | ((sc1 >> 8) & 0x00f0u) | ((sc2 >> 4) & 0x0f00u) | (sc3 & 0xf000u);
  const float d = half_to_float(scale_bits);
  const uint scw = src_u16(b + 48u + 2u * (ib32 / 2u));
  const uint s = (scw >> (6u * (ib32 % 2u) + (l < 2u ? 0u : 3u))) & 7u;
  precise float dl = d * float(2u * s + 1u);
  const uint qh = src_byte(b + 32u + 2u * ib32 + l / 2u);
  const uint idx = src_byte(b + 4u * ib32 + l) | ((qh << ((l & 1u) == 0u ? 8u : 4u)) & 0x700u);
  const bool neg = (qh & ((l & 1u) == 0u ? 0x08u : 0x80u)) != 0u;
  return iq1_value(dl, grid8(grid_words[DQ_GRID_IQ1S + 2u * idx], grid_words[DQ_GRID_IQ1S + 2u * idx + 1u], jj), neg);
}

// Elements e0..e0+7: exactly one group of 8 (l fixed), so the scale, the grid entry (two
// words: one 8-byte entry, or two 4-byte IQ3 entries for jj < 4 and jj >= 4) and the signs are
// found once; each element then as in decode.
void decode8(uint e0, out uvec4 lo4, out uvec4 hi4) {
  const uint b = (e0 / 256u) * block_bytes();
  const uint j = e0 % 256u;
  const uint ib32 = j / 32u, l = (j % 32u) / 8u;
  float scale;
  uint g_lo, g_hi, signs = 0u;
  bool neg = false;
  if (SRC_TYPE == kIQ2_XXS) {
    const uint q = b + 2u + 8u * ib32;
    const uint aux = src_u32(q + 4u);
    scale = half_step_scale(half_to_float(src_u16(b)), aux >> 28, 0.25);
    const uint idx = src_byte(q + l);
    signs = grid_words[DQ_GRID_SIGNS_IQ2XS + ((aux >> (7u * l)) & 127u)];
    g_lo = grid_words[DQ_GRID_IQ2XXS + 2u * idx];
    g_hi = grid_words[DQ_GRID_IQ2XXS + 2u * idx + 1u];
  } else if (SRC_TYPE == kIQ2_XS || SRC_TYPE == kIQ2_S) {
    const uint scales = SRC_TYPE == kIQ2_XS ? b + 66u : b + 74u;
    const uint sc = src_byte(scales + ib32);
    scale = half_step_scale(half_to_float(src_u16(b)), l < 2u ? (sc & 0xfu) : (sc >> 4), 0.25);
    if (SRC_TYPE == kIQ2_XS) {
      const uint q = src_u16(b + 2u + 2u * (4u * ib32 + l));
      const uint idx = q & 511u;
      g_lo = grid_words[DQ_GRID_IQ2XS + 2u * idx];
      g_hi = grid_words[DQ_GRID_IQ2XS + 2u * idx + 1u];
      signs = grid_words[DQ_GRID_SIGNS_IQ2XS + (q >> 9)];
    } else {
      const uint qh = src_byte(b + 66u + ib32);
      const uint idx = src_byte(b + 2u + 4u * ib32 + l) | ((qh << (8u - 2u * l)) & 0x300u);
      signs = src_byte(b + 2u + 32u + 4u * ib32 + l);
      g_lo = grid_words[DQ_GRID_IQ2S + 2u * idx];
      g_hi = grid_words[DQ_GRID_IQ2S + 2u * idx + 1u];
    }
  } else if (SRC_TYPE == kIQ3_XXS) {
    const uint aux = src_u32(b + 2u + 64u + 4u * ib32);
    scale = half_step_scale(half_to_float(src_u16(b)), aux >> 28, 0.5);
    signs = grid_words[DQ_GRID_SIGNS_IQ2XS + ((aux >> (7u * l)) & 127u)];
    const uint q = b + 2u + 8u * ib32 + 2u * l;
    g_lo = grid_words[DQ_GRID_IQ3XXS + src_byte(q)];
    g_hi = grid_words[DQ_GRID_IQ3XXS + src_byte(q + 1u)];
  } else if (SRC_TYPE == kIQ3_S) {
    const uint half_i = ib32 & 1u;
    const uint sc = src_byte(b + 106u + ib32 / 2u);
    const uint s = half_i == 0u ? (sc & 0xfu) : (sc >> 4);
    precise float db = half_to_float(src_u16(b)) * float(1u + 2u * s);
    scale = db;
    const uint qh = src_byte(b + 66u + ib32);
    const uint q = b + 2u + 8u * ib32;
    g_lo = grid_words[DQ_GRID_IQ3S + (src_byte(q + 2u * l) | ((qh << (8u - 2u * l)) & 256u))];
    g_hi = grid_words[DQ_GRID_IQ3S + (src_byte(q + 2u * l + 1u) | ((qh << (7u - 2u * l)) & 256u))];
    signs = src_byte(b + 74u + 4u * ib32 + l);
  } else if (SRC_TYPE == kIQ1_S) {
    const uint qh = src_u16(b + 34u + 2u * ib32);
    precise float dl = half_to_float(src_u16(b)) * float(2u * ((qh >> 12) & 7u) + 1u);
    scale = dl;
    const uint idx = src_byte(b + 2u + 4u * ib32 + l) | (((qh >> (3u * l)) & 7u) << 8);
    g_lo = grid_words[DQ_GRID_IQ1S + 2u * idx];
    g_hi = grid_words[DQ_GRID_IQ1S + 2u * idx + 1u];
    neg = (qh & 0x8000u) != 0u;
  } else {  // IQ1_M
    const uint sc0 = src_u16(b + 48u), sc1 = src_u16(b + 50u), sc2 = src_u16(b + 52u), sc3 = src_u16(b + 54u);
    const uint scale_bits = (sc0 >> 12) | ((sc1 >> 8) & 0x00f0u) | ((sc2 >> 4) & 0x0f00u) | (sc3 & 0xf000u);
    const float d = half_to_float(scale_bits);
    const uint scw = src_u16(b + 48u + 2u * (ib32 / 2u));
    const uint s = (scw >> (6u * (ib32 % 2u) + (l < 2u ? 0u : 3u))) & 7u;
    precise float dl = d * float(2u * s + 1u);
    scale = dl;
    const uint qh = src_byte(b + 32u + 2u * ib32 + l / 2u);
    const uint idx = src_byte(b + 4u * ib32 + l) | ((qh << ((l & 1u) == 0u ? 8u : 4u)) & 0x700u);
    g_lo = grid_words[DQ_GRID_IQ1S + 2u * idx];
    g_hi = grid_words[DQ_GRID_IQ1S + 2u * idx + 1u];
    neg = (qh & ((l & 1u) == 0u ? 0x08u : 0x80u)) != 0u;
  }
  uint v[8];
  [[unroll]] for (uint jj = 0u; jj < 8u; ++jj) {
    const uint g = grid8(g_lo, g_hi, jj);
    if (SRC_TYPE == kIQ1_S || SRC_TYPE == kIQ1_M)
      v[jj] = iq1_value(scale, g, neg);
    else
      v[jj] = grid_signed(scale, g, signs, jj);
  }
  lo4 = uvec4(v[0], v[1], v[2], v[3]);
  hi4 = uvec4(v[4], v[5], v[6], v[7]);
}

DQ_MAIN(decode, decode8, false)
