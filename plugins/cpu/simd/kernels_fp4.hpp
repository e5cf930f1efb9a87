// MXFP4 (E8M0 scale per 32) and NVFP4 (UE4M3 scale per 16): E2M1 codes.
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

inline float e8m0_half(uint8_t e) {
  const uint32_t bits = e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e - 1) << 23);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <class O>
void k_mxfp4(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 17, y += 32) {
    const F d = Simd::set1(e8m0_half(src[0]));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 1 + j);
      O::put(y + j, Simd::mul(Simd::lut16(kMxfp4Values, Simd::and_(q, m15)), d));
      O::put(y + 16 + j, Simd::mul(Simd::lut16(kMxfp4Values, Simd::srli(q, 4)), d));
    }
  }
}

// NVFP4's UE4M3 sub-block scale, halved (the E2M1 table is doubled), as the scalar set
// decodes it: 0 and 0x7F give 0; exponent 0 is subnormal. A table: random scale bytes would
// make the branches of the decoder unpredictable.
constexpr float ue4m3_half(uint8_t x) {
  if (x == 0 || x == 0x7F) return 0.0f;
  const uint32_t exp = (x >> 3) & 0xFu, man = x & 0x7u;
  if (exp == 0) return static_cast<float>(man) * 0.0009765625f;
  return std::bit_cast<float>(((exp + 119u) << 23) | (man << 20));
}
struct Ue4m3Table {
  float v[256];
};
constexpr Ue4m3Table make_ue4m3_table() {
  Ue4m3Table t{};
  for (int x = 0; x < 256; ++x) t.v[x] = ue4m3_half(static_cast<uint8_t>(x));
  return t;
}
alignas(64) constexpr Ue4m3Table kUe4m3Half = make_ue4m3_table();

template <class O>
void k_nvfp4(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  // Sub-block of 16: byte j holds element j (low nibble) and j + 8 (high nibble).
  static constexpr int32_t kShift[2] = {0, 4};
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 36) {
    for (int s = 0; s < 4; ++s, y += 16) {
      const F d = Simd::set1(kUe4m3Half.v[src[s]]);
      uint64_t bytes;
      std::memcpy(&bytes, src + 4 + 8 * s, 8);
      const uint64_t g[2] = {bytes, bytes};
      for (int h = 0; h < 2; h += G) {
        const I q = Simd::and_(Simd::srlv(Simd::bytes_u8(g), Simd::per_group_i(kShift + h)), m15);
        O::put(y + 8 * h, Simd::mul(Simd::lut16(kMxfp4Values, q), d));
      }
    }
  }
}
