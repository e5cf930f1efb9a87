// The host side of the hardware f16 narrowing probe (narrow_probe.hpp): the f32 bit patterns
// where a device's f32 -> f16 conversion most easily departs from the reference
// (dq_common/half.hpp f32_to_f16), and the bit-for-bit comparison of a device's results with
// it. Header-only and free of Vulkan so tests feed it injected device results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dq_common/half.hpp"

namespace dq::vulkan {

// Each pattern with its sign flipped too, then a fixed pseudo-random spread over all 2^32.
inline std::vector<uint32_t> narrow_probe_inputs() {
  static const uint32_t kMagnitudes[] = {
      0x00000000u,                                                  // zero
      0x7f800000u,                                                  // inf
      0x7fc00000u, 0x7fc12345u, 0x7fe02000u, 0x7fffffffu,           // quiet NaNs with payloads
      0x7f800001u, 0x7f802000u, 0x7fa00000u, 0x7fbfffffu,           // signalling NaNs
      0x3f800000u, 0x3dcccccdu, 0x40490fdbu,                        // 1, 0.1, pi
      0x3f801000u, 0x3f803000u, 0x3f801001u, 0x3f800fffu,           // ties to even at 1 and neighbours
      0x44801000u, 0x44803000u, 0x47001000u, 0x47003000u,           // ties at 2^10, 2^15
      0x38801000u, 0x38803000u,                                     // ties at the smallest normal 2^-14
      0x3ffff000u, 0x3fffefffu, 0x477fe000u,                        // up to the next binade; 65504
      0x477fefffu, 0x477ff000u, 0x477ff001u, 0x47800000u, 0x7f7fffffu,  // just below 65520; to inf
      0x33800000u, 0x33000000u, 0x33000001u, 0x32ffffffu, 0x32800000u,  // 2^-24, 2^-25 (tie to 0)
      0x33c00000u, 0x34200000u, 0x387fc000u, 0x387fe000u, 0x387fffffu,  // subnormal ties; to 2^-14
      0x37800000u, 0x35000800u, 0x35001800u,                        // subnormal results, ties
      0x00000001u, 0x00400000u, 0x007fffffu, 0x00800000u, 0x0c000000u,  // f32 subnormals, tiny normals
  };
  std::vector<uint32_t> in;
  for (uint32_t m : kMagnitudes) {
    in.push_back(m);
    in.push_back(m | 0x80000000u);
  }
  uint32_t s = 0x9e3779b9u;  // xorshift32
  for (int i = 0; i < 1024; ++i) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    in.push_back(s);
  }
  return in;
}

// "" when got[i] == f32_to_f16(in[i]) for every i, else the first difference and the count.
inline std::string narrow_mismatch(const std::vector<uint32_t> &in, const uint16_t *got, size_t n) {
  if (n != in.size()) return "probe returned " + std::to_string(n) + " results for " + std::to_string(in.size());
  size_t wrong = 0, first = 0;
  for (size_t i = n; i-- > 0;)
    if (got[i] != dq::f32_to_f16(dq::f32_from_bits(in[i]))) ++wrong, first = i;
  if (wrong == 0) return "";
  char buf[96];
  std::snprintf(buf, sizeof buf, "f32 0x%08x -> 0x%04x, want 0x%04x", static_cast<unsigned>(in[first]),
                static_cast<unsigned>(got[first]), static_cast<unsigned>(dq::f32_to_f16(dq::f32_from_bits(in[first]))));
  return std::string(buf) + " (" + std::to_string(wrong) + " of " + std::to_string(n) + " differ)";
}

}  // namespace dq::vulkan
