// Shared by every dequantize shader: buffers, byte reads, exact f16/bf16 conversions done
// with integer operations (never the GPU's float->half conversion, whose rounding mode is
// not ours to choose), and the pair store. Needs no optional Vulkan feature: the buffers are
// 32-bit words, so neither 8/16-bit storage nor shaderFloat16 is used.
//
// Each invocation produces elements 2p and 2p+1 of the chunk: two f32 words, or one word
// of two packed halves. Specialization constants pick the input type and the output type.

layout(local_size_x = 256) in;
layout(constant_id = 0) const uint SRC_TYPE = 0;  // ggml type id
layout(constant_id = 1) const uint OUT_TYPE = 0;  // 0: f32, 1: f16, 30: bf16

layout(std430, set = 0, binding = 0) readonly buffer Src { uint src_words[]; };
// Not writeonly: a 16-bit output word shared with a neighbour is updated with atomics.
layout(std430, set = 0, binding = 1) buffer Dst { uint dst_words[]; };
// A dispatch covers outputs [0, n_elements) of a chunk that starts first_in_block elements
// into the block at src_byte_offset of the source binding; output i goes to the output
// binding's element (dst_word_offset * 2 + dst_half_shift + i) for 16-bit outputs, word
// dst_word_offset + i for f32 (docs/VULKAN.md: device pointers are byte-addressable, but a
// storage binding must start at minStorageBufferOffsetAlignment).
layout(push_constant) uniform Params {
  uint n_elements;
  uint first_in_block;
  uint src_byte_offset;
  uint dst_word_offset;
  uint dst_half_shift;
} params;

uint src_byte(uint i) {
  i += params.src_byte_offset;
  return (src_words[i >> 2] >> ((i & 3u) * 8u)) & 0xffu;
}
uint src_u16(uint i) { return src_byte(i) | (src_byte(i + 1u) << 8); }
uint src_u32(uint i) { return src_u16(i) | (src_u16(i + 2u) << 16); }

// IEEE binary16 -> binary32, exact (dq_common/half.hpp f16_to_f32).
float half_to_float(uint h) {
  const uint sgn = (h & 0x8000u) << 16;
  const uint e = (h >> 10) & 0x1fu;
  const uint mant = h & 0x3ffu;
  if (e == 0u) {
    // mant * 2^-24 is a normal f32 (or zero): exact even where denormals are flushed.
    precise float mag = float(mant) * 5.9604644775390625e-08;
    return uintBitsToFloat(floatBitsToUint(mag) | sgn);
  }
  if (e == 31u) return uintBitsToFloat(sgn | 0x7f800000u | (mant << 13));
  return uintBitsToFloat(sgn | ((e + 112u) << 23) | (mant << 13));
}

// binary32 bits -> binary16, round to nearest, ties to even (dq_common/half.hpp f32_to_f16).
uint f32_bits_to_f16(uint x) {
  const uint sgn = (x >> 16) & 0x8000u;
  const uint a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return sgn | 0x7e00u | ((a >> 13) & 0x3ffu);
  if (a >= 0x477ff000u) return sgn | 0x7c00u;
  if (a >= 0x38800000u) return sgn | (((a + 0xfffu + ((a >> 13) & 1u)) - 0x38000000u) >> 13);
  const uint e = a >> 23;
  if (e < 102u) return sgn;
  const uint mant = (a & 0x7fffffu) | 0x800000u;
  const uint shift = 126u - e;  // 14..24
  uint q = mant >> shift;
  const uint rem = mant & ((1u << shift) - 1u);
  const uint half_ulp = 1u << (shift - 1u);
  if (rem > half_ulp || (rem == half_ulp && (q & 1u) != 0u)) q += 1u;
  return sgn | q;
}

// binary32 bits -> bfloat16, round to nearest, ties to even (f32_to_bf16).
uint f32_bits_to_bf16(uint x) {
  if ((x & 0x7fffffffu) > 0x7f800000u) return ((x >> 16) | 0x40u) & 0xffffu;
  return ((x + 0x7fffu + ((x >> 16) & 1u)) >> 16) & 0xffffu;
}

uint narrow(uint bits) { return OUT_TYPE == 1u ? f32_bits_to_f16(bits) : f32_bits_to_bf16(bits); }

// Calls decode(e) for every output of the chunk (grid-stride loop, so one dispatch of at
// most 65535 groups covers any chunk). f32: one invocation per pair of outputs. 16-bit: one
// invocation per output word; a word holding only one output of this chunk (the chunk's
// first output in a high half, or its last in a low half) is updated with atomics, since the
// other half belongs to a neighbouring tensor or chunk that may be written at the same time.
#define DQ_MAIN(decode)                                                                 \
  void main() {                                                                         \
    const uint n = params.n_elements;                                                   \
    const uint fib = params.first_in_block;                                             \
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;                        \
    if (OUT_TYPE == 0u) {                                                               \
      for (uint p = gl_GlobalInvocationID.x; p < (n + 1u) / 2u; p += stride) {          \
        const uint e = 2u * p;                                                          \
        dst_words[params.dst_word_offset + e] = decode(e + fib);                        \
        if (e + 1u < n) dst_words[params.dst_word_offset + e + 1u] = decode(e + 1u + fib); \
      }                                                                                 \
      return;                                                                           \
    }                                                                                   \
    const uint sh = params.dst_half_shift;                                              \
    for (uint w = gl_GlobalInvocationID.x; w < (sh + n + 1u) / 2u; w += stride) {       \
      const bool has_lo = w != 0u || sh == 0u;                                          \
      const uint lo_e = 2u * w - sh; /* wraps when !has_lo: then unused */              \
      const bool has_hi = lo_e + 1u < n;                                                \
      const uint lo = has_lo ? narrow(decode(lo_e + fib)) : 0u;                         \
      const uint hi = has_hi ? narrow(decode(lo_e + 1u + fib)) : 0u;                    \
      const uint at = params.dst_word_offset + w;                                       \
      if (has_lo && has_hi) {                                                           \
        dst_words[at] = lo | (hi << 16);                                                \
      } else if (has_lo) {                                                              \
        atomicAnd(dst_words[at], 0xffff0000u);                                          \
        atomicOr(dst_words[at], lo);                                                    \
      } else {                                                                          \
        atomicAnd(dst_words[at], 0x0000ffffu);                                          \
        atomicOr(dst_words[at], hi << 16);                                              \
      }                                                                                 \
    }                                                                                   \
  }
