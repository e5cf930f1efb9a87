#version 450
// The small-codebook and low-bit formats: IQ4_NL, IQ4_XS (the non-linear 4-bit table),
// MXFP4, NVFP4 (doubled E2M1 values, halved scales), Q1_0, Q2_0, TQ1_0, TQ2_0. Each as ggml's
// dequantize_row_<type> (plugins/cpu/scalar/iq4.cpp, fp4.cpp, low_bit.cpp, ternary.cpp):
// one product of an exact small value and a scale (IQ4_XS: the sub-block scale first).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

const uint kIQ4_NL = 20u, kIQ4_XS = 23u, kTQ1_0 = 34u, kTQ2_0 = 35u, kMXFP4 = 39u, kNVFP4 = 40u,
           kQ1_0 = 41u, kQ2_0 = 42u;

// dq_common/grids.hpp kvalues_iq4nl and kvalues_mxfp4 (the goldens check every entry) are
// computed, not indexed: a dynamically indexed constant array spills to local memory on NVIDIA
// (IQ4_NL, MXFP4 and NVFP4 to f16 ran at a third of Q4_0's rate on the H100 with the arrays).
// kvalues_mxfp4[c]: the magnitudes 0 1 2 3 4 6 8 12 are the nibbles of one word, bit 3 the sign.
int mxfp4_code_value(uint c) {
  const int magnitude = int((0xc8643210u >> ((c & 7u) << 2)) & 0xfu);
  return (c & 8u) != 0u ? -magnitude : magnitude;
}

uint block_elements() {
  if (SRC_TYPE == kIQ4_NL || SRC_TYPE == kMXFP4) return 32u;
  if (SRC_TYPE == kNVFP4 || SRC_TYPE == kQ2_0) return 64u;
  if (SRC_TYPE == kQ1_0) return 128u;
  return 256u;
}

uint block_bytes() {
  if (SRC_TYPE == kIQ4_NL || SRC_TYPE == kQ1_0 || SRC_TYPE == kQ2_0) return 18u;
  if (SRC_TYPE == kIQ4_XS) return 136u;
  if (SRC_TYPE == kTQ1_0) return 54u;
  if (SRC_TYPE == kTQ2_0) return 66u;
  if (SRC_TYPE == kMXFP4) return 17u;
  return 36u;  // NVFP4
}

uint mul_bits(float a, float b) {
  precise float y = a * b;
  return floatBitsToUint(y);
}

// 4-bit code j of a 32-element group whose 16 bytes start at q: low nibbles first.
uint nibble32(uint q, uint j) {
  const uint byte_ = src_byte(q + (j & 15u));
  return j < 16u ? (byte_ & 0xfu) : (byte_ >> 4);
}

// E8M0 byte -> 2^(e-128) (ggml_e8m0_to_fp32_half): bytes 0 and 1 are f32 subnormals.
float e8m0_half(uint e) { return uintBitsToFloat(e < 2u ? (0x00200000u << e) : ((e - 1u) << 23)); }

// MXFP4: y = value * 2^(e-128). E8M0 bytes 0 and 1 give subnormal scales (common.glsl,
// DENORM_MODE): with kDenormExact those take the integer product, so a device that flushes
// f32 subnormals still writes the host's value.
uint mxfp4_value(uint e, int value) {
  if ((DENORM_MODE & kDenormExact) != 0u && e < 2u) return subnormal_times_int_bits(0x00200000u << e, value);
  return device_mul_bits(float(value), e8m0_half(e));
}

// UE4M3 byte -> half its value (ggml_ue4m3_to_fp32); 0x00 and 0x7F are zero.
float ue4m3_half(uint x) {
  if (x == 0u || x == 0x7fu) return 0.0;
  const uint e = (x >> 3) & 0xfu;
  const uint man = x & 7u;
  if (e == 0u) {
    precise float v = float(man) * 0.0009765625;
    return v;
  }
  return uintBitsToFloat(((e + 119u) << 23) | (man << 20));
}

// TQ1_0: digit of a fixed-point base-3 fraction byte: ((byte * 3^n) mod 256) * 3 >> 8, minus 1.
float ternary_digit(uint byte_, uint pow3) {
  const uint q = (byte_ * pow3) & 0xffu;
  return float(int((q * 3u) >> 8) - 1);
}

