// The batch form of tile_kernel.cuh's kernel: the same tile loop (tile_loop) over the
// concatenated tiles of up to kMaxBatchTensors tensors of one format. Tensor descriptors come
// by value in the kernel parameter and are copied to shared memory once per thread block; a
// global tile index finds its tensor by binary search over the tensors' first tiles.
// Grid: persistent by default (kStages ring, kMinBlocksPerSm); -DDQ_GPU_BATCH_ONE_SHOT=1
// gives it the single-tensor kernel's one-shot shape (kBatchOneShot, below).
#pragma once

#include <climits>

#include "batch_launch.hpp"
#include "tile_kernel.cuh"

namespace dq::gpu {

// One-shot batch kernel (-DDQ_GPU_BATCH_ONE_SHOT=1, CUDA only; default 0 until a device run
// times it against the persistent grid): one block per tile of the launch's concatenated
// tiles, a ring of one tile buffer and launch bounds for kOneShotMinBlocksPerSm blocks per
// multiprocessor, as tile_kernel.cuh's kOneShot gives the single-tensor kernel. With 0 the
// kernel is the persistent grid over a ring of kStages, as before the knob.
#ifndef DQ_GPU_BATCH_ONE_SHOT
#define DQ_GPU_BATCH_ONE_SHOT 0
#endif
#if DQ_GPU_BATCH_ONE_SHOT && !defined(DQ_GPU_HIP) && !defined(__HIPCC__)
inline constexpr bool kBatchOneShot = true;
#else
inline constexpr bool kBatchOneShot = false;
#endif
// The batch kernel's ring and launch bounds (host and device passes alike: the host sizes
// shared memory with the same ring).
inline constexpr int kBatchRing = kBatchOneShot ? 1 : kStages;
inline constexpr int kBatchMinBlocksPerSm = kBatchOneShot ? kOneShotMinBlocksPerSm : kMinBlocksPerSm;

struct BatchDesc {
  const uint8_t *src;
  void *dst;
  int64_t n_blocks;
  int32_t tile_begin;  // first global tile of this tensor
  int32_t flags;       // 1: src 16-byte aligned, 2: dst 16-byte aligned
};
static_assert(sizeof(BatchDesc) == 32, "descriptor size is part of the parameter budget");

struct BatchParams {
  BatchDesc d[kMaxBatchTensors];
  int32_t count;
  int32_t n_tiles;
};
static_assert(sizeof(BatchParams) <= 4096, "kernel parameters must fit 4 KiB");

// Tile g of the batch: the tensor whose tiles hold g, and g's place in it.
template <typename Fmt, typename Elem>
struct BatchTiles {
  using Shape = TileShape<Fmt, sizeof(Elem)>;
  const BatchDesc *d;  // shared memory
  int count;
  DQ_DEVICE_INLINE TileRef<Elem> operator()(int g) const {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
      const int mid = (lo + hi + 1) >> 1;
      if (d[mid].tile_begin <= g) lo = mid; else hi = mid - 1;
    }
    const BatchDesc &x = d[lo];
    const int t = g - x.tile_begin;
    const int64_t left = x.n_blocks - static_cast<int64_t>(t) * Shape::kBlocks;
    return {x.src + static_cast<int64_t>(t) * Shape::kBytes,
            static_cast<Elem *>(x.dst) + static_cast<int64_t>(t) * kTileElems,
            left < Shape::kBlocks ? static_cast<int>(left) : Shape::kBlocks, (x.flags & 1) != 0,
            (x.flags & 2) != 0};
  }
};

template <typename Fmt, int kOut>
__global__ void DQ_LAUNCH_BOUNDS(kThreads, kBatchMinBlocksPerSm)
    dequant_tiles_batch(const BatchParams p, const uint8_t *__restrict__ table_global, bool streaming) {
  using Elem = typename OutPack<kOut>::Elem;
  __shared__ BatchDesc descs[kMaxBatchTensors];
  for (int i = threadIdx.x; i < p.count; i += kThreads) descs[i] = p.d[i];
  __syncthreads();
  tile_loop<Fmt, kOut, BatchTiles<Fmt, Elem>, kBatchRing>(BatchTiles<Fmt, Elem>{descs, p.count}, p.n_tiles,
                                                          table_global, streaming);
}

