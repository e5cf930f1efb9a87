// F32, F16 and BF16 sources (1-element "blocks").
// Textually included inside an ISA namespace (after simd/kernel_common.hpp) by
// simd/all_kernels.hpp; see kernel_common.hpp for the bit-identity rules.

// Whole vectors here; the few trailing elements go through the scalar set (same result).
// One unaligned vector load straight from the bytes: a memcpy into a float[W] first made
// GCC 12 (-mavx2) copy through the stack as two 16-byte stores read back by one 32-byte
// load, a store-to-load forwarding stall on every vector (F32 ran at 10 GB/s, not 30).
template <class O>
void k_f32(const uint8_t *src, void *dst, int64_t n) {
  auto *y = out_ptr<O>(dst);
  int64_t i = 0;
  for (; i + W <= n; i += W) O::put(y + i, Simd::loadf_bytes(src + 4 * i));
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
