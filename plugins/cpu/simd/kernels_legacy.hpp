// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0: 32-element blocks with one or two f16 scales.
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

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
