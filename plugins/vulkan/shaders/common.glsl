// Shared by every dequantize shader: buffers, byte reads, exact f16/bf16 conversions done
// with integer operations (never the GPU's float->half conversion, whose rounding mode is
// not ours to choose), and the two main loops. Needs no optional Vulkan feature: the buffers
// are 32-bit words, so neither 8/16-bit storage nor shaderFloat16 is used. (The extra
// DQ_NARROW_HW modules alone use the GPU's conversion, with the rounding mode set and probed.)
//
// Two paths, picked by the RUN_PATH specialization constant (docs/VULKAN.md):
// - run (1): each invocation decodes 8 consecutive elements of one block with the family's
//   decode8 (header and scales read once, quants read as whole words) and writes them as whole
//   words, one uvec4 store (16-bit outputs) or two (f32) where the output is 16-byte aligned.
// - per-element (0): each invocation produces elements 2p and 2p+1 with decode(e); any
//   output alignment. The host takes it where the run path cannot pair 16-bit outputs (the
//   output and the source are an odd number of elements apart) or when DQ_VULKAN_PATH says so.
// Compiled twice: with -DDQ_DENORM_PRESERVE the module asks for SPIR-V DenormPreserve 32
// (SPV_KHR_float_controls), used on devices that report shaderDenormPreserveFloat32, since
// NVIDIA's compiler flushes f32 subnormal products (Q8_K, MXFP4) otherwise.

#extension GL_EXT_control_flow_attributes : require
// -DDQ_NARROW_HW (extra modules, DQ_VULKAN_NARROW=hw, narrow_probe.hpp): f32 -> f16 by the
// device's conversion under SPIR-V RoundingModeRTE 16, used only where the device offers
// shaderFloat16 and shaderRoundingModeRTEFloat16 and the init probe finds it bit-exact.
#ifdef DQ_NARROW_HW
#extension GL_EXT_spirv_intrinsics : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#endif
#ifdef DQ_DENORM_PRESERVE
#extension GL_EXT_spirv_intrinsics : require
// Capability DenormPreserve = 4464, execution mode DenormPreserve = 4459, width 32 (SPIR-V spec).
spirv_execution_mode(extensions = ["SPV_KHR_float_controls"], capabilities = [4464], 4459, 32);
#endif
#ifdef DQ_NARROW_HW
// Capability RoundingModeRTE = 4467, execution mode RoundingModeRTE = 4462, width 16.
spirv_execution_mode(extensions = ["SPV_KHR_float_controls"], capabilities = [4467], 4462, 16);
#endif

#ifndef DQ_STAGED
layout(local_size_x = 256) in;
#else
// The staged modules' workgroup size: DQ_VULKAN_STAGE_THREADS (pipelines.cpp), default 256.
layout(local_size_x_id = 8) in;
#endif
layout(constant_id = 0) const uint SRC_TYPE = 0;  // ggml type id
layout(constant_id = 1) const uint OUT_TYPE = 0;  // 0: f32, 1: f16, 30: bf16
// 1: run of 8 per invocation, 0: per element. Default 0, correct for any alignment, so a
// pipeline created without this constant (devices.cpp get_pipeline) stays exact.
layout(constant_id = 2) const uint RUN_PATH = 0;

#ifndef DQ_STAGED
layout(std430, set = 0, binding = 0) readonly buffer Src { uint src_words[]; };
#else
// restrict: the source never overlaps the output (dequantize.cpp refuses overlap), so the
// compiler may keep source loads in flight across the stores.
layout(std430, set = 0, binding = 0) readonly restrict buffer Src { uint src_words[]; };
#endif
// Not writeonly: a 16-bit output word shared with a neighbour is updated with atomics.
layout(std430, set = 0, binding = 1) buffer Dst { uint dst_words[]; };
// The same binding as 16-byte pieces, for the run path's aligned stores.
layout(std430, set = 0, binding = 1) buffer DstVec { uvec4 dst_vec[]; };
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
  uint flags;  // kFlagNarrowBranches: narrow() to f16 with f32_bits_to_f16 (DQ_VULKAN_NARROW=branches)
} params;
const uint kFlagNarrowBranches = 1u;

