// Device-side portability for the one kernel source that nvcc (CUDA plugin) and hipcc (HIP
// plugin, built with -DDQ_GPU_HIP) both compile. Every vendor difference the kernels meet
// lives here, so no kernel is written twice:
//   - which compiler pass this is (DQ_GPU_DEVICE_CODE: device code of either vendor);
//   - half / bf16 types and exact conversions, half2 arithmetic with explicit rounding;
//   - warp size, shuffles and the 32-lane group barrier;
//   - read-only and streaming global loads/stores, cp.async availability;
//   - launch bounds and shared-memory alignment attributes.
// Host API (errors, streams, launches) is in gpu_runtime.hpp. This header is also included by
// the host-compiled golden tests (tests/cuda/decode_host_test.cpp): without a GPU compiler it
// defines only the host forms of the macros.
#pragma once

#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#elif defined(__HIPCC__)
#include <hip/hip_fp16.h>
#include <hip/hip_runtime.h>
#endif

// Device code of either vendor (the host pass of nvcc/hipcc and the host compiler see 0).
#if defined(__CUDA_ARCH__) || defined(__HIP_DEVICE_COMPILE__)
#define DQ_GPU_DEVICE_CODE 1
#else
#define DQ_GPU_DEVICE_CODE 0
#endif

#if defined(__CUDACC__) || defined(__HIPCC__)
#define DQ_DEV_INLINE __host__ __device__ __forceinline__
#define DQ_DEVICE_INLINE __device__ __forceinline__
#define DQ_UNROLL _Pragma("unroll")
#define DQ_ALIGN16 __attribute__((aligned(16)))
#else
#define DQ_DEV_INLINE inline
#define DQ_UNROLL
#endif

// DQ_LAUNCH_BOUNDS(max_threads[, min_blocks_per_sm]). The optional second argument means
// "min blocks per SM" in CUDA but "min waves per execution unit" in HIP: only CUDA gets it.
#if defined(__CUDACC__)
#define DQ_LAUNCH_BOUNDS(...) __launch_bounds__(__VA_ARGS__)
#elif defined(__HIPCC__)
#define DQ_LAUNCH_BOUNDS(threads, ...) __launch_bounds__(threads)
#endif

namespace dq::gpu {

// Warp (wavefront) width: 32 on NVIDIA and on RDNA (wave32), 64 on CDNA (gfx9, gfx90a).
// The kernels never depend on it: they work in logical groups of kGroupLanes lanes, which on
// a wave64 GPU are the two halves of a wavefront, and synchronize a group with sync_group()
// and exchange values within it with shuffle(), both correct for either width.
inline constexpr int kGroupLanes = 32;

// 16-byte cp.async (global -> shared without registers) exists on NVIDIA sm_80+ only; the
// HIP build stages tiles with ordinary loads and stores (same data, no overlap).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define DQ_GPU_HAS_CP_ASYNC 1
#else
#define DQ_GPU_HAS_CP_ASYNC 0
#endif

#if defined(__CUDACC__) || defined(__HIPCC__)

// ---- bit operations

// Low 32 bits of {hi:lo} >> (shift & 31) (CUDA's __funnelshift_r; one alignbit on AMD).
DQ_DEVICE_INLINE uint32_t funnelshift_r(uint32_t lo, uint32_t hi, uint32_t shift) {
#if defined(__CUDACC__)
  return __funnelshift_r(lo, hi, shift);
#else
  return static_cast<uint32_t>(((static_cast<uint64_t>(hi) << 32) | lo) >> (shift & 31));
#endif
}

// Byte n of the result is byte (s >> 4n) & 7 of {y:x} (CUDA's __byte_perm semantics).
DQ_DEVICE_INLINE uint32_t byte_perm(uint32_t x, uint32_t y, uint32_t s) { return __byte_perm(x, y, s); }

// byte_perm for a selector whose nibbles all have bit 3 clear: on NVIDIA one prmt without
// the intrinsic's 0x7777 masking.
DQ_DEVICE_INLINE uint32_t byte_perm_clear(uint32_t x, uint32_t y, uint32_t s) {
#if defined(__CUDACC__)
  uint32_t r;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(r) : "r"(x), "r"(y), "r"(s));
  return r;
#else
  return __byte_perm(x, y, s);
#endif
}

DQ_DEVICE_INLINE uint32_t popcount(uint32_t v) { return static_cast<uint32_t>(__popc(v)); }

// ---- half precision. Lane-wise half2 arithmetic on raw 32-bit words, round to nearest
// even, never fused with a neighbouring operation (PTX instructions with an explicit
// rounding mode on NVIDIA; the HIP build compiles with -ffp-contract=off and uses the
// packed intrinsics, which are single IEEE operations).
#if defined(__HIPCC__)
DQ_DEVICE_INLINE __half2 as_half2(uint32_t u) {
  __half2 h;
  memcpy(&h, &u, sizeof u);
  return h;
}
DQ_DEVICE_INLINE uint32_t half2_bits(__half2 h) {
  uint32_t u;
  memcpy(&u, &h, sizeof u);
  return u;
}
#endif

