// Q2_K .. Q6_K and Q8_K: 256-element super-blocks with packed sub-block scales.
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

template <class O>
void k_q8_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 292, y += 256) {
    float df;
    std::memcpy(&df, src, 4);
    const F d = Simd::set1(df);
    for (int j = 0; j < 256; j += W) O::put(y + j, Simd::mul(d, Simd::cvt(Simd::load_i8(src + 4 + j))));
  }
}

inline void scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

template <class O>
void k_q4_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 144) {
    const float d = half_at(src), min = half_at(src + 2);
    const uint8_t *scales = src + 4;
    const uint8_t *q = src + 16;
    for (int is = 0; is < 8; is += 2, q += 32, y += 64) {
      uint8_t sc, m;
      scale_min_k4(is, scales, &sc, &m);
      const F d1 = Simd::set1(d * sc), m1 = Simd::set1(min * m);
      scale_min_k4(is + 1, scales, &sc, &m);
      const F d2 = Simd::set1(d * sc), m2 = Simd::set1(min * m);
      for (int l = 0; l < 32; l += W) {
        const I v = Simd::load_u8(q + l);
        O::put(y + l, Simd::sub(Simd::mul(d1, Simd::cvt(Simd::and_(v, m15))), m1));
        O::put(y + 32 + l, Simd::sub(Simd::mul(d2, Simd::cvt(Simd::srli(v, 4))), m2));
      }
    }
  }
}

template <class O>
void k_q5_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15), sixteen = Simd::set1i(16);
  for (int64_t i = 0; i < nb; ++i, src += 176) {
    const float d = half_at(src), min = half_at(src + 2);
    const uint8_t *scales = src + 4;
    const uint8_t *qh = src + 16;
    const uint8_t *ql = src + 48;
    for (int is = 0; is < 8; is += 2, ql += 32, y += 64) {
      uint8_t sc, m;
      scale_min_k4(is, scales, &sc, &m);
      const F d1 = Simd::set1(d * sc), m1 = Simd::set1(min * m);
      scale_min_k4(is + 1, scales, &sc, &m);
      const F d2 = Simd::set1(d * sc), m2 = Simd::set1(min * m);
      for (int l = 0; l < 32; l += W) {
        const I v = Simd::load_u8(ql + l), h = Simd::load_u8(qh + l);
        // (qh & (1 << is)) ? 16 : 0, as shifts: bit `is` moved to bit 4. A compare and
        // andnot cost AVX-512 a k-register round trip per vector (vptestnmd, vpmovm2d).
        const I h16 = Simd::slli(h, 4);
        const I h1 = Simd::and_(Simd::srli(h16, is), sixteen);
        const I h2 = Simd::and_(Simd::srli(h16, is + 1), sixteen);
        O::put(y + l, Simd::sub(Simd::mul(d1, Simd::cvt(Simd::addi(Simd::and_(v, m15), h1))), m1));
        O::put(y + 32 + l, Simd::sub(Simd::mul(d2, Simd::cvt(Simd::addi(Simd::srli(v, 4), h2))), m2));
      }
    }
  }
}

template <class O>
void k_q6_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15), m3 = Simd::set1i(3), k32 = Simd::set1i(32);
  for (int64_t i = 0; i < nb; ++i, src += 210) {
    const float d = half_at(src + 208);
    const uint8_t *ql = src;
    const uint8_t *qh = src + 128;
    const auto *sc = reinterpret_cast<const int8_t *>(src + 192);
    for (int n = 0; n < 256; n += 128, ql += 64, qh += 32, sc += 8, y += 128) {
      for (int l = 0; l < 32; l += W) {
        const int is = l / 16;
        const I a = Simd::load_u8(ql + l), b = Simd::load_u8(ql + l + 32), h = Simd::load_u8(qh + l);
        const I q1 = Simd::subi(Simd::or_(Simd::and_(a, m15), Simd::slli(Simd::and_(h, m3), 4)), k32);
        const I q2 = Simd::subi(Simd::or_(Simd::and_(b, m15), Simd::slli(Simd::and_(Simd::srli(h, 2), m3), 4)), k32);
        const I q3 = Simd::subi(Simd::or_(Simd::srli(a, 4), Simd::slli(Simd::and_(Simd::srli(h, 4), m3), 4)), k32);
        const I q4 = Simd::subi(Simd::or_(Simd::srli(b, 4), Simd::slli(Simd::srli(h, 6), 4)), k32);
        // ggml: d * sc * q, i.e. (d * sc) * q.
        O::put(y + l, Simd::mul(Simd::set1(d * sc[is + 0]), Simd::cvt(q1)));
        O::put(y + l + 32, Simd::mul(Simd::set1(d * sc[is + 2]), Simd::cvt(q2)));
        O::put(y + l + 64, Simd::mul(Simd::set1(d * sc[is + 4]), Simd::cvt(q3)));
        O::put(y + l + 96, Simd::mul(Simd::set1(d * sc[is + 6]), Simd::cvt(q4)));
      }
    }
  }
}

template <class O>
void k_q2_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m3 = Simd::set1i(3);
  for (int64_t i = 0; i < nb; ++i, src += 84) {
    const uint8_t *scales = src;
    const uint8_t *q = src + 16;
    const float d = half_at(src + 80), min = half_at(src + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int half = 0; half < 2; ++half, y += 16) {
          const uint8_t sc = scales[is++];
          const F dl = Simd::set1(d * (sc & 0xF)), ml = Simd::set1(min * (sc >> 4));
          for (int l = 0; l < 16; l += W) {
            const I v = Simd::and_(Simd::srli(Simd::load_u8(q + 16 * half + l), shift), m3);
            O::put(y + l, Simd::sub(Simd::mul(dl, Simd::cvt(v)), ml));
          }
        }
      }
    }
  }
}

template <class O>
void k_q3_K(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m3 = Simd::set1i(3), four = Simd::set1i(4), zero = Simd::set1i(0);
  for (int64_t i = 0; i < nb; ++i, src += 110) {
    const uint8_t *hm = src;
    const uint8_t *q = src + 32;
    const float d_all = half_at(src + 108);
    // Unpack the 12 bytes of 6-bit scales as ggml does.
    uint32_t aux[4];
    std::memcpy(aux, src + 96, 12);
    const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f, tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t scales[16];
    std::memcpy(scales, aux, 16);
    int is = 0;
    int m = 1;
    for (int n = 0; n < 256; n += 128, q += 32) {
      for (int shift = 0; shift < 8; shift += 2, m <<= 1) {
        const I mbit = Simd::set1i(m);
        for (int half = 0; half < 2; ++half, y += 16) {
          const F dl = Simd::set1(d_all * (scales[is++] - 32));
          for (int l = 0; l < 16; l += W) {
            const I v = Simd::and_(Simd::srli(Simd::load_u8(q + 16 * half + l), shift), m3);
            // - ((hm & m) ? 0 : 4)
            const I sub4 = Simd::and_(Simd::cmpeq(Simd::and_(Simd::load_u8(hm + 16 * half + l), mbit), zero), four);
            O::put(y + l, Simd::mul(dl, Simd::cvt(Simd::subi(v, sub4))));
          }
        }
      }
    }
  }
}
