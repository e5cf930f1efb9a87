// An independent f32 -> f16 / bf16 round-to-nearest-even, written differently from
// common/dq_common/half.hpp (double arithmetic and nearbyint instead of bit tricks), so the
// two can check each other.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace dq::test {

// Rounds |x| to a binary format with `mant_bits` stored mantissa bits and minimum normal
// exponent `emin`; returns the rounded magnitude (may be >= 2^(emax+1), meaning overflow).
inline double round_magnitude(double a, int mant_bits, int emin) {
  int k = 0;
  std::frexp(a, &k);  // a = m * 2^k, m in [0.5, 1)
  int e = k - 1;
  if (e < emin) e = emin;  // subnormal range: fixed quantum
  const double quantum = std::ldexp(1.0, e - mant_bits);
  return std::nearbyint(a / quantum) * quantum;  // default rounding mode: ties to even
}

inline uint16_t reference_f16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint16_t sign = (u >> 31) ? 0x8000 : 0;
  if (std::isnan(x)) return sign | 0x7e00;
  if (std::isinf(x)) return sign | 0x7c00;
  const double r = round_magnitude(std::fabs(static_cast<double>(x)), 10, -14);
  if (r >= 65536.0) return sign | 0x7c00;
  if (r < std::ldexp(1.0, -14)) return sign | static_cast<uint16_t>(r / std::ldexp(1.0, -24));
  int k = 0;
  const double m = std::frexp(r, &k);  // r = m * 2^k
  const int e = k - 1;
  const uint16_t mant = static_cast<uint16_t>(std::ldexp(m, 11) - 1024.0);
  return sign | static_cast<uint16_t>((e + 15) << 10) | mant;
}

inline uint16_t reference_bf16(float x) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  const uint16_t sign = (u >> 31) ? 0x8000 : 0;
  if (std::isnan(x)) return static_cast<uint16_t>((u >> 16) | 0x40);
  if (std::isinf(x)) return sign | 0x7f80;
  const double r = round_magnitude(std::fabs(static_cast<double>(x)), 7, -126);
  if (r >= std::ldexp(1.0, 128)) return sign | 0x7f80;
  const float rf = static_cast<float>(r);  // exact: r has at most 8 significant bits
  uint32_t ru;
  std::memcpy(&ru, &rf, 4);
  return sign | static_cast<uint16_t>(ru >> 16);
}

}  // namespace dq::test
