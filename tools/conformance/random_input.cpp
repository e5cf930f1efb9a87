#include "random_input.hpp"

#include <cstring>

#include "dq/dq.h"
#include "dq_common/type_traits.hpp"
#include "scale_fields.hpp"

namespace dq::conformance {

Rng rng_for(const std::string &check_name, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : check_name) h = (h ^ c) * 1099511628211ULL;
  return Rng(h ^ seed);
}

uint16_t random_finite_f16(Rng &rng) {
  const uint32_t pick = rng() % 100;
  const uint16_t sign = (rng() & 1) ? 0x8000 : 0;
  if (pick < 5) return 0x0000;                                            // +0
  if (pick < 10) return 0x8000;                                           // -0
  if (pick < 25) return sign | static_cast<uint16_t>(1 + rng() % 0x3ff);  // subnormal
  const uint16_t exp = static_cast<uint16_t>(1 + rng() % 30);             // normal, not inf
  return sign | static_cast<uint16_t>(exp << 10) | static_cast<uint16_t>(rng() & 0x3ff);
}

uint32_t random_finite_f32(Rng &rng) {
  const uint32_t pick = rng() % 100;
  const uint32_t sign = (rng() & 1) ? 0x80000000u : 0;
  if (pick < 5) return sign;                                             // +-0
  if (pick < 15) return sign | static_cast<uint32_t>(1 + rng() % 0x7fffff);  // subnormal
  const uint32_t exp = static_cast<uint32_t>(1 + rng() % 254);
  return sign | (exp << 23) | static_cast<uint32_t>(rng() & 0x7fffff);
}

uint8_t random_sane_e8m0(Rng &rng) {
  const uint32_t pick = rng() % 100;
  if (pick < 85) return static_cast<uint8_t>(100 + rng() % 40);  // 2^-28 .. 2^11
  if (pick < 95) return static_cast<uint8_t>(rng() % 4);         // f32 subnormal scales
  return static_cast<uint8_t>(rng() % 255);                      // anything but 0xFF
}

namespace {

// Any bit pattern but NaN (kept out: NaN payloads need not survive a conversion).
uint16_t random_non_nan_16(Rng &rng, int exp_shift, uint16_t exp_mask) {
  for (;;) {
    const uint16_t v = static_cast<uint16_t>(rng());
    const bool all_ones = ((v >> exp_shift) & exp_mask) == exp_mask;
    const bool mant = (v & ((1u << exp_shift) - 1)) != 0;
    if (!(all_ones && mant)) return v;
  }
}

uint32_t random_non_nan_f32(Rng &rng) {
  for (;;) {
    const uint32_t v = static_cast<uint32_t>(rng());
    if ((v & 0x7fffffffu) <= 0x7f800000u) return v;
  }
}

}  // namespace

std::vector<uint8_t> random_blocks(int32_t type, int64_t n_blocks, Rng &rng) {
  const TypeTraits *t = type_traits(type);
  const size_t block = t ? t->block_bytes : 0;
  std::vector<uint8_t> bytes(block * static_cast<size_t>(n_blocks));
  if (type == DQ_TYPE_F32 || type == DQ_TYPE_F16 || type == DQ_TYPE_BF16) {
    for (size_t off = 0; off < bytes.size(); off += block) {
      if (type == DQ_TYPE_F32) {
        const uint32_t v = random_non_nan_f32(rng);
        std::memcpy(&bytes[off], &v, 4);
      } else {
        const uint16_t v = type == DQ_TYPE_F16 ? random_non_nan_16(rng, 10, 0x1f)
                                               : random_non_nan_16(rng, 7, 0xff);
        std::memcpy(&bytes[off], &v, 2);
      }
    }
    return bytes;
  }
  for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
    const uint64_t r = rng();
    std::memcpy(&bytes[i], &r, 8);
  }
  for (size_t i = bytes.size() & ~size_t{7}; i < bytes.size(); ++i)
    bytes[i] = static_cast<uint8_t>(rng());
  const std::vector<ScaleField> fields = scale_fields(type);
  for (size_t off = 0; off < bytes.size(); off += block) {
    for (const ScaleField &f : fields) {
      uint8_t *p = &bytes[off + f.offset];
      switch (f.kind) {
        case ScaleKind::f16: {
          const uint16_t v = random_finite_f16(rng);
          std::memcpy(p, &v, 2);
          break;
        }
        case ScaleKind::f32: {
          const uint32_t v = random_finite_f32(rng);
          std::memcpy(p, &v, 4);
          break;
        }
        case ScaleKind::e8m0: *p = random_sane_e8m0(rng); break;
        case ScaleKind::f16_nibbles: write_f16_nibbles(p, random_finite_f16(rng)); break;
      }
    }
  }
  return bytes;
}

}  // namespace dq::conformance
