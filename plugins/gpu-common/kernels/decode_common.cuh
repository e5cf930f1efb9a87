// Helpers shared by every per-format decoder. Each decoder turns 8 consecutive elements of
// one block (starting at an in-block index that is a multiple of 8) into 8 floats.
//
// The decoders are __host__ __device__ and use only portable integer and float operations,
// so the same source compiles with the host compiler for the golden-file unit tests
// (tests/cuda/decode_host_test.cpp) and with nvcc or hipcc for the kernels. The device
// branches (DQ_GPU_DEVICE_CODE) call only the vendor-neutral helpers of gpu_port.hpp. Floating-point
// expressions follow ggml's reference order exactly and must never be contracted into fused
// multiply-adds: the CUDA sources are built with -fmad=false, the HIP sources and the host
// tests with -ffp-contract=off.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "dq_common/blocks.hpp"
#include "dq_common/half.hpp"

#include "gpu_port.hpp"

namespace dq::gpu {

// Little-endian loads from any byte address. On the device the 8-byte form reads the aligned
// 32-bit words that cover the bytes and funnel-shifts them (3 shared-memory loads instead of
// 8); buffers read this way carry 8 bytes of padding past their end.
DQ_DEV_INLINE uint32_t ld_u8(const uint8_t *p) { return *p; }

// 16-bit fields: every block size is even except MXFP4's (which has none), and tiles start
// 16-byte aligned, so on the device these are always 2-byte aligned loads.
DQ_DEV_INLINE uint32_t ld_u16(const uint8_t *p) {
#if DQ_GPU_DEVICE_CODE
  return *reinterpret_cast<const uint16_t *>(p);
#else
  return dq::blocks::load_u16(p);
#endif
}

DQ_DEV_INLINE uint32_t ld_u32(const uint8_t *p) {
#if DQ_GPU_DEVICE_CODE
  // Step back to the aligned word by pointer arithmetic (not an integer round trip), so the
  // compiler keeps shared-memory addressing (LDS) instead of generic loads.
  const uint32_t mis = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p) & 3);
  const uint32_t *w = reinterpret_cast<const uint32_t *>(p - mis);
  return gpu::funnelshift_r(w[0], w[1], mis * 8);
#else
  return dq::blocks::load_u32(p);
#endif
}

DQ_DEV_INLINE uint64_t ld_u64(const uint8_t *p) {
#if DQ_GPU_DEVICE_CODE
  const uint32_t mis = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(p) & 3);
  const uint32_t *w = reinterpret_cast<const uint32_t *>(p - mis);
  const uint32_t w0 = w[0], w1 = w[1], w2 = w[2];
  const uint32_t lo = gpu::funnelshift_r(w0, w1, mis * 8);
  const uint32_t hi = gpu::funnelshift_r(w1, w2, mis * 8);
  return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
#else
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
#endif
}

// 8 bytes at an 8-byte aligned address (one 64-bit shared-memory load on the device).
DQ_DEV_INLINE uint64_t ld_u64_a8(const uint8_t *p) {
#if DQ_GPU_DEVICE_CODE
  return *reinterpret_cast<const uint64_t *>(p);
#else
  return ld_u64(p);
#endif
}

// 8 bytes at a 4-byte aligned address (two 32-bit loads on the device).
DQ_DEV_INLINE uint64_t ld_u64_a4(const uint8_t *p) {
#if DQ_GPU_DEVICE_CODE
  const uint32_t *w = reinterpret_cast<const uint32_t *>(p);
  return static_cast<uint64_t>(w[0]) | (static_cast<uint64_t>(w[1]) << 32);
#else
  return ld_u64(p);
#endif
}