#if defined(DQ_STAGED) && !defined(DQ_FLOAT_FAMILY)
// The staged variant (modules <family>_staged*, chosen with DQ_VULKAN_SHADER=staged or
// prefetch, pipelines.cpp): its run path (RUN_PATH 1) has a workgroup copy a tile of whole
// blocks into shared memory with 16-byte loads, then decode from there (DQ_MAIN_STAGED). Why: the
// default run path reads 4.5 to 36 source bytes per invocation as 32-bit loads at byte
// offsets, too few bytes in flight to keep HBM busy; the CUDA kernels' staged shape fixed
// that there. The per-element path (RUN_PATH 0) still reads the binding. The host sets the
// block shape, the tile, the workgroup size and the registers (constants 4..10; the
// workgroup size is local_size_x_id 8 above); STAGE_WORDS >= tile bytes / 4 + 9 (the 16-byte aligned
// start below the tile, and the word past its end that src_u32 reads).
layout(constant_id = 4) const uint STAGE_BLOCK_ELEMENTS = 32;
layout(constant_id = 5) const uint STAGE_BLOCK_BYTES = 18;
layout(constant_id = 6) const uint STAGE_TILE_BLOCKS = 256;
layout(constant_id = 7) const uint STAGE_WORDS = 1164;
// uvec4s per invocation (1..kMaxPrefetch) that hold a tile in registers: every load of a
// tile is issued before any is waited for. STAGE_PIPELINED (DQ_VULKAN_SHADER=prefetch): they
// hold the workgroup's next tile, loaded before the current one is decoded so its loads are
// in flight meanwhile (the host gives fewer workgroups than tiles, DQ_VULKAN_STAGE_GROUPS);
// 0 (staged): each tile is loaded, then decoded.
layout(constant_id = 9) const uint STAGE_REGS = 1;
layout(constant_id = 10) const uint STAGE_PIPELINED = 0;
const uint kMaxPrefetch = 8u;
layout(std430, set = 0, binding = 0) readonly restrict buffer SrcStage { uvec4 src_stage_vec[]; };
shared uint stage_words[STAGE_WORDS];
uint stage_base = 0u;  // binding byte held by stage_words[0], for the tile being decoded
const bool kReadStaged = RUN_PATH == 1u;
#endif

uint src_byte(uint i) {
  i += params.src_byte_offset;
#if defined(DQ_STAGED) && !defined(DQ_FLOAT_FAMILY)
  if (kReadStaged) {
    i -= stage_base;
    return (stage_words[i >> 2] >> ((i & 3u) * 8u)) & 0xffu;
  }
#endif
  return (src_words[i >> 2] >> ((i & 3u) * 8u)) & 0xffu;
}
// 16 and 32 bits at any byte offset, from the one or two words that hold them. Branch-free
// (blocks of 17, 18, 34 bytes put neighbouring invocations at different skews): the second
// word is clamped to the binding's last word, which only happens when it is not used.
uint src_u32(uint i) {
  i += params.src_byte_offset;
#if defined(DQ_STAGED) && !defined(DQ_FLOAT_FAMILY)
  if (kReadStaged) {
    i -= stage_base;
    const uint w = i >> 2, s = (i & 3u) * 8u;
    return (stage_words[w] >> s) | ((stage_words[w + 1u] << 1u) << (31u - s));
  }
#endif
  const uint w = i >> 2, s = (i & 3u) * 8u;
  const uint lo = src_words[w];
  const uint hi = src_words[min(w + 1u, uint(src_words.length()) - 1u)];
  return (lo >> s) | ((hi << 1u) << (31u - s));  // hi << (32 - s), and nothing when s is 0
}
uint src_u16(uint i) { return src_u32(i) & 0xffffu; }
// Byte k (0..7) of the 8 bytes held little-endian in w0, w1.
uint byte8(uint w0, uint w1, uint k) { return ((k < 4u ? w0 : w1) >> (8u * (k & 3u))) & 0xffu; }

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

