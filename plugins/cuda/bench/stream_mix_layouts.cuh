// dq-cuda-stream-mix: the read:write byte mixes it measures, as block layouts with a decoder
// each (host and device, so the host can check what a kernel wrote). The quantized layouts are
// GGUF's (q8_0: f16 d + 32 int8; q4_0: f16 d + 16 bytes of nibbles; q4_K: f16 d, f16 dmin,
// 12 bytes of 6-bit scales/mins, 128 bytes of nibbles): decoding them is the minimal real
// work, so no load can be dropped and the ALU cost is that of a real dequantizer.
#pragma once

#include <cuda_fp16.h>

#include <cstdint>
#include <cstring>

// Unrolled on the device (the K loops then read registers at constant offsets); the host
// compiler does not know the pragma.
#ifdef __CUDA_ARCH__
#define STREAM_MIX_UNROLL _Pragma("unroll")
#else
#define STREAM_MIX_UNROLL
#endif

namespace stream_mix {

// Host half <-> float, written here (not cuda_fp16's host path) so the host reference is
// independent of the device conversions it checks.
inline float host_half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    float v = float(mant) * (1.0f / 16777216.0f);  // mant * 2^-24, exact
    return sign ? -v : v;
  }
  if (exp == 31) bits = sign | 0x7f800000u | (mant << 13);
  else bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Round to nearest, ties to even (what __float2half_rn does).
inline uint16_t host_float_to_half(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) return uint16_t(sign | 0x7e00u | ((x >> 13) & 0x3ffu));  // NaN
  if (x >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 (ties to even: inf)
  if (x < 0x38800000u) {  // below 2^-14: a half subnormal or zero
    if (x <= 0x33000000u) return sign;  // <= 2^-25: the tie at 2^-25 goes to even 0
    const uint32_t mant = (x & 0x7fffffu) | 0x800000u;
    const int shift = 126 - int(x >> 23);  // value = mant * 2^(exp-150); units of 2^-24
    uint32_t r = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = (((x >> 23) - 112) << 10) | ((x >> 13) & 0x3ffu);
  const uint32_t rem = x & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1))) ++r;  // a carry into the exponent is right
  return uint16_t(sign | r);
}

__host__ __device__ inline float half_bits_to_float(uint16_t h) {
#ifdef __CUDA_ARCH__
  return __half2float(__ushort_as_half(h));
#else
  return host_half_to_float(h);
#endif
}

// Little-endian reads at offsets the layouts keep aligned (f16 fields at even offsets, f32
// at multiples of 4), so the device issues one load (or, from registers, none).
__host__ __device__ inline uint16_t rd16(const uint8_t *p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const uint16_t *>(p);
#else
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
#endif
}
__host__ __device__ inline float rdf32(const uint8_t *p) {
#ifdef __CUDA_ARCH__
  return *reinterpret_cast<const float *>(p);
#else
  float v;
  std::memcpy(&v, p, 4);
  return v;
#endif
}

// A mix: kBlockElems elements come from kBlockBytes source bytes; kGroupElems is the
// smallest run whose source and output sizes are both multiples of 16 bytes (what one
// thread of the register-only styles decodes). decode<K>(p, e, out) writes the K values of
// elements e..e+K-1 counted from p, the start of a block; K divides the runs it reads.
struct Q8_0ToF16 {
  using Out = __half;
  static constexpr const char *kName = "q8_0->f16";
  static constexpr int kBlockElems = 32, kBlockBytes = 34, kGroupElems = 256, kThreadGroups = 1;
  template <int K>
  __host__ __device__ static void decode(const uint8_t *p, int e, float *out) {
    const uint8_t *b = p + (e / 32) * 34;
    const float d = half_bits_to_float(rd16(b));
    const int j = e % 32;
STREAM_MIX_UNROLL
    for (int k = 0; k < K; ++k) out[k] = float(int8_t(b[2 + j + k])) * d;
  }
};

struct Q8_0ToF32 : Q8_0ToF16 {
  using Out = float;
  static constexpr const char *kName = "q8_0->f32";
};

struct Q4_0ToF16 {
  using Out = __half;
  static constexpr const char *kName = "q4_0->f16";
  static constexpr int kBlockElems = 32, kBlockBytes = 18, kGroupElems = 256, kThreadGroups = 1;
  template <int K>
  __host__ __device__ static void decode(const uint8_t *p, int e, float *out) {
    const uint8_t *b = p + (e / 32) * 18;
    const float d = half_bits_to_float(rd16(b));
    const int j = e % 32;  // elements 0-15 are the low nibbles of bytes 0-15, 16-31 the high
    const int shift = j < 16 ? 0 : 4;
STREAM_MIX_UNROLL
    for (int k = 0; k < K; ++k) out[k] = float(int((b[2 + (j % 16) + k] >> shift) & 15) - 8) * d;
  }
};

struct Q4_KToF16 {
  using Out = __half;
  static constexpr const char *kName = "q4_K->f16";
  static constexpr int kBlockElems = 256, kBlockBytes = 144, kGroupElems = 256, kThreadGroups = 1;
  template <int K>
  __host__ __device__ static void decode(const uint8_t *p, int e, float *out) {
    const uint8_t *b = p + (e / 256) * 144;
    const float d = half_bits_to_float(rd16(b)), dmin = half_bits_to_float(rd16(b + 2));
    const uint8_t *sc = b + 4;
    const int r = e % 256, s = r / 32, j = r % 32;
    // Sub-block s's 6-bit scale and min: 0-3 in the low 6 bits of bytes s and s+4; 4-7
    // split between the low/high nibble of byte s+4 and the top 2 bits of bytes s-4 / s.
    int scale, min;
    if (s < 4) {
      scale = sc[s] & 63;
      min = sc[s + 4] & 63;
    } else {
      scale = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
      min = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
    }
    const float dl = d * float(scale), ml = dmin * float(min);
    const uint8_t *q = b + 16 + 32 * (s / 2);  // 32 bytes: sub-block 2c low nibbles, 2c+1 high
    const int shift = (s & 1) ? 4 : 0;
STREAM_MIX_UNROLL
    for (int k = 0; k < K; ++k) out[k] = dl * float((q[j + k] >> shift) & 15) - ml;
  }
};

struct F16ToF32 {
  using Out = float;
  static constexpr const char *kName = "f16->f32";
  static constexpr int kBlockElems = 1, kBlockBytes = 2, kGroupElems = 8, kThreadGroups = 4;
  template <int K>
  __host__ __device__ static void decode(const uint8_t *p, int e, float *out) {
STREAM_MIX_UNROLL
    for (int k = 0; k < K; ++k) out[k] = half_bits_to_float(rd16(p + 2 * (e + k)));
  }
};

struct F32ToF16 {
  using Out = __half;
  static constexpr const char *kName = "f32->f16";
  static constexpr int kBlockElems = 1, kBlockBytes = 4, kGroupElems = 8, kThreadGroups = 4;
  template <int K>
  __host__ __device__ static void decode(const uint8_t *p, int e, float *out) {
STREAM_MIX_UNROLL
    for (int k = 0; k < K; ++k) out[k] = rdf32(p + 4 * (e + k));
  }
};

// Source bytes of `elems` elements (a whole number of blocks).
template <class M>
constexpr int64_t source_bytes(int64_t elems) {
  return elems / M::kBlockElems * M::kBlockBytes;
}

}  // namespace stream_mix
