// f16 / bf16 <-> f32 conversions shared by the CPU and CUDA plugins (header-only).
// Bit-level, so the results never depend on the compiler's or the hardware's rounding mode:
// widening is exact, narrowing rounds to nearest, ties to even; +-inf stays +-inf, finite
// values beyond the f16 range become +-inf, and NaN stays a (quiet) NaN.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#define DQ_HD __host__ __device__
#else
#define DQ_HD
#endif

namespace dq {

DQ_HD inline uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

DQ_HD inline float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

// IEEE binary16 -> binary32 (exact).
DQ_HD inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24 is exact in f32.
    const float mag = static_cast<float>(mant) * 5.9604644775390625e-08f;
    return f32_from_bits(f32_bits(mag) | sign);
  }
  if (exp == 31) return f32_from_bits(sign | 0x7f800000u | (mant << 13));  // inf / NaN
  return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
}

// binary32 -> binary16, round to nearest, ties to even.
DQ_HD inline uint16_t f32_to_f16(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // >= 65520: inf
  if (a >= 0x38800000u) {                                                // normal f16
    const uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);
    return static_cast<uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  const uint32_t exp = a >> 23;
  if (exp < 102) return static_cast<uint16_t>(sign);  // below 2^-25: rounds to zero
  // Subnormal f16: the value in units of 2^-24 is mant >> (126 - exp), rounded.
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exp;  // 14..24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  return static_cast<uint16_t>(sign | q);
}

// bfloat16 -> binary32 (exact).
DQ_HD inline float bf16_to_f32(uint16_t b) { return f32_from_bits(static_cast<uint32_t>(b) << 16); }

// binary32 -> bfloat16, round to nearest, ties to even.
DQ_HD inline uint16_t f32_to_bf16(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

}  // namespace dq