// f32_bits_to_f16 without a branch (selects only; checked against dq_common/half.hpp for all
// 2^32 inputs): the subnormal/zero case as (mant + half - 1 + odd) >> shift, shift clamped to
// 14..31 (31: zero). The branches of f32_bits_to_f16 diverge in nearly every warp of quantized
// data (zeros take the early return, normals the rounding add): suspected as why quantized
// rows to f16 ran at 1/2 to 1/13 of their f32 rate on an H100 (docs/VULKAN.md).
uint f32_bits_to_f16_select(uint x) {
  const uint sgn = (x >> 16) & 0x8000u;
  const uint a = x & 0x7fffffffu;
  const uint normal = (a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u) >> 13;  // wraps below 2^-14: unused
  const uint shift = min(126u - min(a >> 23, 112u), 31u);
  const uint mant = (a & 0x7fffffu) | 0x800000u;
  const uint sub = (mant + ((1u << shift) >> 1) - 1u + ((mant >> shift) & 1u)) >> shift;
  uint r = mix(sub, normal, a >= 0x38800000u);
  r = mix(r, 0x7c00u, a >= 0x477ff000u);
  r = mix(r, 0x7e00u | ((a >> 13) & 0x3ffu), a > 0x7f800000u);
  return sgn | r;
}

#ifdef DQ_NARROW_HW
// The device's f32 -> f16 conversion (RoundingModeRTE 16 above); a NaN takes the reference's
// result (sign and top payload bits kept, quieted: half.hpp), which hardware may canonicalise.
// f32 subnormal inputs give the reference's signed zero only if the device keeps the sign
// when it flushes them: the probe checks that too.
uint f32_bits_to_f16_hw(uint x) {
  const uint h = packFloat2x16(f16vec2(float16_t(uintBitsToFloat(x)), float16_t(0.0)));
  const uint a = x & 0x7fffffffu;
  return a > 0x7f800000u ? ((x >> 16) & 0x8000u) | 0x7e00u | ((a >> 13) & 0x3ffu) : h;
}
#endif

uint narrow(uint bits) {
  if (OUT_TYPE != 1u) return f32_bits_to_bf16(bits);
#ifdef DQ_NARROW_HW
  return f32_bits_to_f16_hw(bits);
#else
  return (params.flags & kFlagNarrowBranches) != 0u ? f32_bits_to_f16(bits) : f32_bits_to_f16_select(bits);
#endif
}

#ifdef DQ_NARROW_HW
// Two outputs per conversion, f16vec2(vec2): one paired f32x2 -> f16x2 instruction where the
// device has one (NVIDIA since Ampere); a pair holding a NaN takes the per-element fix-up (rare,
// so the branch seldom diverges).
uint narrow_pair_hw(uint x, uint y) {
  if (max(x & 0x7fffffffu, y & 0x7fffffffu) > 0x7f800000u)
    return f32_bits_to_f16_hw(x) | (f32_bits_to_f16_hw(y) << 16);
  return packFloat2x16(f16vec2(vec2(uintBitsToFloat(x), uintBitsToFloat(y))));
}
// The run path's four narrowed outputs, 16 bits each (the stores pack them again).
uvec4 narrow4(uvec4 v) {
  if (OUT_TYPE != 1u) return uvec4(narrow(v.x), narrow(v.y), narrow(v.z), narrow(v.w));
  const uint p = narrow_pair_hw(v.x, v.y), q = narrow_pair_hw(v.z, v.w);
  return uvec4(p & 0xffffu, p >> 16, q & 0xffffu, q >> 16);
}
#else
// Expands to the same code as before narrow4 existed: the default modules' SPIR-V is unchanged.
#define narrow4(v) uvec4(narrow((v).x), narrow((v).y), narrow((v).z), narrow((v).w))
#endif

// The store of one 16-bit output word: both halves, or (the chunk's first output in a high
// half, its last in a low half) one half with atomics, since the other half belongs to a
// neighbouring tensor or chunk that may be written at the same time.
void store_half_pair(uint at, uint lo, uint hi, bool has_lo, bool has_hi) {
  if (has_lo && has_hi) {
    dst_words[at] = lo | (hi << 16);
  } else if (has_lo) {
    atomicAnd(dst_words[at], 0xffff0000u);
    atomicOr(dst_words[at], lo);
  } else if (has_hi) {
    atomicAnd(dst_words[at], 0x0000ffffu);
    atomicOr(dst_words[at], hi << 16);
  }
}