// a * b + c with one rounding. Used only where a * b is exact in f32 (a product of small
// integers and an f16 scale), so it equals ggml's separate multiply and add bit for bit.
DQ_DEV_INLINE float fma_exact_product(float a, float b, float c) {
#if DQ_GPU_DEVICE_CODE
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

// Byte k (0..7) of a 64-bit little-endian word.
DQ_DEV_INLINE uint32_t byte_of(uint64_t v, int k) { return static_cast<uint32_t>(v >> (8 * k)) & 0xffu; }

// Exact binary16 -> binary32 (the hardware conversion on the device).
DQ_DEV_INLINE float half_to_float(uint32_t h) {
#if DQ_GPU_DEVICE_CODE
  return gpu::half_bits_to_float(h);
#else
  return dq::f16_to_f32(static_cast<uint16_t>(h));
#endif
}

DQ_DEV_INLINE float ld_half(const uint8_t *p) { return half_to_float(ld_u16(p)); }

DQ_DEV_INLINE float bits_to_float(uint32_t u) {
#if DQ_GPU_DEVICE_CODE
  return __uint_as_float(u);
#else
  return dq::f32_from_bits(u);
#endif
}

DQ_DEV_INLINE uint32_t float_bits(float f) {
#if DQ_GPU_DEVICE_CODE
  return __float_as_uint(f);
#else
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
#endif
}

// __byte_perm: byte n of the result is byte (s >> 4n) & 7 of the 8 bytes {y:x}.
DQ_DEV_INLINE uint32_t perm_bytes(uint32_t x, uint32_t y, uint32_t s) {
#if DQ_GPU_DEVICE_CODE
  return gpu::byte_perm(x, y, s);
#else
  const uint64_t xy = static_cast<uint64_t>(x) | (static_cast<uint64_t>(y) << 32);
  uint32_t r = 0;
  for (int n = 0; n < 4; ++n) r |= static_cast<uint32_t>((xy >> (8 * ((s >> (4 * n)) & 7))) & 0xff) << (8 * n);
  return r;
#endif
}

// perm_bytes for a selector whose nibbles all have bit 3 clear, as one prmt (the
// intrinsic masks a run-time selector with 0x7777 first, an extra instruction).
DQ_DEV_INLINE uint32_t perm_bytes_clear(uint32_t x, uint32_t y, uint32_t s) {
#if DQ_GPU_DEVICE_CODE
  return gpu::byte_perm_clear(x, y, s);
#else
  return perm_bytes(x, y, s);
#endif
}

// The exact float of (byte k of w) - bias, for |bias| < 2^22, without an int-to-float
// conversion (a quarter-rate instruction): one byte permute builds the float 2^23 + byte
// (bits 0x4B0000xx) and one subtraction, exact, removes 2^23 + bias. Host and device run
// the same operations, so the host tests check this path too.
DQ_DEV_INLINE float byte_minus(uint32_t w, int k, int bias) {
  const uint32_t bits = perm_bytes(w, 0x4B00u, 0x5440u | static_cast<uint32_t>(k));
  return bits_to_float(bits) - (8388608.0f + static_cast<float>(bias));
}

// Byte k (0..7) of a 64-bit word, as byte_minus.
DQ_DEV_INLINE float byte_minus64(uint64_t q, int k, int bias) {
  return byte_minus(static_cast<uint32_t>(q >> (32 * (k >> 2))), k & 3, bias);
}

// Bit i of b (i < 8) to bit 0 of byte i (multiplication spreads 4 bits without carries).
DQ_DEV_INLINE uint64_t spread_bits8(uint32_t b) {
  const uint32_t lo = ((b & 0xfu) * 0x00204081u) & 0x01010101u;
  const uint32_t hi = (((b >> 4) & 0xfu) * 0x00204081u) & 0x01010101u;
  return static_cast<uint64_t>(lo) | (static_cast<uint64_t>(hi) << 32);
}

inline constexpr uint64_t kBytes01 = 0x0101010101010101ull;

// ---- half-precision helpers for the exact f16 paths (decode8_f16). They apply where ggml's
// f32 value is one product of a small integer and an f16 scale: that product is exact in
// f32, so rounding it to f16 once (an f16 multiply, round-to-nearest-even) gives the same
// bits as computing in f32 and rounding the result, in half the instructions.

// half2 of (1024 + byte k0 of w, 1024 + byte k1 of w): f16 0x6400 is 1024, and 1024 + b is
// exact for b < 1024.
DQ_DEV_INLINE uint32_t h2_bytes(uint32_t w, int k0, int k1) {
  return perm_bytes(w, 0x64u, 0x4040u | static_cast<uint32_t>(k0) | (static_cast<uint32_t>(k1) << 8));
}

// Lane-wise a - b, a * b on half2 words, round to nearest even (never fused: the device
// form is a single PTX instruction each with an explicit rounding mode).
DQ_DEV_INLINE uint32_t h2_sub(uint32_t a, uint32_t b) {
#if DQ_GPU_DEVICE_CODE
  return gpu::h2_sub_rn(a, b);
#else
  const float lo = dq::f16_to_f32(static_cast<uint16_t>(a)) - dq::f16_to_f32(static_cast<uint16_t>(b));
  const float hi = dq::f16_to_f32(static_cast<uint16_t>(a >> 16)) - dq::f16_to_f32(static_cast<uint16_t>(b >> 16));
  return dq::f32_to_f16(lo) | (static_cast<uint32_t>(dq::f32_to_f16(hi)) << 16);
#endif
}

DQ_DEV_INLINE uint32_t h2_mul(uint32_t a, uint32_t b) {
#if DQ_GPU_DEVICE_CODE
  return gpu::h2_mul_rn(a, b);
#else
  // The f32 product of two halves is exact (11 x 11 bits), so one f16 rounding matches.
  const float lo = dq::f16_to_f32(static_cast<uint16_t>(a)) * dq::f16_to_f32(static_cast<uint16_t>(b));
  const float hi = dq::f16_to_f32(static_cast<uint16_t>(a >> 16)) * dq::f16_to_f32(static_cast<uint16_t>(b >> 16));
  return dq::f32_to_f16(lo) | (static_cast<uint32_t>(dq::f32_to_f16(hi)) << 16);
#endif
}

// Lane-wise a * b + c, one rounding. The host form rounds the double a * b + c, which is
// the same wherever the decoders use it (there the exact result fits an f16).
DQ_DEV_INLINE uint32_t h2_fma(uint32_t a, uint32_t b, uint32_t c) {
#if DQ_GPU_DEVICE_CODE
  return gpu::h2_fma_rn(a, b, c);
#else
  auto lane = [&](int sh) {
    const double v = static_cast<double>(dq::f16_to_f32(static_cast<uint16_t>(a >> sh))) *
                         dq::f16_to_f32(static_cast<uint16_t>(b >> sh)) +
                     dq::f16_to_f32(static_cast<uint16_t>(c >> sh));
    return static_cast<uint32_t>(dq::f32_to_f16(static_cast<float>(v)));
  };
  return lane(0) | (lane(16) << 16);
#endif
}

// Two floats to f16, round to nearest even (lo in the low lane).
DQ_DEV_INLINE uint32_t h2_pack_rn(float lo, float hi) {
#if DQ_GPU_DEVICE_CODE
  return gpu::pack_half2_rn(lo, hi);
#else
  return dq::f32_to_f16(lo) | (static_cast<uint32_t>(dq::f32_to_f16(hi)) << 16);
#endif
}

// Two floats to bf16, round to nearest even (lo in the low lane): the conversion the bf16
// kernels apply to the f32 path's values (OutPack<30>), so a table built with it holds
// exactly the bits that path would store.
DQ_DEV_INLINE uint32_t bf162_pack_rn(float lo, float hi) {
#if DQ_GPU_DEVICE_CODE
  return gpu::pack_bf162_rn(lo, hi);
#else
  return dq::f32_to_bf16(lo) | (static_cast<uint32_t>(dq::f32_to_bf16(hi)) << 16);
#endif
}

// 2-bit codes to f16 (or bf16: the lookup only moves 16-bit words) through a 4-entry table:
// t01/t23 hold the outputs for codes 0,1 and 2,3. Pair p of the 8 codes in x (one per byte):
// one byte permute whose selector, nibbles 2c and 2c + 1 per code c, is (codes * 0x22 + 0x10)
// per byte. One multiply makes the selectors of 4 codes (bytes stay below 0x77: no carries);
// the permute reads only the low 16 bits, so pair 2w takes them as they are, pair 2w + 1 shifted.
DQ_DEV_INLINE void h2_codes8(uint64_t x, uint32_t t01, uint32_t t23, uint32_t *h) {
  DQ_UNROLL
  for (int w = 0; w < 2; ++w) {
    const uint32_t sel = (static_cast<uint32_t>(x >> (32 * w)) & 0x03030303u) * 0x22u + 0x10101010u;
    h[2 * w] = perm_bytes_clear(t01, t23, sel);
    h[2 * w + 1] = perm_bytes_clear(t01, t23, sel >> 16);
  }
}

// Both lanes 1024 + bias, as f16 bits (0 <= bias < 1024: spacing is 1 in [1024, 2048)).
DQ_DEV_INLINE uint32_t h2_magic(int bias) { return (0x6400u + static_cast<uint32_t>(bias)) * 0x10001u; }

// An f16 scale (its bits) in both lanes.
DQ_DEV_INLINE uint32_t h2_splat(uint32_t h) { return (h & 0xffffu) * 0x10001u; }

// 8 values (bytes of q, each < 1024 - bias) minus bias, times the f16 scale in both lanes
// of d2: the 4 output words of a group.
DQ_DEV_INLINE void h2_scale8(uint64_t q, int bias, uint32_t d2, uint32_t *h) {
  const uint32_t lo = static_cast<uint32_t>(q), hi = static_cast<uint32_t>(q >> 32);
  const uint32_t m = h2_magic(bias);
  h[0] = h2_mul(h2_sub(h2_bytes(lo, 0, 1), m), d2);
  h[1] = h2_mul(h2_sub(h2_bytes(lo, 2, 3), m), d2);
  h[2] = h2_mul(h2_sub(h2_bytes(hi, 0, 1), m), d2);
  h[3] = h2_mul(h2_sub(h2_bytes(hi, 2, 3), m), d2);
}

// Reads 8 bytes at `base + off` (off a multiple of 4) for a base of any even alignment:
// the aligned word pointer and funnel-shift amount are worked out once per sub-block.
struct Bytes8 {
#if DQ_GPU_DEVICE_CODE
  const uint32_t *w;
  uint32_t sh;
  DQ_DEV_INLINE explicit Bytes8(const uint8_t *base) {
    const uint32_t mis = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(base) & 3);
    w = reinterpret_cast<const uint32_t *>(base - mis);
    sh = mis * 8;
  }
  DQ_DEV_INLINE uint64_t at(int off) const {
    const uint32_t *p = w + (off >> 2);
    const uint32_t w0 = p[0], w1 = p[1], w2 = p[2];
    return static_cast<uint64_t>(gpu::funnelshift_r(w0, w1, sh)) |
           (static_cast<uint64_t>(gpu::funnelshift_r(w1, w2, sh)) << 32);
  }
#else
  const uint8_t *base;
  explicit Bytes8(const uint8_t *b) : base(b) {}
  uint64_t at(int off) const { return ld_u64(base + off); }
#endif
};