DQ_DEVICE_INLINE uint32_t h2_sub_rn(uint32_t a, uint32_t b) {
#if defined(__CUDACC__)
  uint32_t r;
  asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return half2_bits(__hsub2(as_half2(a), as_half2(b)));
#endif
}

DQ_DEVICE_INLINE uint32_t h2_mul_rn(uint32_t a, uint32_t b) {
#if defined(__CUDACC__)
  uint32_t r;
  asm("mul.rn.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return half2_bits(__hmul2(as_half2(a), as_half2(b)));
#endif
}

DQ_DEVICE_INLINE uint32_t h2_fma_rn(uint32_t a, uint32_t b, uint32_t c) {
#if defined(__CUDACC__)
  uint32_t r;
  asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
#else
  return half2_bits(__hfma2(as_half2(a), as_half2(b), as_half2(c)));
#endif
}

// Exact binary16 bits -> float.
DQ_DEVICE_INLINE float half_bits_to_float(uint32_t h) {
  return __half2float(__ushort_as_half(static_cast<unsigned short>(h)));
}

// float -> binary16 bits, round to nearest even.
DQ_DEVICE_INLINE uint16_t float_to_half_bits(float v) { return __half_as_ushort(__float2half_rn(v)); }

// Two floats -> two halves, round to nearest even (lo in the low lane).
DQ_DEVICE_INLINE uint32_t pack_half2_rn(float lo, float hi) {
#if defined(__CUDACC__)
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t *>(&h);
#else
  return half2_bits(__floats2half2_rn(lo, hi));
#endif
}

// float -> bfloat16 bits, round to nearest even. HIP's bf16 intrinsics differ between ROCm
// releases, so the HIP build uses the bit-level conversion the CPU reference uses.
DQ_DEVICE_INLINE uint16_t float_to_bf16_bits(float v) {
#if defined(__CUDACC__)
  return __bfloat16_as_ushort(__float2bfloat16_rn(v));
#else
  const uint32_t x = __float_as_uint(v);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
#endif
}

DQ_DEVICE_INLINE uint32_t pack_bf162_rn(float lo, float hi) {
#if defined(__CUDACC__)
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t *>(&h);
#else
  return float_to_bf16_bits(lo) | (static_cast<uint32_t>(float_to_bf16_bits(hi)) << 16);
#endif
}

// ---- memory

// Read-only (non-coherent cache) global load.
template <typename T>
DQ_DEVICE_INLINE T load_readonly(const T *p) {
#if defined(__CUDACC__)
  return __ldg(p);
#else
  return *p;
#endif
}

// 16-byte global store, optionally evict-first (streaming): the output is written once and
// never read back by this kernel.
template <typename V>
DQ_DEVICE_INLINE void store16(V *p, V v, bool streaming) {
#if defined(__CUDACC__)
  if (streaming) __stcs(p, v); else *p = v;
#else
  (void)streaming;  // a plain store: the non-temporal hint was never measured on AMD
  *p = v;
#endif
}

// 16 bytes global -> shared. With cp.async the copy runs in the background until
// cp_async_wait; otherwise it is an ordinary load and store, complete on return.
DQ_DEVICE_INLINE void cp_async16(void *smem_dst, const void *gmem_src) {
#if DQ_GPU_HAS_CP_ASYNC
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem_dst));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(s), "l"(gmem_src) : "memory");
#else
  *static_cast<uint4 *>(smem_dst) = *static_cast<const uint4 *>(gmem_src);
#endif
}
DQ_DEVICE_INLINE void cp_async_commit() {
#if DQ_GPU_HAS_CP_ASYNC
  asm volatile("cp.async.commit_group;\n" ::: "memory");
#endif
}
template <int N>
DQ_DEVICE_INLINE void cp_async_wait() {
#if DQ_GPU_HAS_CP_ASYNC
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

// ---- lanes

// Barrier and memory fence for a logical 32-lane group whose members all call it (the
// tile kernel's output staging). CUDA: __syncwarp. HIP: the whole block, as ROCm releases
// before 6.2 have no __syncwarp and a wave64 holds two groups; the call sites are reached by
// every thread of the block, so the stronger barrier is correct (its cost was never measured).
DQ_DEVICE_INLINE void sync_group() {
#if defined(__CUDACC__)
  __syncwarp();
#else
  __syncthreads();
#endif
}

// Value of `v` in lane `src` of the calling logical group of `width` lanes (width a power of
// two, at most 32), every lane of the group participating.
template <typename T>
DQ_DEVICE_INLINE T shuffle(T v, int src, int width = 32) {
#if defined(__CUDACC__)
  return __shfl_sync(0xffffffffu, v, src, width);
#else
  return __shfl(v, src, width);
#endif
}
template <typename T>
DQ_DEVICE_INLINE T shuffle_xor(T v, int mask, int width = 32) {
#if defined(__CUDACC__)
  return __shfl_xor_sync(0xffffffffu, v, mask, width);
#else
  return __shfl_xor(v, mask, width);
#endif
}

#endif  // a GPU compiler

}  // namespace dq::gpu