uint pow3(uint n) { return n == 0u ? 1u : n == 1u ? 3u : n == 2u ? 9u : n == 3u ? 27u : 81u; }

// 32 bits at byte i of the source: one word load where i is word-aligned in the binding
// (IQ4_XS's 136-byte blocks keep every header and code word aligned when the chunk starts
// aligned; the branch is uniform then), else src_u32's two.
uint src_u32_aligned_or_pair(uint i) {
  const uint at = i + params.src_byte_offset;
  if ((at & 3u) != 0u) return src_u32(i);
#if defined(DQ_STAGED) && !defined(DQ_FLOAT_FAMILY)
  if (kReadStaged) return stage_words[(at - stage_base) >> 2];
#endif
  return src_words[at >> 2];
}

// IQ4_XS's table lookup without an indexed array (a dynamically indexed local array spills to
// local memory on NVIDIA): kvalues_iq4nl[c] + 128 is 16c + r(c) for c < 8 and 16c - 11 + r(c)
// for c >= 8, r(c) a nibble of kIQ4Residue (codes 0-7, 8-15). Returns the f32 bits of
// 2^23 + 128 + kvalues_iq4nl[c] (exact), so one subtraction gives the value as a float with
// no int->float conversion (a quarter-rate instruction on NVIDIA).
const uint kIQ4Residue[2] = uint[2](0x6adffd81u, 0xc400148cu);
uint iq4nl_biased_bits(uint c) {
  const bool high = c >= 8u;
  const uint r = ((high ? kIQ4Residue[1] : kIQ4Residue[0]) >> ((c << 2) & 28u)) & 0xfu;
  return 16u * c + r + (high ? 0x4b000000u - 11u : 0x4b000000u);
}
// value * dl for the biased bits above; the subtraction is exact.
uint iq4nl_times(uint biased_bits, float dl) {
  precise float value = uintBitsToFloat(biased_bits) - 8388736.0;  // 2^23 + 128
  return mul_bits(dl, value);
}

// TQ1_0, 8 elements: trit n of byte x is (uint8(x * 3^n) * 3) >> 8, which is 0 below 86, 1
// below 171 and 2 from there, so two compares pick trit - 1 and one multiply by d gives
// ggml's product. (The multiply stays per element: a compiler may fold a constant 0.0 * d to
// +0.0 where ggml writes -0.0 for negative d, as lavapipe does.) Bytes 0, 2 and 1, 3 of a
// word are multiplied in 16-bit lanes (255 * 81 < 2^16: no carry between lanes); the compares
// read a lane's low byte at the top of the word (bits below it do not change them).
void tq1_word(uint w, uint p, float d, out uint v0, out uint v1, out uint v2, out uint v3) {
  const uint even = (w & 0x00ff00ffu) * p, odd = ((w >> 8) & 0x00ff00ffu) * p;
  const uint t[4] = uint[4](even << 24, odd << 24, even << 8, odd << 8);
  uint v[4];
  [[unroll]] for (uint k = 0u; k < 4u; ++k) {
    const float upper = t[k] < (171u << 24) ? 0.0 : 1.0;  // two selects, no branch
    v[k] = mul_bits(t[k] < (86u << 24) ? -1.0 : upper, d);
  }
  v0 = v[0]; v1 = v[1]; v2 = v[2]; v3 = v[3];
}