// Decoders with a `sub` (once per 32 elements: scales, pointers, shifts) and a `group`
// (8 elements k*8.. of the sub-block) define decode8 (and decode8_f16 from group_f16) as
// their composition, so the host tests check the same code the kernels run.
#define DQ_DECODE8_FROM_SUB                                                          \
  DQ_DEV_INLINE static void decode8(const uint8_t *b, int j0, float *y, const uint8_t *t) { \
    group(sub(b, j0 & ~31, t), (j0 >> 3) & 3, y, t);                                   \
  }
#define DQ_DECODE8_F16_FROM_SUB                                                          \
  DQ_DEV_INLINE static void decode8_f16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *t) { \
    group_f16(sub(b, j0 & ~31, t), (j0 >> 3) & 3, h, t);                                     \
  }
#define DQ_DECODE8_BF16_FROM_SUB                                                          \
  DQ_DEV_INLINE static void decode8_bf16(const uint8_t *b, int j0, uint32_t *h, const uint8_t *t) { \
    group_bf16(sub(b, j0 & ~31, t), (j0 >> 3) & 3, h, t);                                     \
  }

// Formats that split decoding into a per-32-element part (scales, pointers: `sub`) and a
// per-8-element part (`group`) let the kernels decode a lane's 32 elements with one `sub`.
template <typename Fmt, typename = void>
struct HasSub : std::false_type {};
template <typename Fmt>
struct HasSub<Fmt, std::void_t<decltype(&Fmt::sub)>> : std::true_type {};

