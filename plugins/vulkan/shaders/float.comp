#version 450
// F32, F16 and BF16 inputs: widening is exact, done on the bits (no float operation, so a
// device that flushes denormals still passes subnormals through).
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"

const uint kF32 = 0u, kF16 = 1u, kBF16 = 30u;

uint decode(uint e) {
  if (SRC_TYPE == kF32) return src_u32(4u * e);
  const uint h = src_u16(2u * e);
  if (SRC_TYPE == kF16) {
    // Exact widening; the subnormal case is a float multiply whose result is normal.
    return floatBitsToUint(half_to_float(h));
  }
  return h << 16;  // bf16
}

// Elements e0..e0+7: eight source words (F32) or four (F16, BF16: two halves each), as
// 16-byte loads where the source binding is 16-byte aligned. Block of 1 element, so the chunk
// starts at element 0 (first_in_block is 0) and ends at n_elements, possibly inside the
// group: nothing past it is read (the binding ends there).
layout(std430, set = 0, binding = 0) readonly buffer SrcVec { uvec4 src_vec[]; };

// F16 -> f16 and BF16 -> bf16: narrow(widen(h)) of the reference helpers is h itself, but for
// a NaN, which comes back quieted (f16: 0x0200 set, bf16: 0x0040 set); so the run path takes
// that directly instead of 20-odd integer operations per element.
bool same_width_output() { return (SRC_TYPE == kF16 && OUT_TYPE == 1u) || (SRC_TYPE == kBF16 && OUT_TYPE == 30u); }
uint same_width(uint h) {
  if (SRC_TYPE == kF16) return (h & 0x7fffu) > 0x7c00u ? h | 0x0200u : h;
  return (h & 0x7fffu) > 0x7f80u ? h | 0x0040u : h;
}

void decode8(uint e0, out uvec4 lo4, out uvec4 hi4) {
  const uint n = params.n_elements;
  const bool aligned = (params.src_byte_offset & 15u) == 0u && e0 + 8u <= n;
  uint v[8];
  if (SRC_TYPE == kF32) {
    if (aligned) {
      const uint at = (params.src_byte_offset >> 4) + e0 / 4u;
      lo4 = src_vec[at];
      hi4 = src_vec[at + 1u];
      return;
    }
    [[unroll]] for (uint k = 0u; k < 8u; ++k) v[k] = e0 + k < n ? src_u32(4u * (e0 + k)) : 0u;
  } else {
    uvec4 w4 = uvec4(0u);
    if (aligned) {
      w4 = src_vec[(params.src_byte_offset >> 4) + e0 / 8u];
    } else {
      [[unroll]] for (uint k = 0u; k < 8u; k += 2u) {
        if (e0 + k + 1u < n)
          w4[k / 2u] = src_u32(2u * (e0 + k));
        else if (e0 + k < n)
          w4[k / 2u] = src_u16(2u * (e0 + k));
      }
    }
    [[unroll]] for (uint k = 0u; k < 8u; k += 2u) {
      const uint w = w4[k / 2u];
      if (same_width_output()) {
        v[k] = same_width(w & 0xffffu);
        v[k + 1u] = same_width(w >> 16);
      } else if (SRC_TYPE == kF16) {
        v[k] = floatBitsToUint(half_to_float(w & 0xffffu));
        v[k + 1u] = floatBitsToUint(half_to_float(w >> 16));
      } else {
        v[k] = w << 16;
        v[k + 1u] = w & 0xffff0000u;
      }
    }
  }
  lo4 = uvec4(v[0], v[1], v[2], v[3]);
  hi4 = uvec4(v[4], v[5], v[6], v[7]);
}

DQ_MAIN(decode, decode8, same_width_output())