// A decode8 from a decode: for families without their own (the run path's stores still apply).
// Two decodes per step rather than eight inlined copies: the i-quant decoders are large, and
// lavapipe's compile time grows with every copy.
#define DQ_DECODE8_FROM(decode)                                                        \
  void decode8(uint e0, out uvec4 a, out uvec4 b) {                                    \
    for (uint k = 0u; k < 4u; ++k) {                                                   \
      a[k] = decode(e0 + k);                                                           \
      b[k] = decode(e0 + 4u + k);                                                      \
    }                                                                                  \
  }

// Calls decode / decode8 for every output of the chunk (grid-stride loops, so one dispatch of
// at most 65535 groups covers any chunk). decode(e) returns the f32 bits of element e and
// decode8(e0, a, b) those of elements e0..e0+7 (e0 a multiple of 8), counted from the start
// of the chunk's first block. `prenarrowed` (a constant expression): decode8 already returns
// 16-bit output values (F16 -> f16, BF16 -> bf16), so the run path does not narrow them.
#define DQ_MAIN_PER_ELEMENT(decode)                                                     \
  void main_per_element() {                                                             \
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
      store_half_pair(params.dst_word_offset + w, lo, hi, has_lo, has_hi);              \
    }                                                                                   \
  }
/* Group g (elements 8g..8g+7) of a run: decoded by decode8, stored where it lies inside the */
/* tensor [fib, fib + n) at `base` (16-byte stores when whole and aligned); needs fib, n, */
/* base and vec in scope, and must be the whole body of the loop over g (it `continue`s). */
/* Shared by the run path and the staged/prefetch tiles. */
#define DQ_STORE_GROUP8(g, decode8, prenarrowed)                                        \
    {                                                                                   \
      const uint e0 = 8u * g;                                                           \
      uvec4 a, b;                                                                       \
      decode8(e0, a, b);                                                                \
      const bool full = e0 >= fib && e0 + 8u - fib <= n;                                \
      if (OUT_TYPE == 0u) {                                                             \
        const uint at = base + e0;                                                      \
        if (full && vec) {                                                              \
          dst_vec[at >> 2] = a;                                                         \
          dst_vec[(at >> 2) + 1u] = b;                                                  \
          continue;                                                                     \
        }                                                                               \
        const uint v[8] = uint[8](a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w);               \
        [[unroll]] for (uint k = 0u; k < 8u; ++k)                                       \
          if (e0 + k >= fib && e0 + k - fib < n) dst_words[at + k] = v[k];              \
        continue;                                                                       \
      }                                                                                 \
      const uvec4 na = (prenarrowed) ? a : narrow4(a); \
      const uvec4 nb = (prenarrowed) ? b : narrow4(b); \
      const uint at = (base + e0) >> 1;                                                 \
      if (full) {                                                                       \
        const uvec4 words = uvec4(na.x | (na.y << 16), na.z | (na.w << 16),             \
                                  nb.x | (nb.y << 16), nb.z | (nb.w << 16));            \
        if (vec) {                                                                      \
          dst_vec[at >> 2] = words;                                                     \
        } else {                                                                        \
          dst_words[at] = words.x;                                                      \
          dst_words[at + 1u] = words.y;                                                 \
          dst_words[at + 2u] = words.z;                                                 \
          dst_words[at + 3u] = words.w;                                                 \
        }                                                                               \
        continue;                                                                       \
      }                                                                                 \
      const uint v[8] = uint[8](na.x, na.y, na.z, na.w, nb.x, nb.y, nb.z, nb.w);         \
      [[unroll]] for (uint k = 0u; k < 8u; k += 2u) {                                   \
        const bool has_lo = e0 + k >= fib && e0 + k - fib < n;                          \
        const bool has_hi = e0 + k + 1u >= fib && e0 + k + 1u - fib < n;                \
        store_half_pair((base + e0 + k) >> 1, v[k], v[k + 1u], has_lo, has_hi);         \
      }                                                                                 \
    }
