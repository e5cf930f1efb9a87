#include "compare.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

#include "dq/dq.h"

namespace dq::conformance {

namespace {

bool is_nan_bits(int32_t dst_type, uint32_t v) {
  if (dst_type == DQ_TYPE_F32) return (v & 0x7fffffffu) > 0x7f800000u;
  if (dst_type == DQ_TYPE_F16) return (v & 0x7fffu) > 0x7c00u;
  return (v & 0x7fffu) > 0x7f80u;  // bf16
}

float as_float(int32_t dst_type, uint32_t v) {
  if (dst_type == DQ_TYPE_F16) {
    _Float16 h;
    const uint16_t b = static_cast<uint16_t>(v);
    std::memcpy(&h, &b, 2);
    return static_cast<float>(h);
  }
  const uint32_t bits = dst_type == DQ_TYPE_BF16 ? v << 16 : v;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::string describe(int32_t dst_type, uint32_t v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, dst_type == DQ_TYPE_F32 ? "0x%08x (%.9g)" : "0x%04x (%.9g)", v,
                static_cast<double>(as_float(dst_type, v)));
  return buf;
}

// bf16 by hand: keep the top 16 bits, rounding the dropped 16 to nearest, ties to even.
uint16_t round_to_bf16(uint32_t f) {
  if ((f & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((f >> 16) | 0x40);
  const uint32_t dropped = f & 0xffffu, kept = f >> 16;
  const bool up = dropped > 0x8000u || (dropped == 0x8000u && (kept & 1u));
  return static_cast<uint16_t>(kept + (up ? 1u : 0u));
}

}  // namespace

std::string compare_outputs(int32_t dst_type, const std::vector<uint8_t> &got,
                            const std::vector<uint8_t> &want, int64_t n) {
  const size_t width = dst_type == DQ_TYPE_F32 ? 4 : 2;
  if (got.size() < static_cast<size_t>(n) * width || want.size() < static_cast<size_t>(n) * width)
    return "output buffers shorter than " + std::to_string(n) + " elements";
  int64_t first = -1, count = 0;
  uint32_t first_got = 0, first_want = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t g = 0, w = 0;
    std::memcpy(&g, &got[static_cast<size_t>(i) * width], width);
    std::memcpy(&w, &want[static_cast<size_t>(i) * width], width);
    if (g == w || (is_nan_bits(dst_type, g) && is_nan_bits(dst_type, w))) continue;
    if (first < 0) {
      first = i;
      first_got = g;
      first_want = w;
    }
    ++count;
  }
  if (count == 0) return "";
  return std::to_string(count) + " of " + std::to_string(n) + " elements differ; first at " +
         std::to_string(first) + ": got " + describe(dst_type, first_got) + ", want " +
         describe(dst_type, first_want);
}

std::vector<uint8_t> golden_as(int32_t dst_type, const std::vector<uint8_t> &f32_bytes) {
  if (dst_type == DQ_TYPE_F32) return f32_bytes;
  const size_t n = f32_bytes.size() / 4;
  std::vector<uint8_t> out(n * 2);
  for (size_t i = 0; i < n; ++i) {
    uint32_t bits;
    std::memcpy(&bits, &f32_bytes[i * 4], 4);
    uint16_t h;
    if (dst_type == DQ_TYPE_F16) {
      // The compiler's float -> _Float16 conversion rounds to nearest even (libgcc or F16C),
      // an implementation independent of dq's own half.hpp.
      float f;
      std::memcpy(&f, &bits, 4);
      const _Float16 v = static_cast<_Float16>(f);
      std::memcpy(&h, &v, 2);
    } else {
      h = round_to_bf16(bits);
    }
    std::memcpy(&out[i * 2], &h, 2);
  }
  return out;
}

}  // namespace dq::conformance
