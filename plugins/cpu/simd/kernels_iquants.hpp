// The i-quants: IQ4_NL / IQ4_XS (non-linear 4-bit values) and the grid types IQ1_S, IQ1_M,
// IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S.
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

template <class O>
void k_iq4_nl(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 18, y += 32) {
    const F d = Simd::set1(half_at(src));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 2 + j);
      O::put(y + j, Simd::mul(d, Simd::lut16(kIq4nlValues, Simd::and_(q, m15))));
      O::put(y + 16 + j, Simd::mul(d, Simd::lut16(kIq4nlValues, Simd::srli(q, 4))));
    }
  }
}

// ggml's E8M0 scale with the e2m1 table halved: 2^(e-128), subnormal for e < 2.
template <class O>
void k_iq4_xs(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 136) {
    const float d = half_at(src);
    uint16_t scales_h;
    std::memcpy(&scales_h, src + 2, 2);
    const uint8_t *scales_l = src + 4;
    const uint8_t *qs = src + 8;
    for (int ib = 0; ib < 8; ++ib, qs += 16, y += 32) {
      const int ls = ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xf) | (((scales_h >> 2 * ib) & 3) << 4);
      const F dl = Simd::set1(d * (ls - 32));
      for (int j = 0; j < 16; j += W) {
        const I q = Simd::load_u8(qs + j);
        O::put(y + j, Simd::mul(dl, Simd::lut16(kIq4nlValues, Simd::and_(q, m15))));
        O::put(y + 16 + j, Simd::mul(dl, Simd::lut16(kIq4nlValues, Simd::srli(q, 4))));
      }
    }
  }
}

// Groups of 8 elements (G per vector): each group's magnitudes come from one 8-byte grid
// entry (or two 4-byte ones) and its signs from one byte (bit j flips element j).

// kSignMask[s][j]: the f32 sign bit when bit j of s is set. Flipping the sign equals ggml's
// multiplication by -1.f exactly.
struct SignMaskTable {
  int32_t v[256][8];
};
constexpr SignMaskTable make_sign_masks() {
  SignMaskTable t{};
  for (int s = 0; s < 256; ++s)
    for (int j = 0; j < 8; ++j) t.v[s][j] = ((s >> j) & 1) ? static_cast<int32_t>(0x80000000u) : 0;
  return t;
}
alignas(64) constexpr SignMaskTable kSignMask = make_sign_masks();

// db * grid * sign for G groups, stored at y.
template <class O>
inline void put_signed(typename O::T *y, F db, const uint64_t *g, const uint8_t *signs) {
  const F v = Simd::mul(db, Simd::cvt(Simd::bytes_u8(g)));
  O::put(y, Simd::fxor(v, Simd::rows8_i32(kSignMask.v, signs)));
}

template <class O>
inline void put_signed4(typename O::T *y, F db, const uint32_t *g, const uint8_t *signs) {
  const F v = Simd::mul(db, Simd::cvt(Simd::bytes_u8_from_u32(g)));
  O::put(y, Simd::fxor(v, Simd::rows8_i32(kSignMask.v, signs)));
}

template <class O>
void k_iq2_xxs(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 66) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    for (int ib32 = 0; ib32 < 8; ++ib32) {
      const uint8_t *idx = qs + 8 * ib32;
      const uint32_t aux = u32_at(idx + 4);
      const F db = Simd::set1(d * (0.5f + (aux >> 28)) * 0.25f);
      for (int l = 0; l < 4; l += G, y += W) {
        uint64_t g[G];
        uint8_t s[G];
        for (int k = 0; k < G; ++k) {
          g[k] = grids::iq2xxs_grid[idx[l + k]];
          s[k] = grids::ksigns_iq2xs[(aux >> 7 * (l + k)) & 127];
        }
        put_signed<O>(y, db, g, s);
      }
    }
  }
}

template <class O>
void k_iq2_xs(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 74) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    const uint8_t *scales = src + 66;
    for (int ib32 = 0; ib32 < 8; ++ib32) {
      const float db[2] = {d * (0.5f + (scales[ib32] & 0xf)) * 0.25f, d * (0.5f + (scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; l += G, y += W) {
        uint64_t g[G];
        uint8_t s[G];
        for (int k = 0; k < G; ++k) {
          uint16_t q;
          std::memcpy(&q, qs + 2 * (4 * ib32 + l + k), 2);
          g[k] = grids::iq2xs_grid[q & 511];
          s[k] = grids::ksigns_iq2xs[q >> 9];
        }
        put_signed<O>(y, Simd::set1(db[l / 2]), g, s);
      }
    }
  }
}

template <class O>
void k_iq2_s(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 82) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    const uint8_t *signs = qs + 32;
    const uint8_t *qh = src + 66;
    const uint8_t *scales = src + 74;
    for (int ib32 = 0; ib32 < 8; ++ib32, qs += 4, signs += 4) {
      const float db[2] = {d * (0.5f + (scales[ib32] & 0xf)) * 0.25f, d * (0.5f + (scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; l += G, y += W) {
        uint64_t g[G];
        for (int k = 0; k < G; ++k) g[k] = grids::iq2s_grid[qs[l + k] | ((qh[ib32] << (8 - 2 * (l + k))) & 0x300)];
        put_signed<O>(y, Simd::set1(db[l / 2]), g, signs + l);
      }
    }
  }
}

