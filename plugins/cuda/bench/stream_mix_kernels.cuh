// dq-cuda-stream-mix: the kernel styles (each a template over a mix of stream_mix_layouts.cuh)
// and the helper kernels (fill, naive reference, compare, read-only, write-only, clock).
//   style a  ggml-like: a one-shot grid of small blocks (T threads, T*64 elements each; a256:
//            T*32), the block's source staged in shared memory with W-byte loads, then
//            coalesced W-byte stores (a32-w4 is ggml's Q8_0->f16 shape: 131072 blocks at 256M)
//   style b  a one-shot grid of 256-thread blocks, registers only: each thread loads its
//            groups with 16-byte ld.global.nc and stores 16-byte words (b-t64: 64 threads)
//   style c  style b as a persistent grid (k blocks per SM, a grid-stride loop over tiles)
//   style d  style b with cache hints: streaming stores (st.global.cs), L2 evict-first
//            policies on loads and/or stores, L1 no-allocate loads
#pragma once

#include <cuda_fp16.h>

#include <cstdint>

#include "stream_mix_layouts.cuh"

namespace stream_mix {

enum class LoadHint { nc, evict_first, no_l1 };
enum class StoreHint { plain, streaming, evict_first };

template <int W> struct WordOf;
template <> struct WordOf<4> { using type = uint32_t; };
template <> struct WordOf<8> { using type = uint2; };
template <> struct WordOf<16> { using type = uint4; };

// The two halves as one word, low half first (as they lie in memory).
__host__ __device__ inline uint32_t half2_bits(__half2 h) {
  const __half2_raw r = h;
  return uint32_t(r.x) | (uint32_t(r.y) << 16);
}

// K values packed into W bytes of Out (half pairs rounded to nearest even).
template <class Out, int W>
__device__ inline typename WordOf<W>::type pack(const float *v) {
  uint32_t w[W / 4];
  if constexpr (sizeof(Out) == 2) {
#pragma unroll
    for (int i = 0; i < W / 4; ++i) {
      w[i] = half2_bits(__floats2half2_rn(v[2 * i], v[2 * i + 1]));
    }
  } else {
#pragma unroll
    for (int i = 0; i < W / 4; ++i) w[i] = __float_as_uint(v[i]);
  }
  if constexpr (W == 4) return w[0];
  else if constexpr (W == 8) return make_uint2(w[0], w[1]);
  else return make_uint4(w[0], w[1], w[2], w[3]);
}

__device__ inline uint64_t evict_first_policy() {
  uint64_t policy = 0;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
#endif
  return policy;
}

template <LoadHint H>
__device__ inline uint4 load16(const uint4 *p, uint64_t policy) {
  uint4 v;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (H == LoadHint::evict_first) {
    asm volatile("ld.global.nc.L2::cache_hint.v4.u32 {%0,%1,%2,%3}, [%4], %5;"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p), "l"(policy));
    return v;
  }
#endif
  if constexpr (H == LoadHint::no_l1) {
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
                 : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
                 : "l"(p));
    return v;
  }
  (void)policy;
  return __ldg(p);
}

template <StoreHint H>
__device__ inline void store16(uint4 *p, uint4 v, uint64_t policy) {
  if constexpr (H == StoreHint::streaming) {
    __stcs(p, v);
    return;
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  if constexpr (H == StoreHint::evict_first) {
    asm volatile("st.global.L2::cache_hint.v4.u32 [%0], {%1,%2,%3,%4}, %5;" ::"l"(p), "r"(v.x), "r"(v.y),
                 "r"(v.z), "r"(v.w), "l"(policy)
                 : "memory");
    return;
  }
#endif
  (void)policy;
  *p = v;
}

// ---- style a: shared-memory staging, small blocks --------------------------------------
// P outputs a thread: a block's chunk is T * P elements (64 for ggml's shape; 32 at 256
// threads keeps an f32 chunk within 48 KiB of static shared memory).
template <class M, int T, int W, int P = 64>
__global__ void __launch_bounds__(T) style_a(const uint8_t *__restrict__ src, typename M::Out *__restrict__ dst) {
  using Out = typename M::Out;
  using Word = typename WordOf<W>::type;
  constexpr int kChunkElems = T * P;
  constexpr int kChunkBytes = kChunkElems / M::kBlockElems * M::kBlockBytes;
  static_assert(kChunkBytes % (16) == 0, "the chunk's source must stay 16-byte aligned");
  constexpr int kWords = kChunkBytes / W;
  constexpr int K = W / int(sizeof(Out));
  __shared__ Word stage[kWords];
  const int64_t chunk = blockIdx.x;
  const Word *in = reinterpret_cast<const Word *>(src + chunk * kChunkBytes);
#pragma unroll
  for (int i = threadIdx.x; i < kWords; i += T) stage[i] = in[i];
  __syncthreads();
  const uint8_t *bytes = reinterpret_cast<const uint8_t *>(stage);
  Word *out = reinterpret_cast<Word *>(dst + chunk * kChunkElems);
#pragma unroll 4
  for (int p = threadIdx.x; p < kChunkElems / K; p += T) {
    float v[K];
    M::template decode<K>(bytes, p * K, v);
    out[p] = pack<Out, W>(v);
  }
}

// ---- styles b, c, d: registers only, 256-thread blocks -----------------------------------
// A tile is T * kThreadGroups groups; group (tile, u, thread) = (tile * U + u) * T + thread,
// so the float mixes (8-element groups) load and store fully coalesced. T is 256 but for
// one finer-grained variant (a q8_0 tile of 256 threads is 65536 elements: 4096 blocks at
// 256M, under 4 waves on 132 SMs, so the last wave's tail may show).
constexpr int kStyleBThreads = 256;
template <class M, int T = kStyleBThreads> constexpr int64_t kTileElems = int64_t(T) * M::kThreadGroups * M::kGroupElems;

template <class M, LoadHint LH, StoreHint SH, bool kPersistent, int T = kStyleBThreads>
__global__ void __launch_bounds__(T)
    style_b(const uint8_t *__restrict__ src, typename M::Out *__restrict__ dst, int64_t tiles) {
  using Out = typename M::Out;
  constexpr int U = M::kThreadGroups;
  constexpr int kInBytes = M::kGroupElems / M::kBlockElems * M::kBlockBytes;
  static_assert(kInBytes % 16 == 0 && (M::kGroupElems * sizeof(Out)) % 16 == 0, "groups of 16-byte words");
  constexpr int kInVec = kInBytes / 16;
  constexpr int kOutVec = M::kGroupElems * int(sizeof(Out)) / 16;
  constexpr int K = 16 / int(sizeof(Out));
  const uint64_t policy = (LH == LoadHint::evict_first || SH == StoreHint::evict_first) ? evict_first_policy() : 0;
  for (int64_t tile = blockIdx.x; tile < tiles; tile += kPersistent ? gridDim.x : tiles) {
    uint4 r[U][kInVec];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t g = (tile * U + u) * T + threadIdx.x;
      const uint4 *in = reinterpret_cast<const uint4 *>(src + g * kInBytes);
#pragma unroll
      for (int v = 0; v < kInVec; ++v) r[u][v] = load16<LH>(in + v, policy);
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t g = (tile * U + u) * T + threadIdx.x;
      uint4 *out = reinterpret_cast<uint4 *>(dst + g * M::kGroupElems);
      const uint8_t *bytes = reinterpret_cast<const uint8_t *>(r[u]);
#pragma unroll
      for (int v = 0; v < kOutVec; ++v) {
        float f[K];
        M::template decode<K>(bytes, v * K, f);
        store16<SH>(out + v, pack<Out, 16>(f), policy);
      }
    }
  }
}

