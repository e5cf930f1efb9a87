// Random but valid blocks for the fast-vs-scalar tests: random bytes, then every scale field
// made finite (a mix of +0, -0, subnormal and normal f16), E8M0 bytes mostly mid-range,
// float tensors free of NaN (the contract's inputs never hold NaN).
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "dq_common/type_traits.hpp"

namespace dq::test {

inline uint16_t random_finite_f16(std::mt19937_64 &rng) {
  const uint32_t r = static_cast<uint32_t>(rng());
  switch (r % 10) {
    case 0: return 0x0000;                                              // +0
    case 1: return 0x8000;                                              // -0
    case 2: return static_cast<uint16_t>(((r >> 8) & 0x8000) | (1 + (r >> 16) % 0x3ff));  // subnormal
    default: {                                                          // normal, any size
      const uint16_t exp = static_cast<uint16_t>(1 + (r >> 4) % 30);
      return static_cast<uint16_t>(((r >> 8) & 0x8000) | (exp << 10) | ((r >> 16) & 0x3ff));
    }
  }
}

// Byte offsets of a type's f16 scale fields within one block.
inline std::vector<size_t> f16_scale_offsets(int32_t type) {
  switch (type) {
    case 2: case 6: case 8: case 16: case 17: case 18: case 19: case 20: case 21: case 22:
    case 23: case 41: case 42:
      return {0};
    case 3: case 7: case 12: case 13: return {0, 2};
    case 10: return {80, 82};
    case 11: return {108};
    case 14: return {208};
    case 34: return {52};
    case 35: return {64};
    default: return {};
  }
}

inline std::vector<uint8_t> random_blocks(int32_t type, int64_t n_blocks, uint64_t seed) {
  const TypeTraits *t = type_traits(type);
  const size_t bb = t->block_bytes;
  std::mt19937_64 rng(seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(type));
  std::vector<uint8_t> data(bb * static_cast<size_t>(n_blocks));
  for (size_t i = 0; i < data.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(data.data() + i, &r, std::min<size_t>(8, data.size() - i));
  }
  const auto scales = f16_scale_offsets(type);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t *blk = data.data() + b * bb;
    for (size_t off : scales) {
      uint16_t h = random_finite_f16(rng);
      std::memcpy(blk + off, &h, 2);
    }
    switch (type) {
      case 0: {  // f32: replace NaN by a random finite value (inf stays possible)
        float f;
        std::memcpy(&f, blk, 4);
        if (f != f) {
          uint32_t u = (static_cast<uint32_t>(rng()) & 0x807fffffu) | (static_cast<uint32_t>(rng() % 254) << 23);
          std::memcpy(blk, &u, 4);
        }
        break;
      }
      case 1: {  // f16 elements: finite or inf, never NaN
        uint16_t h;
        std::memcpy(&h, blk, 2);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) h = random_finite_f16(rng);
        std::memcpy(blk, &h, 2);
        break;
      }
      case 30: {  // bf16 elements
        uint16_t h;
        std::memcpy(&h, blk, 2);
        if ((h & 0x7f80) == 0x7f80 && (h & 0x7f)) h = static_cast<uint16_t>(h & 0xbfff);
        std::memcpy(blk, &h, 2);
        break;
      }
      case 15: {  // q8_K: f32 scale, finite
        float d = static_cast<float>(static_cast<int64_t>(rng() % 2001) - 1000) * 1e-3f;
        if (rng() % 8 == 0) d = (rng() % 2) ? -0.0f : 1e-40f;  // -0 and an f32 subnormal
        std::memcpy(blk, &d, 4);
        break;
      }
      case 29: {  // iq1_m: the f16 scale is the top nibbles of the four u16 scale words
        const uint16_t h = random_finite_f16(rng);
        for (int k = 0; k < 4; ++k) {
          uint16_t w;
          std::memcpy(&w, blk + 48 + 2 * k, 2);
          w = static_cast<uint16_t>((w & 0x0fff) | (((h >> (4 * k)) & 0xf) << 12));
          std::memcpy(blk + 48 + 2 * k, &w, 2);
        }
        break;
      }
      case 39: {  // mxfp4: E8M0 byte mostly 100..139, some extremes
        const uint32_t r = static_cast<uint32_t>(rng() % 16);
        blk[0] = r == 0 ? static_cast<uint8_t>(rng() % 4) : r == 1 ? static_cast<uint8_t>(rng()) :
                 static_cast<uint8_t>(100 + rng() % 40);
        break;
      }
      default: break;
    }
  }
  return data;
}

}  // namespace dq::test
