// 8-lane float/int32 operations on AVX2 + F16C, the vocabulary of ../simd/kernel_common.hpp.
// Include only from files compiled with -mavx2 -mfma -mf16c (names are per-ISA: no ODR clash).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dq::cpu::avx2 {

struct Simd {
  static constexpr int W = 8;
  using F = __m256;
  using I = __m256i;

  static F set1(float x) { return _mm256_set1_ps(x); }
  static I set1i(int32_t x) { return _mm256_set1_epi32(x); }
  static I iota() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }
  static I load_u8(const uint8_t *p) {  // W bytes, zero-extended
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
  }
  static I load_i8(const void *p) {  // W bytes, sign-extended
    return _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(p)));
  }
  static I load_u16(const void *p) {  // W u16, zero-extended
    return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static I load_i32(const void *p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)); }
  static F loadf(const float *p) { return _mm256_loadu_ps(p); }
  // W floats from any byte address (the intrinsic reads through an unaligned, may_alias type).
  static F loadf_bytes(const uint8_t *p) { return _mm256_loadu_ps(reinterpret_cast<const float *>(p)); }
  // Lanes 0-3 from the 4 bytes at a, lanes 4-7 from the 4 bytes at b (zero-extended).
  static I load_u8_4x2(const uint8_t *a, const uint8_t *b) {
    uint32_t x, y;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    return _mm256_cvtepu8_epi32(_mm_set_epi32(0, 0, static_cast<int>(y), static_cast<int>(x)));
  }
  // All W lanes from the 8 bytes of one u64 grid entry (sign-extended/zero-extended).
  static I grid8_u8(uint64_t g) { return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(g))); }
  static I grid8_i8(uint64_t g) { return _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(static_cast<long long>(g))); }

  // Groups of 8 lanes (G = W / 8 groups per vector).
  static constexpr int G = 1;
  static I bytes_u8(const uint64_t *g) { return grid8_u8(g[0]); }
  static I bytes_i8(const uint64_t *g) { return grid8_i8(g[0]); }
  // 2G 4-byte grid entries -> W lanes (entry e fills lanes 4e..4e+3), zero-extended.
  static I bytes_u8_from_u32(const uint32_t *g) {
    return _mm256_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(g[0]), static_cast<int>(g[1]), 0, 0));
  }
  static I rows8_i32(const int32_t (*table)[8], const uint8_t *idx) { return load_i32(table[idx[0]]); }
  static F per_group(const float *v) { return _mm256_set1_ps(v[0]); }
  static I per_group_i(const int32_t *v) { return _mm256_set1_epi32(v[0]); }
  // W/4 bytes at p, each repeated in 4 consecutive lanes.
  static I load_u8_rep4(const uint8_t *p) {
    uint16_t two;
    std::memcpy(&two, p, 2);
    const __m128i rep = _mm_shuffle_epi8(_mm_cvtsi32_si128(two), _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0));
    return _mm256_cvtepu8_epi32(rep);
  }

  static F cvt(I v) { return _mm256_cvtepi32_ps(v); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F fxor(F a, I bits) { return _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(a), bits)); }
  static I fbits(F a) { return _mm256_castps_si256(a); }
  static F from_bits(I a) { return _mm256_castsi256_ps(a); }

  static I and_(I a, I b) { return _mm256_and_si256(a, b); }
  static I or_(I a, I b) { return _mm256_or_si256(a, b); }
  static I xor_(I a, I b) { return _mm256_xor_si256(a, b); }
  static I addi(I a, I b) { return _mm256_add_epi32(a, b); }
  static I subi(I a, I b) { return _mm256_sub_epi32(a, b); }
  static I mulloi(I a, I b) { return _mm256_mullo_epi32(a, b); }
  static I srli(I a, int n) { return _mm256_srl_epi32(a, _mm_cvtsi32_si128(n)); }
  static I slli(I a, int n) { return _mm256_sll_epi32(a, _mm_cvtsi32_si128(n)); }
  static I srlv(I a, I n) { return _mm256_srlv_epi32(a, n); }
  static I sllv(I a, I n) { return _mm256_sllv_epi32(a, n); }
  static I cmpeq(I a, I b) { return _mm256_cmpeq_epi32(a, b); }
  static I andnot(I a, I b) { return _mm256_andnot_si256(a, b); }  // ~a & b
  static I blend(I a, I b, I mask) { return _mm256_blendv_epi8(a, b, mask); }  // mask ? b : a

  // table[idx] for a 16-entry float table, idx in 0..15 per lane.
  static F lut16(const float *table, I idx) {
    F lo = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), idx);
    F hi = _mm256_permutevar8x32_ps(_mm256_loadu_ps(table + 8), idx);
    return _mm256_blendv_ps(lo, hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
  }
  // table[idx] for an 8-entry float table, idx in 0..7 per lane.
  static F lut8(const float *table, I idx) { return _mm256_permutevar8x32_ps(_mm256_loadu_ps(table), idx); }
  static I gather(const int32_t *base, I idx) { return _mm256_i32gather_epi32(reinterpret_cast<const int *>(base), idx, 4); }

  // Outputs. f16: vcvtps2ph round-to-nearest-even. bf16: integer round-to-nearest-even,
  // NaN kept quiet (ggml's rule).
  static void store_f32(float *p, F v) { _mm256_storeu_ps(p, v); }
  static void stream_f32(float *p, F v) { _mm256_stream_ps(p, v); }
  static __m128i to_f16(F v) { return _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static __m128i to_bf16(F v) {
    I u = _mm256_castps_si256(v);
    I lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(1));
    I rounded = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, _mm256_set1_epi32(0x7fff))), 16);
    I abs = _mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff));
    I nan = _mm256_cmpgt_epi32(abs, _mm256_set1_epi32(0x7f800000));
    I quiet = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(64));
    I r = _mm256_blendv_epi8(rounded, quiet, nan);
    I packed = _mm256_packus_epi32(r, r);  // per 128-bit lane: [a0..a3 a0..a3 | a4..a7 a4..a7]
    return _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08));
  }
  static void store_f16(uint16_t *p, F v) { _mm_storeu_si128(reinterpret_cast<__m128i *>(p), to_f16(v)); }
  static void stream_f16(uint16_t *p, F v) { _mm_stream_si128(reinterpret_cast<__m128i *>(p), to_f16(v)); }
  static void store_bf16(uint16_t *p, F v) { _mm_storeu_si128(reinterpret_cast<__m128i *>(p), to_bf16(v)); }
  static void stream_bf16(uint16_t *p, F v) { _mm_stream_si128(reinterpret_cast<__m128i *>(p), to_bf16(v)); }
  static F load_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static F load_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(load_u16(p), 16));
  }
  static void fence() { _mm_sfence(); }
};

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

}  // namespace dq::cpu::avx2
