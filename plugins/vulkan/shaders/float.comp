#version 450
// F32, F16 and BF16 inputs: widening is exact, done on the bits (no float operation, so a
// device that flushes denormals still passes subnormals through).
//
// The run path streams 4-element units: a unit is one 16-byte (f32) or 8-byte (16-bit) load
// and one 16- or 8-byte store, and consecutive invocations take consecutive units, so every
// load and store instruction of a warp covers one contiguous range (whole 32-byte sectors).
// The earlier run path gave each invocation 8 elements, so an F32 source was read as two
// 16-byte loads 32 bytes apart per invocation (half of each warp request wasted). Units start
// where the output is 4-element aligned; the at most 3 elements before (head) and after
// (tail) are stored one by one by invocation 0. A source that is not unit-aligned where the
// output is gets word loads (src_u32) instead of vector loads: correct, slower, rare.
// F32 -> f32 on device memory does not come here: dequantize.cpp copies it (shader_copy.cpp).
#extension GL_GOOGLE_include_directive : require
#ifdef DQ_STAGED
#define DQ_FLOAT_FAMILY  // common.glsl: no block tile for this family
#endif
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

DQ_MAIN_PER_ELEMENT(decode)

layout(std430, set = 0, binding = 0) readonly buffer SrcVec { uvec4 src_vec[]; };
layout(std430, set = 0, binding = 0) readonly buffer SrcVec2 { uvec2 src_vec2[]; };
layout(std430, set = 0, binding = 1) buffer DstVec2 { uvec2 dst_vec2[]; };

// F16 -> f16 and BF16 -> bf16: narrow(widen(h)) of the reference helpers is h itself, but for
// a NaN, which comes back quieted (f16: 0x0200 set, bf16: 0x0040 set); so that is computed
// directly instead of 20-odd integer operations per element. Not a plain copy for that reason.
bool same_width_output() { return (SRC_TYPE == kF16 && OUT_TYPE == 1u) || (SRC_TYPE == kBF16 && OUT_TYPE == 30u); }
uint same_width(uint h) {
  if (SRC_TYPE == kF16) return (h & 0x7fffu) > 0x7c00u ? h | 0x0200u : h;
  return (h & 0x7fffu) > 0x7f80u ? h | 0x0040u : h;
}

// The output value (f32 bits, or 16 bits) of a source element's bits (f32, or 16 bits).
uint convert(uint x) {
  if (same_width_output()) return same_width(x);
  const uint f = SRC_TYPE == kF32 ? x : SRC_TYPE == kF16 ? floatBitsToUint(half_to_float(x)) : x << 16;
  return OUT_TYPE == 0u ? f : narrow(f);
}

#ifdef DQ_NARROW_HW
// Four elements at once: f16 outputs narrowed in pairs (common.glsl narrow4).
uvec4 convert4_hw(uvec4 v) {
  if (OUT_TYPE != 1u || same_width_output()) return uvec4(convert(v.x), convert(v.y), convert(v.z), convert(v.w));
  if (SRC_TYPE == kF32) return narrow4(v);
  if (SRC_TYPE == kF16)
    return narrow4(uvec4(floatBitsToUint(half_to_float(v.x)), floatBitsToUint(half_to_float(v.y)),
                         floatBitsToUint(half_to_float(v.z)), floatBitsToUint(half_to_float(v.w))));
  return narrow4(v << 16);
}
#endif

const uint kInBytes = SRC_TYPE == kF32 ? 4u : 2u;

uint load_element(uint e) { return SRC_TYPE == kF32 ? src_u32(4u * e) : src_u16(2u * e); }

// Source bits of elements e..e+3 (vector: their first byte is unit-aligned in the binding).
uvec4 load_unit(uint e, bool vector) {
  const uint at = params.src_byte_offset + kInBytes * e;
  if (SRC_TYPE == kF32) {
    if (vector) return src_vec[at >> 4];
    return uvec4(src_u32(4u * e), src_u32(4u * e + 4u), src_u32(4u * e + 8u), src_u32(4u * e + 12u));
  }
  uvec2 w;
  if (vector)
    w = src_vec2[at >> 3];
  else
    w = uvec2(src_u32(2u * e), src_u32(2u * e + 4u));
  return uvec4(w.x & 0xffffu, w.x >> 16, w.y & 0xffffu, w.y >> 16);
}

// Output position (f32 word or 16-bit half in the output binding) of element 0.
uint out_pos0() { return OUT_TYPE == 0u ? params.dst_word_offset : 2u * params.dst_word_offset + params.dst_half_shift; }

