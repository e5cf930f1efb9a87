// 8-lane float/int32 operations on AArch64 Advanced SIMD (pairs of 128-bit registers), the
// vocabulary of the ISA-independent kernels in ../simd/.
#pragma once

#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace dq::cpu::neon {

struct Simd {
  static constexpr int W = 8;
  static constexpr int G = 1;  // groups of 8 lanes per vector
  struct F {
    float32x4_t lo, hi;
  };
  struct I {
    int32x4_t lo, hi;
  };

  static F set1(float x) { return {vdupq_n_f32(x), vdupq_n_f32(x)}; }
  static I set1i(int32_t x) { return {vdupq_n_s32(x), vdupq_n_s32(x)}; }
  static I iota() {
    static const int32_t k[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    return {vld1q_s32(k), vld1q_s32(k + 4)};
  }
  static I widen_u8(uint8x8_t b) {
    const uint16x8_t h = vmovl_u8(b);
    return {vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(h))), vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(h)))};
  }
  static I widen_i8(int8x8_t b) {
    const int16x8_t h = vmovl_s8(b);
    return {vmovl_s16(vget_low_s16(h)), vmovl_s16(vget_high_s16(h))};
  }
  static I load_u8(const uint8_t *p) { return widen_u8(vld1_u8(p)); }
  static I load_i8(const void *p) { return widen_i8(vld1_s8(static_cast<const int8_t *>(p))); }
  static F loadf(const float *p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
  // W floats from any byte address: byte loads need no alignment and alias anything.
  static F loadf_bytes(const uint8_t *p) {
    return {vreinterpretq_f32_u8(vld1q_u8(p)), vreinterpretq_f32_u8(vld1q_u8(p + 16))};
  }
  static I bytes_u8(const uint64_t *g) { return widen_u8(vcreate_u8(g[0])); }
  static I bytes_i8(const uint64_t *g) { return widen_i8(vcreate_s8(g[0])); }
  static I bytes_u8_from_u32(const uint32_t *g) {
    return widen_u8(vcreate_u8(static_cast<uint64_t>(g[0]) | (static_cast<uint64_t>(g[1]) << 32)));
  }
  static I rows8_i32(const int32_t (*table)[8], const uint8_t *idx) {
    return {vld1q_s32(table[idx[0]]), vld1q_s32(table[idx[0]] + 4)};
  }
  static F per_group(const float *v) { return set1(v[0]); }
  static I per_group_i(const int32_t *v) { return set1i(v[0]); }
  static I load_u8_rep4(const uint8_t *p) { return {vdupq_n_s32(p[0]), vdupq_n_s32(p[1])}; }

  static F cvt(I v) { return {vcvtq_f32_s32(v.lo), vcvtq_f32_s32(v.hi)}; }
  static F mul(F a, F b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
  static F add(F a, F b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
  static F sub(F a, F b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
  static I fbits(F a) { return {vreinterpretq_s32_f32(a.lo), vreinterpretq_s32_f32(a.hi)}; }
  static F from_bits(I a) { return {vreinterpretq_f32_s32(a.lo), vreinterpretq_f32_s32(a.hi)}; }
  static F fxor(F a, I bits) { return from_bits(xor_(fbits(a), bits)); }

  static I and_(I a, I b) { return {vandq_s32(a.lo, b.lo), vandq_s32(a.hi, b.hi)}; }
  static I or_(I a, I b) { return {vorrq_s32(a.lo, b.lo), vorrq_s32(a.hi, b.hi)}; }
  static I xor_(I a, I b) { return {veorq_s32(a.lo, b.lo), veorq_s32(a.hi, b.hi)}; }
  static I addi(I a, I b) { return {vaddq_s32(a.lo, b.lo), vaddq_s32(a.hi, b.hi)}; }
  static I subi(I a, I b) { return {vsubq_s32(a.lo, b.lo), vsubq_s32(a.hi, b.hi)}; }
  static I mulloi(I a, I b) { return {vmulq_s32(a.lo, b.lo), vmulq_s32(a.hi, b.hi)}; }
  // Logical shifts: vshlq_u32 shifts right for negative counts.
  static I srlv(I a, I n) {
    return {vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a.lo), vnegq_s32(n.lo))),
            vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a.hi), vnegq_s32(n.hi)))};
  }
  static I sllv(I a, I n) {
    return {vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a.lo), n.lo)),
            vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(a.hi), n.hi))};
  }
  static I srli(I a, int n) { return srlv(a, set1i(n)); }
  static I slli(I a, int n) { return sllv(a, set1i(n)); }
  static I cmpeq(I a, I b) {
    return {vreinterpretq_s32_u32(vceqq_s32(a.lo, b.lo)), vreinterpretq_s32_u32(vceqq_s32(a.hi, b.hi))};
  }
  static I andnot(I a, I b) { return {vbicq_s32(b.lo, a.lo), vbicq_s32(b.hi, a.hi)}; }  // ~a & b
  static I blend(I a, I b, I mask) {  // mask ? b : a
    return {vbslq_s32(vreinterpretq_u32_s32(mask.lo), b.lo, a.lo), vbslq_s32(vreinterpretq_u32_s32(mask.hi), b.hi, a.hi)};
  }

  // table[idx] for a 16-entry float table: a byte-table lookup of each lane's 4 bytes.
  static float32x4_t lut16_half(const uint8x16x4_t &t, int32x4_t idx) {
    const uint32x4_t bytes = vaddq_u32(vmulq_n_u32(vreinterpretq_u32_s32(idx), 0x04040404u), vdupq_n_u32(0x03020100u));
    return vreinterpretq_f32_u8(vqtbl4q_u8(t, vreinterpretq_u8_u32(bytes)));
  }
  static F lut16(const float *table, I idx) {
    const uint8_t *b = reinterpret_cast<const uint8_t *>(table);
    const uint8x16x4_t t = {{vld1q_u8(b), vld1q_u8(b + 16), vld1q_u8(b + 32), vld1q_u8(b + 48)}};
    return {lut16_half(t, idx.lo), lut16_half(t, idx.hi)};
  }

  // Outputs. f16: FCVTN, round to nearest even (the FPCR default). bf16: integer RNE as on x86.
  static void store_f32(float *p, F v) {
    vst1q_f32(p, v.lo);
    vst1q_f32(p + 4, v.hi);
  }
  static void stream_f32(float *p, F v) { store_f32(p, v); }
  static uint16x8_t to_f16(F v) {
    return vreinterpretq_u16_f16(vcombine_f16(vcvt_f16_f32(v.lo), vcvt_f16_f32(v.hi)));
  }
  static uint16x4_t bf16_half(float32x4_t f) {
    const uint32x4_t u = vreinterpretq_u32_f32(f);
    const uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
    const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7fff))), 16);
    const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
    const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(64));
    return vmovn_u32(vbslq_u32(nan, quiet, rounded));
  }
  static void store_f16(uint16_t *p, F v) { vst1q_u16(p, to_f16(v)); }
  static void stream_f16(uint16_t *p, F v) { store_f16(p, v); }
  static void store_bf16(uint16_t *p, F v) { vst1q_u16(p, vcombine_u16(bf16_half(v.lo), bf16_half(v.hi))); }
  static void stream_bf16(uint16_t *p, F v) { store_bf16(p, v); }
  static F load_f16(const uint16_t *p) {
    const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(p));
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_f32_f16(vget_high_f16(h))};
  }
  static F load_bf16(const uint16_t *p) {
    const uint16x8_t h = vld1q_u16(p);
    return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)),
            vreinterpretq_f32_u32(vshll_n_u16(vget_high_u16(h), 16))};
  }
  static void fence() {}
};

inline float half_to_float(uint16_t h) {
  return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

}  // namespace dq::cpu::neon
