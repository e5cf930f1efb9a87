// Shared pieces of the ISA-independent fast dequantizers (simd/*.hpp), written once against
// the `Simd` vocabulary (x86/simd_avx2.hpp: 8 lanes, x86/simd_avx512.hpp: 16 lanes,
// arm/simd_neon.hpp: 8 lanes as register pairs). simd/all_kernels.hpp is textually included
// inside each ISA's namespace by kernels_<isa>.cpp, so every instantiation has a per-ISA name.
//
// Bit-identity with the scalar set (scalar/): every output is computed with the same float
// operations in the same order as ggml's reference (int -> float conversion, then the same
// mul / add / sub sequence; scales folded in scalar float exactly where ggml folds them).
// The kernel_<isa>.cpp files turn FMA contraction off, and only explicit mul/add intrinsics
// are used.
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

alignas(64) inline const float kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                   1,    13,   25,  38,  53,  69,  89,  113};
alignas(64) inline const float kMxfp4Values[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
