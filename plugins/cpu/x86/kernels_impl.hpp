// ISA-independent fast dequantizers, written once against the `Simd` vocabulary
// (simd_avx2.hpp: 8 lanes, simd_avx512.hpp: 16 lanes). Textually included inside each ISA's
// namespace by kernels_<isa>.cpp, so every instantiation has a per-ISA name.
//
// Bit-identity with the scalar set (scalar/): every output is computed with the same float
// operations in the same order as ggml's reference (int -> float conversion, then the same
// mul / add / sub sequence; scales folded in scalar float exactly where ggml folds them).
// The files are built with -ffp-contract=off, and only explicit mul/add intrinsics are used.
// Do not include system headers here; kernels_<isa>.cpp includes them before the namespace.

using F = Simd::F;
using I = Simd::I;
constexpr int W = Simd::W;
constexpr int G = Simd::G;  // groups of 8 lanes per vector

inline float half_at(const uint8_t *p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return half_to_float(h);
}
inline uint32_t u32_at(const uint8_t *p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// ---------------------------------------------------------------- output writers
// Stream = true: non-temporal stores (the caller guarantees 64-byte alignment of every
// block's output and fences after the call).
template <bool Stream>
struct OutF32 {
  using T = float;
  static constexpr int kOut = kOutF32;
  static constexpr bool kStream = Stream;
  static void put(T *p, F v) {
    if constexpr (Stream) Simd::stream_f32(p, v); else Simd::store_f32(p, v);
  }
};
template <bool Stream>
struct OutF16 {
  using T = uint16_t;
  static constexpr int kOut = kOutF16;
  static constexpr bool kStream = Stream;
  static void put(T *p, F v) {
    if constexpr (Stream) Simd::stream_f16(p, v); else Simd::store_f16(p, v);
  }
};
template <bool Stream>
struct OutBF16 {
  using T = uint16_t;
  static constexpr int kOut = kOutBF16;
  static constexpr bool kStream = Stream;
  static void put(T *p, F v) {
    if constexpr (Stream) Simd::stream_bf16(p, v); else Simd::store_bf16(p, v);
  }
};

template <class O>
inline typename O::T *out_ptr(void *dst) {
  return static_cast<typename O::T *>(dst);
}

// The scalar set's answer for the last few elements of a 1-element-block type.
template <class O>
void scalar_tail(int32_t type, const uint8_t *src, typename O::T *y, int64_t n) {
  scalar_kernels().fn[type][O::kOut](src, y, n);
}

// ---------------------------------------------------------------- 1-element "blocks"
// Whole vectors here; the few trailing elements go through the scalar set (same result).
template <class O>
void k_f32(const uint8_t *src, void *dst, int64_t n) {
  auto *y = out_ptr<O>(dst);
  const auto *x = reinterpret_cast<const float *>(src);
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    float tmp[W];
    std::memcpy(tmp, x + i, sizeof tmp);
    O::put(y + i, Simd::loadf(tmp));
  }
  if (i < n) scalar_tail<O>(0, src + i * 4, y + i, n - i);
}

template <class O>
void k_f16(const uint8_t *src, void *dst, int64_t n) {
  auto *y = out_ptr<O>(dst);
  int64_t i = 0;
  for (; i + W <= n; i += W) O::put(y + i, Simd::load_f16(reinterpret_cast<const uint16_t *>(src + 2 * i)));
  if (i < n) scalar_tail<O>(1, src + i * 2, y + i, n - i);
}

template <class O>
void k_bf16(const uint8_t *src, void *dst, int64_t n) {
  auto *y = out_ptr<O>(dst);
  int64_t i = 0;
  for (; i + W <= n; i += W) O::put(y + i, Simd::load_bf16(reinterpret_cast<const uint16_t *>(src + 2 * i)));
  if (i < n) scalar_tail<O>(30, src + i * 2, y + i, n - i);
}

// ---------------------------------------------------------------- 32-element blocks
template <class O>
void k_q4_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15), eight = Simd::set1i(8);
  for (int64_t i = 0; i < nb; ++i, src += 18, y += 32) {
    const F d = Simd::set1(half_at(src));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 2 + j);
      O::put(y + j, Simd::mul(Simd::cvt(Simd::subi(Simd::and_(q, m15), eight)), d));
      O::put(y + 16 + j, Simd::mul(Simd::cvt(Simd::subi(Simd::srli(q, 4), eight)), d));
    }
  }
}

template <class O>
void k_q4_1(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 20, y += 32) {
    const F d = Simd::set1(half_at(src)), m = Simd::set1(half_at(src + 2));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 4 + j);
      O::put(y + j, Simd::add(Simd::mul(Simd::cvt(Simd::and_(q, m15)), d), m));
      O::put(y + 16 + j, Simd::add(Simd::mul(Simd::cvt(Simd::srli(q, 4)), d), m));
    }
  }
}

// Bit (j + lane) of qh, moved to bit 4 (ggml's xh).
inline I high_bit4_pos(I qh, int j) {
  return Simd::and_(Simd::slli(Simd::srlv(qh, Simd::addi(Simd::iota(), Simd::set1i(j))), 4),
                    Simd::set1i(0x10));
}