// Stores elements e..e+3 (converted) at a 4-element aligned output position.
void store_unit(uint e, uvec4 v) {
  const uint at = out_pos0() + e;
  if (OUT_TYPE == 0u) {
    dst_vec[at >> 2] = uvec4(convert(v.x), convert(v.y), convert(v.z), convert(v.w));
  } else {
#ifdef DQ_NARROW_HW
    const uvec4 c = convert4_hw(v);
    dst_vec2[at >> 2] = uvec2(c.x | (c.y << 16), c.z | (c.w << 16));
#else
    dst_vec2[at >> 2] = uvec2(convert(v.x) | (convert(v.y) << 16), convert(v.z) | (convert(v.w) << 16));
#endif
  }
}

// One element of the head or tail; a 16-bit output word may be shared with a neighbouring
// tensor or chunk, so its half is written with atomics (store_half_pair).
void store_single(uint e) {
  const uint value = convert(load_element(e));
  const uint at = out_pos0() + e;
  if (OUT_TYPE == 0u)
    dst_words[at] = value;
  else
    store_half_pair(at >> 1, value, value, (at & 1u) == 0u, (at & 1u) != 0u);
}

#ifdef DQ_STAGED
// The wide run path of the staged modules (DQ_VULKAN_SHADER=staged): 8-element units, one
// per invocation and grid-stride step, the shape of the shader copy (copy_words.comp): one
// 16-byte load (two for F32) and one 16-byte store (two for f32 outputs) per unit. Units
// start where the output is 16-byte aligned; head and tail (at most 7 + 7 elements) go one by
// one from invocation 0. A source not 16-byte aligned there is read as words (src_u32).
const uint kUnitAlign = OUT_TYPE == 0u ? 4u : 8u;  // output elements per 16 bytes

void load8(uint e, bool vector, out uvec4 lo, out uvec4 hi) {
  if (SRC_TYPE != kF32 && vector) {
    const uvec4 w = src_vec[(params.src_byte_offset + 2u * e) >> 4];
    lo = uvec4(w.x & 0xffffu, w.x >> 16, w.y & 0xffffu, w.y >> 16);
    hi = uvec4(w.z & 0xffffu, w.z >> 16, w.w & 0xffffu, w.w >> 16);
    return;
  }
  lo = load_unit(e, vector);
  hi = load_unit(e + 4u, vector);
}

#ifdef DQ_NARROW_HW
uvec4 convert4(uvec4 v) { return convert4_hw(v); }
#else
uvec4 convert4(uvec4 v) { return uvec4(convert(v.x), convert(v.y), convert(v.z), convert(v.w)); }
#endif

void store8(uint e, uvec4 lo, uvec4 hi) {
  const uint at = out_pos0() + e;
  if (OUT_TYPE == 0u) {
    dst_vec[at >> 2] = convert4(lo);
    dst_vec[(at >> 2) + 1u] = convert4(hi);
    return;
  }
  const uvec4 a = convert4(lo), b = convert4(hi);
  dst_vec[at >> 3] = uvec4(a.x | (a.y << 16), a.z | (a.w << 16), b.x | (b.y << 16), b.z | (b.w << 16));
}

void main_run() {
  const uint n = params.n_elements;
  const uint head = min(n, (kUnitAlign - (out_pos0() % kUnitAlign)) % kUnitAlign);
  const uint units = (n - head) / 8u;
  const uint tail = head + 8u * units;
  const bool vector = ((params.src_byte_offset + kInBytes * head) & 15u) == 0u;
  if (gl_GlobalInvocationID.x == 0u) {
    for (uint e = 0u; e < head; ++e) store_single(e);
    for (uint e = tail; e < n; ++e) store_single(e);
  }
  const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint u = gl_GlobalInvocationID.x; u < units; u += stride) {
    uvec4 lo, hi;
    load8(head + 8u * u, vector, lo, hi);
    store8(head + 8u * u, lo, hi);
  }
}
#else
void main_run() {
  const uint n = params.n_elements;
  const uint head = min(n, (4u - (out_pos0() & 3u)) & 3u);
  const uint units = (n - head) / 4u;
  const uint tail = head + 4u * units;
  const bool vector = ((params.src_byte_offset + kInBytes * head) & (4u * kInBytes - 1u)) == 0u;
  if (gl_GlobalInvocationID.x == 0u) {
    for (uint e = 0u; e < head; ++e) store_single(e);
    for (uint e = tail; e < n; ++e) store_single(e);
  }
  // Each group takes 512 units per step, two per invocation (both loads issued before the
  // stores): unit u and u + 256, so each warp instruction stays contiguous.
  const uint step = 512u * gl_NumWorkGroups.x;
  for (uint u = 512u * gl_WorkGroupID.x + gl_LocalInvocationID.x; u < units; u += step) {
    const bool second = u + 256u < units;
    const uvec4 a = load_unit(head + 4u * u, vector);
    const uvec4 b = second ? load_unit(head + 4u * (u + 256u), vector) : uvec4(0u);
    store_unit(head + 4u * u, a);
    if (second) store_unit(head + 4u * (u + 256u), b);
  }
}
#endif

DQ_MAIN_ENTRY()