template <class O>
void k_iq3_xxs(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 98) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    const uint8_t *scales_and_signs = qs + 64;
    for (int ib32 = 0; ib32 < 8; ++ib32, qs += 8) {
      const uint32_t aux = u32_at(scales_and_signs + 4 * ib32);
      const F db = Simd::set1(d * (0.5f + (aux >> 28)) * 0.5f);
      for (int l = 0; l < 4; l += G, y += W) {
        uint32_t g[2 * G];
        uint8_t s[G];
        for (int k = 0; k < G; ++k) {
          g[2 * k] = grids::iq3xxs_grid[qs[2 * (l + k)]];
          g[2 * k + 1] = grids::iq3xxs_grid[qs[2 * (l + k) + 1]];
          s[k] = grids::ksigns_iq2xs[(aux >> 7 * (l + k)) & 127];
        }
        put_signed4<O>(y, db, g, s);
      }
    }
  }
}

template <class O>
void k_iq3_s(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 110) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    const uint8_t *qh = src + 66;
    const uint8_t *signs = src + 74;
    const uint8_t *scales = src + 106;
    for (int ib32 = 0; ib32 < 8; ib32 += 2, qh += 2) {
      const float db_pair[2] = {d * (1 + 2 * (scales[ib32 / 2] & 0xf)), d * (1 + 2 * (scales[ib32 / 2] >> 4))};
      for (int half = 0; half < 2; ++half, qs += 8, signs += 4) {
        const F db = Simd::set1(db_pair[half]);
        for (int l = 0; l < 4; l += G, y += W) {
          uint32_t g[2 * G];
          for (int k = 0; k < G; ++k) {
            const int m = l + k;
            g[2 * k] = grids::iq3s_grid[qs[2 * m] | ((qh[half] << (8 - 2 * m)) & 256)];
            g[2 * k + 1] = grids::iq3s_grid[qs[2 * m + 1] | ((qh[half] << (7 - 2 * m)) & 256)];
          }
          put_signed4<O>(y, db, g, signs + l);
        }
      }
    }
  }
}

// The bits of grids::iq1s_delta (0.125f); checked below.
constexpr uint32_t kDeltaBits = 0x3E000000u;
static_assert(grids::iq1s_delta == 0.125f, "kDeltaBits encodes 0.125f");

template <class O>
void k_iq1_s(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 50) {
    const float d = half_at(src);
    const uint8_t *qs = src + 2;
    const uint8_t *qh_bytes = src + 34;
    for (int ib = 0; ib < 8; ++ib, qs += 4) {
      uint16_t qh;
      std::memcpy(&qh, qh_bytes + 2 * ib, 2);
      const F dl = Simd::set1(d * (2 * ((qh >> 12) & 7) + 1));
      // +-delta without a data-dependent branch (random sign bits defeat the predictor).
      const F delta = Simd::from_bits(Simd::set1i(static_cast<int32_t>(kDeltaBits | ((qh & 0x8000u) << 16))));
      for (int l = 0; l < 4; l += G, y += W) {
        uint64_t g[G];
        for (int k = 0; k < G; ++k) g[k] = grids::iq1s_grid[qs[l + k] | (((qh >> 3 * (l + k)) & 7) << 8)];
        O::put(y, Simd::mul(dl, Simd::add(Simd::cvt(Simd::bytes_i8(g)), delta)));
      }
    }
  }
}

template <class O>
void k_iq1_m(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 56) {
    const uint8_t *qs = src;
    const uint8_t *qh = src + 32;
    uint16_t sc[4];
    std::memcpy(sc, src + 48, 8);
    const uint16_t scale_bits = static_cast<uint16_t>((sc[0] >> 12) | ((sc[1] >> 8) & 0x00f0) |
                                                      ((sc[2] >> 4) & 0x0f00) | (sc[3] & 0xf000));
    const float d = half_to_float(scale_bits);
    for (int ib = 0; ib < 8; ++ib, qs += 4, qh += 2) {
      const float dl[2] = {d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 0)) & 0x7) + 1),
                           d * (2 * ((sc[ib / 2] >> (6 * (ib % 2) + 3)) & 0x7) + 1)};
      const uint16_t idx[4] = {
          static_cast<uint16_t>(qs[0] | ((qh[0] << 8) & 0x700)), static_cast<uint16_t>(qs[1] | ((qh[0] << 4) & 0x700)),
          static_cast<uint16_t>(qs[2] | ((qh[1] << 8) & 0x700)), static_cast<uint16_t>(qs[3] | ((qh[1] << 4) & 0x700))};
      // +-delta per group of 8 as f32 bits (sign from bit 3 / bit 7 of qh), branch-free.
      const int32_t delta[4] = {static_cast<int32_t>(kDeltaBits | ((qh[0] & 0x08u) << 28)),
                                static_cast<int32_t>(kDeltaBits | ((qh[0] & 0x80u) << 24)),
                                static_cast<int32_t>(kDeltaBits | ((qh[1] & 0x08u) << 28)),
                                static_cast<int32_t>(kDeltaBits | ((qh[1] & 0x80u) << 24))};
      for (int l = 0; l < 4; l += G, y += W) {
        uint64_t g[G];
        for (int k = 0; k < G; ++k) g[k] = grids::iq1s_grid[idx[l + k]];
        O::put(y, Simd::mul(Simd::set1(dl[l / 2]), Simd::add(Simd::cvt(Simd::bytes_i8(g)), Simd::from_bits(Simd::per_group_i(delta + l)))));
      }
    }
  }
}
