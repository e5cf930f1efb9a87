// Kernels for the element formats F32, F16 and BF16 (one element per "block"): widen to f32
// exactly, then narrow with round-to-nearest-even. Same-type requests are plain copies.
// 16-byte aligned buffers: convert_elements_staged, one block per 8192-element chunk staged
// in shared memory, 16-byte stores (measured on an H100, 2026-12-05, docs/PERFORMANCE.md:
// every row at least 94.8% of the same-run copy, where the grid-stride vector kernel it
// replaced had f16 -> f32 at 91.2%). Buffers that are not both 16-byte aligned: the
// grid-stride convert_elements, one element at a time from any address.
#include "convert_staged_plan.hpp"
#include "tile_kernel.cuh"

namespace dq::gpu {
namespace {

template <int kSrc>
struct SrcElem;
template <>
struct SrcElem<0> {
  using Raw = float;
  __device__ __forceinline__ static float widen(float v) { return v; }
};
template <>
struct SrcElem<1> {
  using Raw = uint16_t;
  __device__ __forceinline__ static float widen(uint16_t v) { return half_bits_to_float(v); }
};
template <>
struct SrcElem<30> {
  using Raw = uint16_t;
  __device__ __forceinline__ static float widen(uint16_t v) {
    return __uint_as_float(static_cast<uint32_t>(v) << 16);
  }
};

template <int kOut>
__device__ __forceinline__ void store1(typename OutPack<kOut>::Elem *dst, float v) {
  if constexpr (kOut == 0) {
    *dst = v;
  } else if constexpr (kOut == 1) {
    *dst = float_to_half_bits(v);
  } else {
    *dst = float_to_bf16_bits(v);
  }
}

// Loads `n` raw elements' bytes from any address (the byte path for unaligned sources).
template <typename Raw>
__device__ __forceinline__ Raw load_unaligned(const uint8_t *p) {
  uint32_t v = 0;
#pragma unroll
  for (int k = 0; k < static_cast<int>(sizeof(Raw)); ++k) v |= static_cast<uint32_t>(p[k]) << (8 * k);
  if constexpr (sizeof(Raw) == 4) {
    return __uint_as_float(v);
  } else {
    return static_cast<Raw>(v);
  }
}

// The fallback for buffers that are not both 16-byte aligned (and grids past the launch
// limit of convert_elements_staged): one element a thread and step, from any address.
template <int kSrc, int kOut>
__global__ void DQ_LAUNCH_BOUNDS(kThreads)
    convert_elements(const uint8_t *__restrict__ src, typename OutPack<kOut>::Elem *__restrict__ dst,
                     int64_t n, bool src_elem_aligned) {
  using In = SrcElem<kSrc>;
  using Raw = typename In::Raw;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * kThreads;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kThreads + threadIdx.x;
  for (int64_t i = first; i < n; i += stride) {
    const uint8_t *p = src + i * static_cast<int64_t>(sizeof(Raw));
    const Raw r = src_elem_aligned ? *reinterpret_cast<const Raw *>(p) : load_unaligned<Raw>(p);
    store1<kOut>(dst + i, In::widen(r));
  }
}

// Stages the source of a whole chunk (kWhole) or of its first `partial_count` elements (a
// multiple of staged::kWholeWordElems) in shared memory with 16-byte loads, then thread t
// converts 16-byte output vectors t, t + kThreads, ... (SrcElem's exact widening, OutPack's
// round-to-nearest-even narrowing, as convert_elements' one-element path: bit-identical
// results). Both pointers are 16-byte aligned.
template <int kSrc, int kOut, bool kWhole>
__device__ __forceinline__ void stage_and_convert(uint4 *stage, const uint8_t *__restrict__ src,
                                                  typename OutPack<kOut>::Elem *__restrict__ dst, int partial_count) {
  using In = SrcElem<kSrc>;
  using Raw = typename In::Raw;
  constexpr int kInBytes = static_cast<int>(sizeof(Raw));
  constexpr int kVec = 16 / static_cast<int>(sizeof(typename OutPack<kOut>::Elem));  // outputs a vector: 4 or 8
  constexpr int kWholeWords = staged::kChunkElems * kInBytes / 16;
  constexpr int kWholeVecs = staged::kChunkElems / kVec;
  const int thread = static_cast<int>(threadIdx.x);
  const uint4 *in = reinterpret_cast<const uint4 *>(src);
  staged::for_each_mine<kThreads, kWhole, kWholeWords>(thread, partial_count * kInBytes / 16,
                                                      [&](int w) { stage[w] = load_readonly(in + w); });
  __syncthreads();
  const uint8_t *staged_bytes = reinterpret_cast<const uint8_t *>(stage);
  staged::for_each_mine<kThreads, kWhole, kWholeVecs>(thread, partial_count / kVec, [&](int c) {
    const uint8_t *s = staged_bytes + c * kVec * kInBytes;
    float v[kVec];
    if constexpr (kSrc == 0) {  // f32 -> 16-bit: 32 bytes in (f32 -> f32, never launched: 16)
#pragma unroll
      for (int k = 0; k < kVec / 4; ++k) {
        const float4 a = reinterpret_cast<const float4 *>(s)[k];
        v[4 * k] = a.x; v[4 * k + 1] = a.y; v[4 * k + 2] = a.z; v[4 * k + 3] = a.w;
      }
    } else if constexpr (kVec == 8) {  // 16-bit -> 16-bit: 16 bytes in
      const uint4 a = *reinterpret_cast<const uint4 *>(s);
      const uint32_t w[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        v[2 * k] = In::widen(static_cast<uint16_t>(w[k]));
        v[2 * k + 1] = In::widen(static_cast<uint16_t>(w[k] >> 16));
      }
    } else {  // 16-bit -> f32: 8 bytes in
      const uint2 a = *reinterpret_cast<const uint2 *>(s);
      v[0] = In::widen(static_cast<uint16_t>(a.x));
      v[1] = In::widen(static_cast<uint16_t>(a.x >> 16));
      v[2] = In::widen(static_cast<uint16_t>(a.y));
      v[3] = In::widen(static_cast<uint16_t>(a.y >> 16));
    }
    if constexpr (kOut == 0) {
      reinterpret_cast<float4 *>(dst)[c] = make_float4(v[0], v[1], v[2], v[3]);
    } else {
      reinterpret_cast<uint4 *>(dst)[c] = make_uint4(OutPack<kOut>::pack2(v[0], v[1]), OutPack<kOut>::pack2(v[2], v[3]),
                                                     OutPack<kOut>::pack2(v[4], v[5]), OutPack<kOut>::pack2(v[6], v[7]));
    }
  });
}

// One block per chunk (staged::chunk_plan); src and dst 16-byte aligned. The last chunk's
// elements past its whole 16-byte words are converted one at a time, as convert_elements' tail.
template <int kSrc, int kOut>
__global__ void DQ_LAUNCH_BOUNDS(kThreads)
    convert_elements_staged(const uint8_t *__restrict__ src, typename OutPack<kOut>::Elem *__restrict__ dst,
                            int64_t n) {
  using In = SrcElem<kSrc>;
  using Raw = typename In::Raw;
  constexpr int kInBytes = static_cast<int>(sizeof(Raw));
  __shared__ uint4 stage[staged::kChunkElems * kInBytes / 16];
  const staged::ChunkPlan plan = staged::chunk_plan(blockIdx.x, n);
  const uint8_t *chunk_src = src + plan.first * kInBytes;
  typename OutPack<kOut>::Elem *chunk_dst = dst + plan.first;
  if (plan.staged == staged::kChunkElems) {
    stage_and_convert<kSrc, kOut, true>(stage, chunk_src, chunk_dst, 0);
    return;
  }
  stage_and_convert<kSrc, kOut, false>(stage, chunk_src, chunk_dst, plan.staged);
  for (int i = plan.staged + static_cast<int>(threadIdx.x); i < plan.staged + plan.tail; i += kThreads) {
    store1<kOut>(chunk_dst + i, In::widen(*reinterpret_cast<const Raw *>(chunk_src + i * kInBytes)));
  }
}

template <int kSrc, int kOut>
Error launch_convert(const void *src, void *dst, int64_t n, const LaunchEnv &env) {
  using Raw = typename SrcElem<kSrc>::Raw;
  if (staged::runs_staged(reinterpret_cast<uintptr_t>(src), reinterpret_cast<uintptr_t>(dst), n)) {
    convert_elements_staged<kSrc, kOut><<<static_cast<unsigned>(staged::chunk_count(n)), kThreads, 0, env.stream>>>(
        static_cast<const uint8_t *>(src), static_cast<typename OutPack<kOut>::Elem *>(dst), n);
    return last_error();
  }
  const bool src_elem_aligned = reinterpret_cast<uintptr_t>(src) % sizeof(Raw) == 0;
  const int64_t max_grid = static_cast<int64_t>(env.sm_count) * (2048 / kThreads);
  int64_t grid = (n + kThreads - 1) / kThreads;
  if (grid > max_grid) grid = max_grid;
  if (grid < 1) grid = 1;
  convert_elements<kSrc, kOut><<<static_cast<unsigned>(grid), kThreads, 0, env.stream>>>(
      static_cast<const uint8_t *>(src), static_cast<typename OutPack<kOut>::Elem *>(dst), n, src_elem_aligned);
  return last_error();
}

template <int kSrc>
Error launch_from(int32_t out, const void *src, void *dst, int64_t n, const LaunchEnv &env) {
  if (out == kSrc) {
    const size_t bytes = static_cast<size_t>(n) * (kSrc == 0 ? 4 : 2);
    return copy_device_to_device_async(dst, src, bytes, env.stream);
  }
  switch (out) {
    case 0: return launch_convert<kSrc, 0>(src, dst, n, env);
    case 1: return launch_convert<kSrc, 1>(src, dst, n, env);
    case 30: return launch_convert<kSrc, 30>(src, dst, n, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace

Error launch_elements(int32_t type, int32_t out, const void *src, void *dst, int64_t n,
                            const LaunchEnv &env) {
  switch (type) {
    case 0: return launch_from<0>(out, src, dst, n, env);
    case 1: return launch_from<1>(out, src, dst, n, env);
    case 30: return launch_from<30>(out, src, dst, n, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
