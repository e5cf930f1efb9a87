// 16-lane float/int32 operations on AVX-512 F/BW/VL/DQ, the vocabulary of ../simd/kernel_common.hpp.
// Include only from files compiled with the AVX-512 flags (names are per-ISA: no ODR clash).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace dq::cpu::avx512 {

struct Simd {
  static constexpr int W = 16;
  using F = __m512;
  using I = __m512i;

  static F set1(float x) { return _mm512_set1_ps(x); }
  static I set1i(int32_t x) { return _mm512_set1_epi32(x); }
  static I iota() { return _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); }
  static I load_u8(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static I load_i8(const void *p) {
    return _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
  }
  static I load_u16(const void *p) {
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
  }
  static I load_i32(const void *p) { return _mm512_loadu_si512(p); }
  static F loadf(const float *p) { return _mm512_loadu_ps(p); }
  // W floats from any byte address (the intrinsic takes void const *, no alignment).
  static F loadf_bytes(const uint8_t *p) { return _mm512_loadu_ps(p); }
  // Lanes 0-7 from the 8 bytes of g0, lanes 8-15 from g1.
  static I grid16_u8(uint64_t g0, uint64_t g1) {
    return _mm512_cvtepu8_epi32(_mm_set_epi64x(static_cast<long long>(g1), static_cast<long long>(g0)));
  }
  static I grid16_i8(uint64_t g0, uint64_t g1) {
    return _mm512_cvtepi8_epi32(_mm_set_epi64x(static_cast<long long>(g1), static_cast<long long>(g0)));
  }
  // Lanes 4k..4k+3 from the 4 bytes at p[k] (k = 0..3), zero-extended.
  static I load_u8_4x4(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d) {
    uint32_t x[4];
    std::memcpy(&x[0], a, 4);
    std::memcpy(&x[1], b, 4);
    std::memcpy(&x[2], c, 4);
    std::memcpy(&x[3], d, 4);
    return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x)));
  }

  // Groups of 8 lanes (G = W / 8 groups per vector).
  static constexpr int G = 2;
  static I bytes_u8(const uint64_t *g) { return grid16_u8(g[0], g[1]); }
  static I bytes_i8(const uint64_t *g) { return grid16_i8(g[0], g[1]); }
  static I bytes_u8_from_u32(const uint32_t *g) {
    return _mm512_cvtepu8_epi32(_mm_setr_epi32(static_cast<int>(g[0]), static_cast<int>(g[1]),
                                               static_cast<int>(g[2]), static_cast<int>(g[3])));
  }
  static I rows8_i32(const int32_t (*table)[8], const uint8_t *idx) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(table[idx[0]]));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(table[idx[1]]));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
  static F per_group(const float *v) {
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(v[0])), _mm256_set1_ps(v[1]), 1);
  }
  static I per_group_i(const int32_t *v) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(v[0])), _mm256_set1_epi32(v[1]), 1);
  }
  static I load_u8_rep4(const uint8_t *p) {
    uint32_t four;
    std::memcpy(&four, p, 4);
    const __m128i rep = _mm_shuffle_epi8(_mm_cvtsi32_si128(static_cast<int>(four)),
                                         _mm_setr_epi8(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    return _mm512_cvtepu8_epi32(rep);
  }

  static F cvt(I v) { return _mm512_cvtepi32_ps(v); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F fxor(F a, I bits) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), bits)); }
  static I fbits(F a) { return _mm512_castps_si512(a); }
  static F from_bits(I a) { return _mm512_castsi512_ps(a); }

  static I and_(I a, I b) { return _mm512_and_si512(a, b); }
  static I or_(I a, I b) { return _mm512_or_si512(a, b); }
  static I xor_(I a, I b) { return _mm512_xor_si512(a, b); }
  static I addi(I a, I b) { return _mm512_add_epi32(a, b); }
  static I subi(I a, I b) { return _mm512_sub_epi32(a, b); }
  static I mulloi(I a, I b) { return _mm512_mullo_epi32(a, b); }
  static I srli(I a, int n) { return _mm512_srl_epi32(a, _mm_cvtsi32_si128(n)); }
  static I slli(I a, int n) { return _mm512_sll_epi32(a, _mm_cvtsi32_si128(n)); }
  static I srlv(I a, I n) { return _mm512_srlv_epi32(a, n); }
  static I sllv(I a, I n) { return _mm512_sllv_epi32(a, n); }
  static I cmpeq(I a, I b) { return _mm512_movm_epi32(_mm512_cmpeq_epi32_mask(a, b)); }
  static I andnot(I a, I b) { return _mm512_andnot_si512(a, b); }
  static I blend(I a, I b, I mask) {
    return _mm512_mask_blend_epi32(_mm512_movepi32_mask(mask), a, b);
  }

  static F lut16(const float *table, I idx) { return _mm512_permutexvar_ps(idx, _mm512_loadu_ps(table)); }
  static F lut8(const float *table, I idx) { return lut16(table, idx); }  // table must hold 16
  static I gather(const int32_t *base, I idx) { return _mm512_i32gather_epi32(idx, base, 4); }

  static void store_f32(float *p, F v) { _mm512_storeu_ps(p, v); }
  static void stream_f32(float *p, F v) { _mm512_stream_ps(p, v); }
  static __m256i to_f16(F v) { return _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static __m256i to_bf16(F v) {
    I u = _mm512_castps_si512(v);
    I lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
    I rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
    I abs = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    __mmask16 nan = _mm512_cmpgt_epi32_mask(abs, _mm512_set1_epi32(0x7f800000));
    I quiet = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(64));
    return _mm512_cvtepi32_epi16(_mm512_mask_blend_epi32(nan, rounded, quiet));
  }
  static void store_f16(uint16_t *p, F v) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), to_f16(v)); }
  static void stream_f16(uint16_t *p, F v) { _mm256_stream_si256(reinterpret_cast<__m256i *>(p), to_f16(v)); }
  static void store_bf16(uint16_t *p, F v) { _mm256_storeu_si256(reinterpret_cast<__m256i *>(p), to_bf16(v)); }
  static void stream_bf16(uint16_t *p, F v) { _mm256_stream_si256(reinterpret_cast<__m256i *>(p), to_bf16(v)); }
  static F load_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
  }
  static F load_bf16(const uint16_t *p) { return _mm512_castsi512_ps(_mm512_slli_epi32(load_u16(p), 16)); }
  static void fence() { _mm_sfence(); }
};

inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }

}  // namespace dq::cpu::avx512
