// common/dq_common/half.hpp against independent conversions: the compiler's _Float16 where
// it has one, and the double-arithmetic RNE reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "dq_common/half.hpp"
#include "rne_reference.hpp"

namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Half, F16WideningIsExactForEveryPattern) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = dq::f16_to_f32(static_cast<uint16_t>(h));
    const uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    const double sign = (h & 0x8000) ? -1.0 : 1.0;
    if (exp == 31) {
      if (mant == 0) EXPECT_TRUE(std::isinf(f) && std::signbit(f) == bool(h & 0x8000)) << h;
      else EXPECT_TRUE(std::isnan(f)) << h;
      continue;
    }
    const double want = exp == 0 ? sign * std::ldexp(double(mant), -24)
                                 : sign * std::ldexp(1.0 + mant / 1024.0, int(exp) - 15);
    EXPECT_EQ(static_cast<double>(f), want) << h;
    EXPECT_EQ(std::signbit(f), bool(h & 0x8000)) << h;  // -0 stays -0
    // Narrowing a widened value gives the pattern back.
    EXPECT_EQ(dq::f32_to_f16(f), h) << h;
#if defined(__FLT16_MAX__)
    _Float16 hf;
    const uint16_t h16 = static_cast<uint16_t>(h);
    std::memcpy(&hf, &h16, 2);
    EXPECT_EQ(bits(static_cast<float>(hf)), bits(f)) << h;
#endif
  }
}

TEST(Half, BF16WideningIsAShift) {
  for (uint32_t b = 0; b < 0x10000; ++b)
    EXPECT_EQ(bits(dq::bf16_to_f32(static_cast<uint16_t>(b))), b << 16);
}

// Every 251st f32 bit pattern (a prime stride visits every exponent and many mantissa
// tails), plus the edge cases by name.
TEST(Half, NarrowingRoundsToNearestEven) {
  auto check = [](uint32_t u) {
    const float f = from_bits(u);
    if (std::isnan(f)) {
      EXPECT_EQ(dq::f32_to_f16(f) & 0x7e00, 0x7e00) << std::hex << u;  // quiet NaN
      EXPECT_EQ(dq::f32_to_bf16(f) & 0x7fc0, 0x7fc0) << std::hex << u;
      return;
    }
    EXPECT_EQ(dq::f32_to_f16(f), dq::test::reference_f16(f)) << std::hex << u;
    EXPECT_EQ(dq::f32_to_bf16(f), dq::test::reference_bf16(f)) << std::hex << u;
#if defined(__FLT16_MAX__)
    const _Float16 hf = static_cast<_Float16>(f);
    uint16_t h16;
    std::memcpy(&h16, &hf, 2);
    EXPECT_EQ(dq::f32_to_f16(f), h16) << std::hex << u;
#endif
  };
  for (uint64_t u = 0; u <= 0xffffffffull; u += 251) check(static_cast<uint32_t>(u));
  const uint32_t edges[] = {
      0x00000000, 0x80000000, 0x7f800000, 0xff800000,  // zeros, infinities
      0x477fe000, 0x477fefff, 0x477ff000, 0x477ff001,  // around f16 max / overflow tie
      0x38800000, 0x387fffff, 0x387fe000, 0x387ff000,  // f16 normal / subnormal border
      0x33800000, 0x33000000, 0x33000001, 0x32ffffff,  // 2^-24, 2^-25 (tie to 0), around
      0x33c00000, 0x34200000,                          // 1.5 * 2^-24 (tie up), 2.5 (tie down)
      0x3f801000, 0x3f803000, 0x3f808000, 0x3f818000,  // f16 / bf16 ties at 1.0
      0x7f7fffff, 0x7f7f8000, 0x00000001, 0x80000001,  // f32 max (bf16 overflow), subnormals
  };
  for (uint32_t u : edges) check(u);
  EXPECT_EQ(dq::f32_to_f16(from_bits(0x477ff000)), 0x7c00);  // 65520 ties up to inf
  EXPECT_EQ(dq::f32_to_f16(from_bits(0x33000000)), 0x0000);  // 2^-25 ties down to 0
  EXPECT_EQ(dq::f32_to_f16(from_bits(0x33c00000)), 0x0002);  // 1.5 units ties up to 2
  EXPECT_EQ(dq::f32_to_bf16(from_bits(0x7f7fffff)), 0x7f80);  // f32 max rounds to inf
  EXPECT_EQ(dq::f32_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie to even (down)
  EXPECT_EQ(dq::f32_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie to even (up)
}

}  // namespace