// Thread blocks for one launch of `tiles` tiles (at most INT_MAX: the kernel counts them in an
// int). One-shot: a block per tile, which gridDim.x (up to 2^31 - 1) holds; past that, or in
// the persistent build, at most max_grid blocks that walk the tiles (tile_loop strides by
// gridDim.x, so any grid is correct, whatever the ring).
inline unsigned batch_grid(int64_t tiles, int64_t max_grid) {
  if (kBatchOneShot && tiles <= INT_MAX) return static_cast<unsigned>(tiles);
  return static_cast<unsigned>(tiles < max_grid ? tiles : max_grid);
}

// Launches Fmt -> kOut over `count` tensors, kMaxBatchTensors per launch. `table`: Fmt's
// device grid or null.
template <typename Fmt, int kOut>
Error launch_tiles_batch(const BatchTensor *tensors, size_t count, const uint8_t *table,
                               const LaunchEnv &env) {
  using Elem = typename OutPack<kOut>::Elem;
  using Shape = TileShape<Fmt, sizeof(Elem), kBatchRing>;  // the kernel's ring: its shared memory
  auto kernel = dequant_tiles_batch<Fmt, kOut>;
  static thread_local int blocks_per_sm = 0;  // per instantiation, as in launch_tiles
  if (blocks_per_sm == 0) {
    const Error e = max_blocks_per_multiprocessor(kernel, kThreads, Shape::kSmemBytes, &blocks_per_sm);
    if (e != kSuccess) return e;
    const int cap = env.blocks_per_sm_cap >= 0 ? env.blocks_per_sm_cap : 2;  // -1: the default
    if (cap > 0 && blocks_per_sm > cap) blocks_per_sm = cap;
    if (blocks_per_sm < 1) blocks_per_sm = 1;
  }
  const int64_t max_grid = static_cast<int64_t>(env.sm_count) * blocks_per_sm;
  BatchParams p;
  for (size_t i = 0; i < count;) {
    p.count = 0;
    int64_t tiles = 0;
    for (; i < count && p.count < kMaxBatchTensors; ++i) {
      const BatchTensor &t = tensors[i];
      const int64_t n_blocks = t.n_elements / Fmt::kBlockElems;
      const int64_t n_tiles = (n_blocks + Shape::kBlocks - 1) / Shape::kBlocks;
      if (p.count > 0 && tiles + n_tiles > INT_MAX) break;  // tile indices are 32-bit
      // A lone tensor of more than INT_MAX tiles (2^44 elements at 8192 a tile) cannot be
      // indexed by the kernel: an error rather than wrong output.
      if (n_tiles > INT_MAX) return kErrorInvalidValue;
      const int32_t flags = ((reinterpret_cast<uintptr_t>(t.src) & 15) == 0 ? 1 : 0) |
                            ((reinterpret_cast<uintptr_t>(t.dst) & 15) == 0 ? 2 : 0);
      p.d[p.count++] = {static_cast<const uint8_t *>(t.src), t.dst, n_blocks,
                        static_cast<int32_t>(tiles), flags};
      tiles += n_tiles;
    }
    p.n_tiles = static_cast<int32_t>(tiles);
    const unsigned grid = batch_grid(tiles, max_grid);
    kernel<<<grid, kThreads, Shape::kSmemBytes, env.stream>>>(p, table, env.streaming_stores);
    if (const Error e = last_error(); e != kSuccess) return e;
  }
  return kSuccess;
}

// All tensors of Fmt -> out_type through the batch kernel (launch_dequantize_batch sends a
// lone tensor to the ordinary one instead).
template <typename Fmt>
Error launch_batch_format_auto(int32_t out_type, const BatchTensor *tensors, size_t count,
                               const LaunchEnv &env) {
  const uint8_t *table = nullptr;
  if constexpr (Fmt::kTableBytes > 0) {
    Error e = kSuccess;
    table = iq_grid_device(Fmt::kType, &e);
    if (e != kSuccess) return e;
  }
  switch (out_type) {
    case 0: return launch_tiles_batch<Fmt, 0>(tensors, count, table, env);
    case 1: return launch_tiles_batch<Fmt, 1>(tensors, count, table, env);
    case 30: return launch_tiles_batch<Fmt, 30>(tensors, count, table, env);
    default: return kErrorInvalidValue;
  }
}

}  // namespace dq::gpu