#define DQ_MAIN_RUN(decode8, prenarrowed)                                               \
  /* Group g: elements 8g..8g+7 from the first block's start; output i = element - fib. */ \
  /* 16-bit outputs need (2 * dst_word_offset + dst_half_shift - fib) even (the host */ \
  /* checks), so element pairs (8g+2k, 8g+2k+1) share one output word. */               \
  void main_run() {                                                                     \
    const uint n = params.n_elements;                                                   \
    const uint fib = params.first_in_block;                                             \
    const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;                        \
    const uint g_end = (fib + n + 7u) / 8u;                                             \
    /* Output position (word for f32, half for 16-bit) of element 0, modulo 2^32. */    \
    const uint base = OUT_TYPE == 0u ? params.dst_word_offset - fib                     \
                                     : 2u * params.dst_word_offset + params.dst_half_shift - fib; \
    const bool vec = (base & (OUT_TYPE == 0u ? 3u : 7u)) == 0u;                         \
    for (uint g = fib / 8u + gl_GlobalInvocationID.x; g < g_end; g += stride) {         \
      DQ_STORE_GROUP8(g, decode8, prenarrowed)                                          \
    }                                                                                   \
  }
/* The entry point: the per-element path or the run path (RUN_PATH). float.comp has its own */
/* run path (whole 16-byte pieces of any length) and uses the two pieces separately. */
#define DQ_MAIN_ENTRY()                                                                 \
  void main() {                                                                         \
    if (RUN_PATH == 0u)                                                                 \
      main_per_element();                                                               \
    else                                                                                \
      main_run();                                                                       \
  }
#ifndef DQ_STAGED
#define DQ_MAIN(decode, decode8, prenarrowed) \
  DQ_MAIN_PER_ELEMENT(decode)                 \
  DQ_MAIN_RUN(decode8, prenarrowed)           \
  DQ_MAIN_ENTRY()