// Formats whose f16 output can be computed in half precision bit-exactly provide
// decode8_f16 (4 half2 words); the f16 kernels use it.
template <typename Fmt, typename = void>
struct HasF16 : std::false_type {};
template <typename Fmt>
struct HasF16<Fmt, std::void_t<decltype(&Fmt::decode8_f16)>> : std::true_type {};

// Formats whose bf16 output can be looked up in a table of bf16 values, each the f32
// path's value rounded once (so the same bits), provide decode8_bf16 (4 bf16x2 words); the
// bf16 kernels use it instead of decoding to f32 and rounding every element.
template <typename Fmt, typename = void>
struct HasBF16 : std::false_type {};
template <typename Fmt>
struct HasBF16<Fmt, std::void_t<decltype(&Fmt::decode8_bf16)>> : std::true_type {};

// Whether output type kOut (0 f32, 1 f16, 30 bf16) of Fmt has a direct 16-bit path.
template <typename Fmt, int kOut>
inline constexpr bool kHas16BitPath = (kOut == 1 && HasF16<Fmt>::value) || (kOut == 30 && HasBF16<Fmt>::value);

// Field offset inside a block, from the shared layout structs.
#define DQ_OFF(block, field) static_cast<int>(offsetof(dq::blocks::block, field))

}  // namespace dq::gpu