uint decode(uint e) {
  const uint b = (e / block_elements()) * block_bytes();
  const uint j = e % block_elements();
  if (SRC_TYPE == kIQ4_NL) return iq4nl_times(iq4nl_biased_bits(nibble32(b + 2u, j)), half_to_float(src_u16(b)));
  if (SRC_TYPE == kIQ4_XS) {
    const uint ib = j / 32u;
    const uint ls = ((src_byte(b + 4u + ib / 2u) >> (4u * (ib % 2u))) & 0xfu) | (((src_u16(b + 2u) >> (2u * ib)) & 3u) << 4);
    precise float dl = half_to_float(src_u16(b)) * float(int(ls) - 32);
    return iq4nl_times(iq4nl_biased_bits(nibble32(b + 8u + 16u * ib, j % 32u)), dl);
  }
  if (SRC_TYPE == kMXFP4) return mxfp4_value(src_byte(b), mxfp4_code_value(nibble32(b + 1u, j)));
  if (SRC_TYPE == kNVFP4) {
    const uint s = j / 16u, jj = j % 16u;
    const uint byte_ = src_byte(b + 4u + 8u * s + (jj & 7u));
    const uint code = jj < 8u ? (byte_ & 0xfu) : (byte_ >> 4);
    return mul_bits(float(mxfp4_code_value(code)), ue4m3_half(src_byte(b + s)));
  }
  if (SRC_TYPE == kQ1_0) {
    const uint dbits = floatBitsToUint(half_to_float(src_u16(b)));
    return ((src_byte(b + 2u + j / 8u) >> (j % 8u)) & 1u) != 0u ? dbits : dbits ^ 0x80000000u;
  }
  if (SRC_TYPE == kQ2_0) {
    const uint q = (src_byte(b + 2u + j / 4u) >> ((j % 4u) * 2u)) & 3u;
    return mul_bits(float(int(q) - 1), half_to_float(src_u16(b)));
  }
  if (SRC_TYPE == kTQ2_0) {
    const uint chunk = j / 128u, l = (j % 128u) / 32u, m = j % 32u;
    const uint q = (src_byte(b + 32u * chunk + m) >> (2u * l)) & 3u;
    return mul_bits(float(int(q) - 1), half_to_float(src_u16(b + 64u)));
  }
  // TQ1_0: 32 bytes x 5 digits, then 16 bytes x 5 digits, then the 4 qh bytes x 4 digits.
  uint byte_, n;
  if (j < 160u) {
    n = j / 32u;
    byte_ = src_byte(b + j % 32u);
  } else if (j < 240u) {
    n = (j - 160u) / 16u;
    byte_ = src_byte(b + 32u + (j - 160u) % 16u);
  } else {
    n = (j - 240u) / 4u;
    byte_ = src_byte(b + 48u + (j - 240u) % 4u);
  }
  return mul_bits(ternary_digit(byte_, pow3(n)), half_to_float(src_u16(b + 52u)));
}

