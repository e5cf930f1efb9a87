// TQ1_0, TQ2_0 (ternary), Q1_0 (sign bits) and Q2_0 (2-bit codes).
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

template <class O>
void k_tq2_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m3 = Simd::set1i(3), one = Simd::set1i(1);
  for (int64_t i = 0; i < nb; ++i, src += 66) {
    const F d = Simd::set1(half_at(src + 64));
    for (int j = 0; j < 64; j += 32) {
      for (int l = 0; l < 4; ++l, y += 32) {
        for (int m = 0; m < 32; m += W) {
          const I q = Simd::and_(Simd::srli(Simd::load_u8(src + j + m), 2 * l), m3);
          O::put(y + m, Simd::mul(Simd::cvt(Simd::subi(q, one)), d));
        }
      }
    }
  }
}

// ((uint8_t)(q * 3^n) * 3) >> 8, the base-3 digit ggml extracts.
inline I ternary_digit(I q, int pow3) {
  const I byte = Simd::and_(Simd::mulloi(q, Simd::set1i(pow3)), Simd::set1i(0xFF));
  return Simd::srli(Simd::mulloi(byte, Simd::set1i(3)), 8);
}

template <class O>
void k_tq1_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  static constexpr int kPow3[6] = {1, 3, 9, 27, 81, 243};
  const I one = Simd::set1i(1);
  for (int64_t i = 0; i < nb; ++i, src += 54) {
    const float df = half_at(src + 52);
    const F d = Simd::set1(df);
    for (int n = 0; n < 5; ++n, y += 32)
      for (int m = 0; m < 32; m += W)
        O::put(y + m, Simd::mul(Simd::cvt(Simd::subi(ternary_digit(Simd::load_u8(src + m), kPow3[n]), one)), d));
    for (int n = 0; n < 5; ++n, y += 16)
      for (int m = 0; m < 16; m += W)
        O::put(y + m, Simd::mul(Simd::cvt(Simd::subi(ternary_digit(Simd::load_u8(src + 32 + m), kPow3[n]), one)), d));
    // The last 16 values: 4 digits of each of the 4 qh bytes, n-major.
    alignas(64) float tail[16];
    for (int n = 0; n < 4; ++n)
      for (int j = 0; j < 4; ++j) {
        const uint8_t q = static_cast<uint8_t>(src[48 + j] * kPow3[n]);
        const int xi = (static_cast<uint16_t>(q) * 3) >> 8;
        tail[4 * n + j] = static_cast<float>(xi - 1) * df;
      }
    for (int m = 0; m < 16; m += W) O::put(y + m, Simd::loadf(tail + m));
    y += 16;
  }
}

template <class O>
void k_q1_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  // A clear bit gives -d, i.e. d with its sign bit flipped (exactly what negation does). The
  // inverted bit is shifted straight into the sign position: no compare and blend, which on
  // AVX-512 were a k-register round trip per vector (vptestnmd, vpmovm2d, vpmovd2m).
  const I to_sign = Simd::subi(Simd::set1i(31), Simd::and_(Simd::iota(), Simd::set1i(7)));
  const I sign = Simd::set1i(static_cast<int32_t>(0x80000000u));
  for (int64_t i = 0; i < nb; ++i, src += 18, y += 128) {
    const F d = Simd::set1(half_at(src));
    for (int j = 0; j < 128; j += W) {
      // Element j + lane: bit lane % 8 of byte (j + lane) / 8.
      int32_t inverted[G];
      for (int k = 0; k < G; ++k) inverted[k] = ~static_cast<int32_t>(src[2 + j / 8 + k]);
      O::put(y + j, Simd::fxor(d, Simd::and_(Simd::sllv(Simd::per_group_i(inverted), to_sign), sign)));
    }
  }
}

template <class O>
void k_q2_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  // Lane j of a group of 4 takes bits 2j..2j+1 of its byte.
  const I shifts = Simd::and_(Simd::slli(Simd::iota(), 1), Simd::set1i(6));
  const I m3 = Simd::set1i(3), one = Simd::set1i(1);
  for (int64_t i = 0; i < nb; ++i, src += 18, y += 64) {
    const F d = Simd::set1(half_at(src));
    for (int j = 0; j < 64; j += W) {
      const I q = Simd::and_(Simd::srlv(Simd::load_u8_rep4(src + 2 + j / 4), shifts), m3);
      O::put(y + j, Simd::mul(Simd::cvt(Simd::subi(q, one)), d));
    }
  }
}