#else
// The staged run path: tiles of STAGE_TILE_BLOCKS blocks from the chunk's first block, one
// workgroup per tile (grid-stride over tiles). The tile's bytes, from the 16-byte boundary
// below it to one word past it, are copied to stage_words (uvec4 loads; words past the
// binding's end read as zero, never used as data); then each invocation decodes 8-element
// groups of the tile with decode8 (reading stage_words through src_u32 / src_byte) and
// stores them as DQ_MAIN_RUN does: consecutive invocations, consecutive 16-byte pieces.
#define DQ_MAIN_STAGED(decode8, prenarrowed)                                            \
  /* uvec4 v of the binding; words past its end read as zero. */                       \
  uvec4 stage_load(uint v) {                                                            \
    const uint words = uint(src_words.length());                                        \
    const uint w = 4u * v;                                                              \
    uvec4 x = uvec4(0u);                                                                \
    if (w + 3u < words) {                                                               \
      x = src_stage_vec[v];                                                             \
    } else {                                                                            \
      if (w < words) x.x = src_words[w];                                                \
      if (w + 1u < words) x.y = src_words[w + 1u];                                      \
      if (w + 2u < words) x.z = src_words[w + 2u];                                      \
    }                                                                                   \
    return x;                                                                           \
  }                                                                                     \
  void stage_store(uint i, uvec4 x) {                                                   \
    stage_words[4u * i] = x.x;                                                          \
    stage_words[4u * i + 1u] = x.y;                                                     \
    stage_words[4u * i + 2u] = x.z;                                                     \
    stage_words[4u * i + 3u] = x.w;                                                     \
  }                                                                                     \
  uint staged_blocks() {                                                                \
    return (params.first_in_block + params.n_elements + STAGE_BLOCK_ELEMENTS - 1u) / STAGE_BLOCK_ELEMENTS; \
  }                                                                                     \
  /* Tile t: blocks [b0, b1) and the uvec4s [v0, v1) that hold them and one word more. */ \
  void tile_range(uint t, out uint b0, out uint b1, out uint v0, out uint v1) {         \
    b0 = t * STAGE_TILE_BLOCKS;                                                         \
    b1 = min(b0 + STAGE_TILE_BLOCKS, staged_blocks());                                  \
    v0 = (params.src_byte_offset + b0 * STAGE_BLOCK_BYTES) >> 4;                        \
    v1 = (params.src_byte_offset + b1 * STAGE_BLOCK_BYTES + 4u + 15u) >> 4;             \
  }                                                                                     \
  /* Decodes the 8-element groups of blocks [b0, b1) from stage_words and stores them as */ \
  /* DQ_MAIN_RUN does: consecutive invocations, consecutive 16-byte pieces. */          \
  void decode_tile(uint b0, uint b1) {                                                  \
    const uint n = params.n_elements;                                                   \
    const uint fib = params.first_in_block;                                             \
    const uint base = OUT_TYPE == 0u ? params.dst_word_offset - fib                     \
                                     : 2u * params.dst_word_offset + params.dst_half_shift - fib; \
    const bool vec = (base & (OUT_TYPE == 0u ? 3u : 7u)) == 0u;                         \
    const uint g_lo = max(b0 * (STAGE_BLOCK_ELEMENTS / 8u), fib / 8u);                  \
    const uint g_hi = min(b1 * (STAGE_BLOCK_ELEMENTS / 8u), (fib + n + 7u) / 8u);       \
    for (uint g = g_lo + gl_LocalInvocationID.x; g < g_hi; g += gl_WorkGroupSize.x) {   \
      DQ_STORE_GROUP8(g, decode8, prenarrowed)                                          \
    }                                                                                   \
  }                                                                                     \
  /* staged: one tile at a time, loaded (all of its loads issued first) to stage_words, */ \
  /* then decoded (grid-stride over tiles). */                                           \
  void main_staged() {                                                                  \
    const uint tiles = (staged_blocks() + STAGE_TILE_BLOCKS - 1u) / STAGE_TILE_BLOCKS;  \
    for (uint t = gl_WorkGroupID.x; t < tiles; t += gl_NumWorkGroups.x) {               \
      uint b0, b1, v0, v1;                                                              \
      tile_range(t, b0, b1, v0, v1);                                                    \
      const uint lid = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;               \
      uvec4 held[kMaxPrefetch];                                                         \
      [[unroll]] for (uint r = 0u; r < kMaxPrefetch; ++r)                               \
        if (r < STAGE_REGS && v0 + lid + r * size < v1) held[r] = stage_load(v0 + lid + r * size); \
      [[unroll]] for (uint r = 0u; r < kMaxPrefetch; ++r)                               \
        if (r < STAGE_REGS && v0 + lid + r * size < v1) stage_store(lid + r * size, held[r]); \
      stage_base = 16u * v0;                                                            \
      memoryBarrierShared();                                                            \
      barrier();                                                                        \
      decode_tile(b0, b1);                                                              \
      /* The next tile overwrites stage_words: every invocation done with this one. */  \
      barrier();                                                                        \
    }                                                                                   \
  }                                                                                     \
  /* prefetch: the next tile's uvec4s (at most STAGE_REGS per invocation, the host */    \
  /* sees to that) wait in registers while the current one is decoded. */               \
  void main_prefetch() {                                                                \
    const uint tiles = (staged_blocks() + STAGE_TILE_BLOCKS - 1u) / STAGE_TILE_BLOCKS;  \
    const uint lid = gl_LocalInvocationID.x, size = gl_WorkGroupSize.x;                 \
    uvec4 next[kMaxPrefetch];                                                           \
    uint t = gl_WorkGroupID.x;                                                          \
    uint b0, b1, v0, v1;                                                                \
    tile_range(t, b0, b1, v0, v1);                                                      \
    [[unroll]] for (uint r = 0u; r < kMaxPrefetch; ++r)                                 \
      if (r < STAGE_REGS && t < tiles && v0 + lid + r * size < v1) next[r] = stage_load(v0 + lid + r * size); \
    for (; t < tiles; t += gl_NumWorkGroups.x) {                                        \
      [[unroll]] for (uint r = 0u; r < kMaxPrefetch; ++r)                               \
        if (r < STAGE_REGS && v0 + lid + r * size < v1) stage_store(lid + r * size, next[r]); \
      stage_base = 16u * v0;                                                            \
      memoryBarrierShared();                                                            \
      barrier();                                                                        \
      const uint db0 = b0, db1 = b1;                                                    \
      const uint tn = t + gl_NumWorkGroups.x;                                           \
      if (tn < tiles) {                                                                 \
        tile_range(tn, b0, b1, v0, v1);                                                 \
        [[unroll]] for (uint r = 0u; r < kMaxPrefetch; ++r)                             \
          if (r < STAGE_REGS && v0 + lid + r * size < v1) next[r] = stage_load(v0 + lid + r * size); \
      }                                                                                 \
      decode_tile(db0, db1);                                                            \
      barrier();                                                                        \
    }                                                                                   \
  }                                                                                     \
  void main() {                                                                         \
    if (RUN_PATH == 0u)                                                                 \
      main_per_element();                                                               \
    else if (STAGE_PIPELINED == 0u)                                                     \
      main_staged();                                                                    \
    else                                                                                \
      main_prefetch();                                                                  \
  }