// Elements e0..e0+7 (e0 a multiple of 8: one scale, 8 codes in 1-8 consecutive bytes): the
// scale read once, the codes as words; the products as in decode.
void decode8(uint e0, out uvec4 lo4, out uvec4 hi4) {
  const uint b = (e0 / block_elements()) * block_bytes();
  const uint j0 = e0 % block_elements();
  uint v[8];
  if (SRC_TYPE == kIQ4_NL || SRC_TYPE == kIQ4_XS || SRC_TYPE == kMXFP4 || SRC_TYPE == kNVFP4) {
    uint q, nibble, e8m0 = 0u;
    float scale;
    if (SRC_TYPE == kIQ4_NL || SRC_TYPE == kMXFP4) {
      q = b + (SRC_TYPE == kIQ4_NL ? 2u : 1u) + (j0 & 15u);
      nibble = j0 < 16u ? 0u : 4u;
      if (SRC_TYPE == kMXFP4) e8m0 = src_byte(b);
      scale = SRC_TYPE == kIQ4_NL ? half_to_float(src_u16(b)) : e8m0_half(e8m0);
    } else if (SRC_TYPE == kIQ4_XS) {
      // One word holds d and scales_h, the next the four scales_l bytes.
      const uint ib = j0 / 32u, j = j0 % 32u;
      const uint head = src_u32_aligned_or_pair(b), scales_l = src_u32_aligned_or_pair(b + 4u);
      const uint ls = ((scales_l >> (4u * ib)) & 0xfu) | (((head >> (16u + 2u * ib)) & 3u) << 4);
      precise float dl = half_to_float(head & 0xffffu) * float(int(ls) - 32);
      scale = dl;
      q = b + 8u + 16u * ib + (j & 15u);
      nibble = j < 16u ? 0u : 4u;
    } else {  // NVFP4: 16-element sub-blocks of 8 bytes, low nibbles then high nibbles
      const uint sb = j0 / 16u, jj = j0 % 16u;
      q = b + 4u + 8u * sb;
      nibble = jj < 8u ? 0u : 4u;
      scale = ue4m3_half(src_byte(b + sb));
    }
    if (SRC_TYPE == kIQ4_XS) {
      const uint w0 = src_u32_aligned_or_pair(q), w1 = src_u32_aligned_or_pair(q + 4u);
      // The 8 codes, one a byte: shifted and masked once per word, not per element.
      const uint c0 = (w0 >> nibble) & 0x0f0f0f0fu, c1 = (w1 >> nibble) & 0x0f0f0f0fu;
      [[unroll]] for (uint k = 0u; k < 8u; ++k) {
        const uint code = ((k < 4u ? c0 : c1) >> (8u * (k & 3u))) & 0xffu;
        v[k] = iq4nl_times(iq4nl_biased_bits(code), scale);
      }
    } else {
      const uint w0 = src_u32(q), w1 = src_u32(q + 4u);
      [[unroll]] for (uint k = 0u; k < 8u; ++k) {
        const uint code = (byte8(w0, w1, k) >> nibble) & 0xfu;
        if (SRC_TYPE == kIQ4_NL)
          v[k] = iq4nl_times(iq4nl_biased_bits(code), scale);
        else if (SRC_TYPE == kMXFP4)
          v[k] = mxfp4_value(e8m0, mxfp4_code_value(code));
        else
          v[k] = mul_bits(float(mxfp4_code_value(code)), scale);
      }
    }
  } else if (SRC_TYPE == kQ1_0) {
    const uint dbits = floatBitsToUint(half_to_float(src_u16(b)));
    const uint bits = src_byte(b + 2u + j0 / 8u);
    [[unroll]] for (uint k = 0u; k < 8u; ++k) v[k] = ((bits >> k) & 1u) != 0u ? dbits : dbits ^ 0x80000000u;
  } else if (SRC_TYPE == kQ2_0 || SRC_TYPE == kTQ2_0) {
    uint w0, w1, shift;
    float d;
    if (SRC_TYPE == kQ2_0) {
      // 2 bytes of four 2-bit codes each
      w0 = src_u16(b + 2u + j0 / 4u);
      w1 = 0u;
      d = half_to_float(src_u16(b));
    } else {
      const uint chunk = j0 / 128u, l = (j0 % 128u) / 32u, m0 = j0 % 32u;
      w0 = src_u32(b + 32u * chunk + m0);
      w1 = src_u32(b + 32u * chunk + m0 + 4u);
      shift = 2u * l;
      d = half_to_float(src_u16(b + 64u));
    }
    [[unroll]] for (uint k = 0u; k < 8u; ++k) {
      const uint q = SRC_TYPE == kQ2_0 ? (w0 >> (2u * k)) & 3u : (byte8(w0, w1, k) >> shift) & 3u;
      v[k] = mul_bits(float(int(q) - 1), d);
    }
  } else {  // TQ1_0
    // The group's 8 bytes and trit n: j0 < 160: qs[j0 % 32..], n = j0 / 32; j0 < 240:
    // qs[32 + j0 % 16..], n = (j0 - 160) / 16; else qh[0..3] twice, trits n and n + 1 (n =
    // 0 at 240, 2 at 248). Selects, not branches: one warp's groups span all three regions.
    const bool in_qs32 = j0 < 160u, in_qh = j0 >= 240u;
    // (Operands named first: glslang makes a select of a ternary only when both are plain.)
    const uint at_qs32 = j0 & 31u, at_qs16 = 32u + (j0 & 15u);
    const uint n_qs32 = j0 >> 5, n_qs16 = (j0 - 160u) >> 4, n_qh = (j0 - 240u) >> 2;
    const uint at_rest = in_qh ? 48u : at_qs16, n_rest = in_qh ? n_qh : n_qs16;
    const uint at = in_qs32 ? at_qs32 : at_rest, n = in_qs32 ? n_qs32 : n_rest;
    const uint p_small = (0x1b090301u >> (8u * (n & 3u))) & 0xffu;
    const uint p_lo = n < 4u ? p_small : 81u;  // 3^n
    const uint p_lo3 = 3u * p_lo;
    const uint p_hi = in_qh ? p_lo3 : p_lo;
    const uint at_next = at + 4u;
    const uint w1_at = in_qh ? at : at_next;
    const uint w0 = src_u32(b + at), w1 = src_u32(b + w1_at);
    const float d = half_to_float(src_u16(b + 52u));
    tq1_word(w0, p_lo, d, v[0], v[1], v[2], v[3]);
    tq1_word(w1, p_hi, d, v[4], v[5], v[6], v[7]);
  }
  lo4 = uvec4(v[0], v[1], v[2], v[3]);
  hi4 = uvec4(v[4], v[5], v[6], v[7]);
}

DQ_MAIN(decode, decode8, false)