template <class O>
void k_q5_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15), sixteen = Simd::set1i(16);
  for (int64_t i = 0; i < nb; ++i, src += 22, y += 32) {
    const F d = Simd::set1(half_at(src));
    const I qh = Simd::set1i(static_cast<int32_t>(u32_at(src + 2)));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 6 + j);
      const I lo = Simd::or_(Simd::and_(q, m15), high_bit4_pos(qh, j));
      const I hi = Simd::or_(Simd::srli(q, 4), high_bit4_pos(qh, j + 16));
      O::put(y + j, Simd::mul(Simd::cvt(Simd::subi(lo, sixteen)), d));
      O::put(y + 16 + j, Simd::mul(Simd::cvt(Simd::subi(hi, sixteen)), d));
    }
  }
}

template <class O>
void k_q5_1(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I m15 = Simd::set1i(15);
  for (int64_t i = 0; i < nb; ++i, src += 24, y += 32) {
    const F d = Simd::set1(half_at(src)), m = Simd::set1(half_at(src + 2));
    const I qh = Simd::set1i(static_cast<int32_t>(u32_at(src + 4)));
    for (int j = 0; j < 16; j += W) {
      const I q = Simd::load_u8(src + 8 + j);
      const I lo = Simd::or_(Simd::and_(q, m15), high_bit4_pos(qh, j));
      const I hi = Simd::or_(Simd::srli(q, 4), high_bit4_pos(qh, j + 16));
      O::put(y + j, Simd::add(Simd::mul(Simd::cvt(lo), d), m));
      O::put(y + 16 + j, Simd::add(Simd::mul(Simd::cvt(hi), d), m));
    }
  }
}

template <class O>
void k_q8_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  for (int64_t i = 0; i < nb; ++i, src += 34, y += 32) {
    const F d = Simd::set1(half_at(src));
    for (int j = 0; j < 32; j += W) O::put(y + j, Simd::mul(Simd::cvt(Simd::load_i8(src + 2 + j)), d));
  }
}

// 16-entry tables as floats (the int8 values are exact in f32, so lookup-then-convert equals
// convert-then-lookup).
alignas(64) inline const float kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                   1,    13,   25,  38,  53,  69,  89,  113};
alignas(64) inline const float kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

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

// ---------------------------------------------------------------- k-quants (256 elements)
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
  const I m15 = Simd::set1i(15), zero = Simd::set1i(0);
  for (int64_t i = 0; i < nb; ++i, src += 176) {
    const float d = half_at(src), min = half_at(src + 2);
    const uint8_t *scales = src + 4;
    const uint8_t *qh = src + 16;
    const uint8_t *ql = src + 48;
    int u1 = 1, u2 = 2;
    for (int is = 0; is < 8; is += 2, ql += 32, y += 64, u1 <<= 2, u2 <<= 2) {
      uint8_t sc, m;
      scale_min_k4(is, scales, &sc, &m);
      const F d1 = Simd::set1(d * sc), m1 = Simd::set1(min * m);
      scale_min_k4(is + 1, scales, &sc, &m);
      const F d2 = Simd::set1(d * sc), m2 = Simd::set1(min * m);
      const I bit1 = Simd::set1i(u1), bit2 = Simd::set1i(u2), sixteen = Simd::set1i(16);
      for (int l = 0; l < 32; l += W) {
        const I v = Simd::load_u8(ql + l), h = Simd::load_u8(qh + l);
        // (qh & u) ? 16 : 0
        const I h1 = Simd::andnot(Simd::cmpeq(Simd::and_(h, bit1), zero), sixteen);
        const I h2 = Simd::andnot(Simd::cmpeq(Simd::and_(h, bit2), zero), sixteen);
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

// ---------------------------------------------------------------- i-quants with 4-bit values
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

// ---------------------------------------------------------------- ternary
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

// ---------------------------------------------------------------- 1-bit
template <class O>
void k_q1_0(const uint8_t *src, void *dst, int64_t nb) {
  auto *y = out_ptr<O>(dst);
  const I one = Simd::set1i(1), zero = Simd::set1i(0);
  const I bit_of_lane = Simd::and_(Simd::iota(), Simd::set1i(7));
  for (int64_t i = 0; i < nb; ++i, src += 18, y += 128) {
    const float df = half_at(src);
    const F d = Simd::set1(df), nd = Simd::set1(-df);
    for (int j = 0; j < 128; j += W) {
      // Element j + lane: bit lane % 8 of byte (j + lane) / 8.
      int32_t bytes[G];
      for (int k = 0; k < G; ++k) bytes[k] = src[2 + j / 8 + k];
      const I bit = Simd::and_(Simd::srlv(Simd::per_group_i(bytes), bit_of_lane), one);
      O::put(y + j, Simd::from_bits(Simd::blend(Simd::fbits(d), Simd::fbits(nd), Simd::cmpeq(bit, zero))));
    }
  }
}

// ---------------------------------------------------------------- grid i-quants
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

// ---------------------------------------------------------------- NVFP4, Q2_0
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