#define DQ_MAIN(decode, decode8, prenarrowed) \
  DQ_MAIN_PER_ELEMENT(decode)                 \
  DQ_MAIN_STAGED(decode8, prenarrowed)
#endif

// ---- f32 subnormals on devices that flush them (denormal_probe.cpp, pipelines.cpp) ----
// Q8_K's f32 scale and MXFP4's E8M0 bytes 0 and 1 are subnormal; a device that flushes f32
// subnormals in float arithmetic (NVIDIA, even with DenormPreserve requested) writes zeros.
// DENORM_MODE bits (specialization constant 3, set per pipeline by pipelines.cpp):
// - kDenormExact: a product whose scale is zero or subnormal is computed from the integer
//   mantissa and rounded to nearest even in integer bits, so no float op sees a subnormal;
//   normal scales keep the float multiply (|q| >= 1 then keeps the result normal).
// - kDenormSimulateFlush: the float multiply flushes subnormal operands and results to a
//   signed zero as NVIDIA does (DQ_VULKAN_ASSUME_DENORM_FLUSH=1: tests on lavapipe).
const uint kDenormExact = 1u, kDenormSimulateFlush = 2u;
layout(constant_id = 3) const uint DENORM_MODE = 0;

float simulated_flush(float x) {
  const uint b = floatBitsToUint(x);
  if ((DENORM_MODE & kDenormSimulateFlush) == 0u || (b & 0x7f800000u) != 0u) return x;
  return uintBitsToFloat(b & 0x80000000u);
}

// f32 bits of a * b as the device multiplies (flushing only where simulated).
uint device_mul_bits(float a, float b) {
  precise float y = simulated_flush(a) * simulated_flush(b);
  return floatBitsToUint(simulated_flush(y));
}

// f32 bits of +-m * 2^-149 (m < 2^31), rounded to nearest, ties to even. With the top bit
// of m at 23 + s (s > 0) the result is normal: exponent field s + 1 and mantissa m >> s, so
// the bits are (s << 23) + (m >> s) rounded (a carry moves into the exponent correctly);
// below that, m itself (a subnormal, or 2^-126 times 1.x).
uint f32_bits_from_tiny(uint m, bool negative) {
  const int top = findMSB(m);
  uint bits = m;
  if (top > 23) {
    const uint s = uint(top - 23);
    const uint q = m >> s, rem = m & ((1u << s) - 1u), half_ulp = 1u << (s - 1u);
    bits = (s << 23) + q + ((rem > half_ulp || (rem == half_ulp && (q & 1u) != 0u)) ? 1u : 0u);
  }
  return bits | (negative ? 0x80000000u : 0u);
}

// f32 bits of d * q for an f32 d whose exponent field is 0 (zero or subnormal: d = +-mant *
// 2^-149) and |q| < 512 (mant * |q| < 2^32), exact as the host's multiply.
uint subnormal_times_int_bits(uint dbits, int q) {
  const uint m = (dbits & 0x7fffffu) * uint(abs(q));
  return f32_bits_from_tiny(m, ((dbits >> 31) != 0u) != (q < 0));
}