// ---- helpers ------------------------------------------------------------------------------
// Reproducible pseudo-random bytes (a hash of the word index and a seed).
__global__ void fill_random(uint32_t *p, int64_t words, uint32_t seed) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < words; i += int64_t(gridDim.x) * blockDim.x) {
    uint32_t x = uint32_t(i) * 0x9E3779B1u ^ uint32_t(i >> 32) * 0x85EBCA77u ^ seed;
    x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
    p[i] = x;
  }
}

// One thread per element through decode<1>: slow and obviously right, the reference every
// styled kernel's whole output is compared with.
template <class M>
__global__ void reference(const uint8_t *__restrict__ src, typename M::Out *__restrict__ dst, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    float v;
    M::template decode<1>(src + e / M::kBlockElems * M::kBlockBytes, int(e % M::kBlockElems), &v);
    if constexpr (sizeof(typename M::Out) == 2) dst[e] = __float2half_rn(v);
    else dst[e] = v;
  }
}

// Bitwise equal, or both NaN (the packed and scalar conversions need not agree on a NaN's
// payload). count[0] += mismatches; count[1] = min(first mismatching index).
template <class Bits>
__global__ void compare(const Bits *a, const Bits *b, int64_t n, unsigned long long *count) {
  unsigned long long bad = 0, first = ~0ull;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const Bits x = a[i], y = b[i];
    bool nan_x, nan_y;
    if constexpr (sizeof(Bits) == 2) {
      nan_x = (x & 0x7fff) > 0x7c00;
      nan_y = (y & 0x7fff) > 0x7c00;
    } else {
      nan_x = (x & 0x7fffffffu) > 0x7f800000u;
      nan_y = (y & 0x7fffffffu) > 0x7f800000u;
    }
    if (x != y && !(nan_x && nan_y)) {
      ++bad;
      if (uint64_t(i) < first) first = uint64_t(i);
    }
  }
  if (bad) {
    atomicAdd(&count[0], bad);
    atomicMin(&count[1], first);
  }
}

// Read-only: 16-byte nc loads over a grid-stride loop, folded into one word per thread so
// nothing is dropped (the per-thread word is the only write, negligible).
__global__ void read_only(const uint4 *__restrict__ p, int64_t vecs, uint32_t *__restrict__ sink) {
  uint32_t acc = 0;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  for (; i + 3 * stride < vecs; i += 4 * stride) {
    const uint4 a = __ldg(p + i), b = __ldg(p + i + stride), c = __ldg(p + i + 2 * stride), d = __ldg(p + i + 3 * stride);
    acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
  }
  for (; i < vecs; i += stride) {
    const uint4 a = __ldg(p + i);
    acc ^= a.x ^ a.y ^ a.z ^ a.w;
  }
  sink[blockIdx.x * blockDim.x + threadIdx.x] = acc;
}

// Write-only: a one-shot grid, four coalesced 16-byte stores a thread.
__global__ void write_only(uint4 *__restrict__ p, int64_t vecs) {
  const int64_t base = blockIdx.x * int64_t(blockDim.x) * 4 + threadIdx.x;
  const uint4 v = make_uint4(threadIdx.x, blockIdx.x, 0x5a5a5a5au, 0xa5a5a5a5u);
#pragma unroll
  for (int k = 0; k < 4; ++k)
    if (base + k * blockDim.x < vecs) p[base + k * blockDim.x] = v;
}

// Spins for `cycles` SM clocks: timed with events, it gives the clock the SMs ran at.
__global__ void spin(long long cycles, long long *sink) {
  const long long start = clock64();
  long long now = start;
  while (now - start < cycles) now = clock64();
  if (threadIdx.x == 0) *sink = now - start;
}

}  // namespace stream_mix
