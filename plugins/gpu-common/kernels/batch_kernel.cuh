// The batch form of tile_kernel.cuh's kernel: the same tile loop (tile_loop) over the
// concatenated tiles of up to kMaxBatchTensors tensors of one format. Tensor descriptors come
// by value in the kernel parameter and are copied to shared memory once per thread block; a
// global tile index finds its tensor by binary search over the tensors' first tiles.
// Grid, ring and launch bounds as the single-tensor kernel's (tile_kernel.cuh): one block per
// tile in CUDA builds (kOneShot), the persistent grid in HIP builds.
#pragma once

#include <climits>

#include "batch_launch.hpp"
#include "tile_kernel.cuh"

namespace dq::gpu {

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
__global__ void DQ_LAUNCH_BOUNDS(kThreads, kTileMinBlocksPerSm)
    dequant_tiles_batch(const BatchParams p, const uint8_t *__restrict__ table_global, bool streaming) {
  using Elem = typename OutPack<kOut>::Elem;
  __shared__ BatchDesc descs[kMaxBatchTensors];
  for (int i = threadIdx.x; i < p.count; i += kThreads) descs[i] = p.d[i];
  __syncthreads();
  tile_loop<Fmt, kOut, BatchTiles<Fmt, Elem>, kTileRing>(BatchTiles<Fmt, Elem>{descs, p.count}, p.n_tiles,
                                                         table_global, streaming);
}

// Launches Fmt -> kOut over `count` tensors, kMaxBatchTensors per launch. `table`: Fmt's
// device grid or null.
template <typename Fmt, int kOut>
Error launch_tiles_batch(const BatchTensor *tensors, size_t count, const uint8_t *table,
                               const LaunchEnv &env) {
  using Elem = typename OutPack<kOut>::Elem;
  using Shape = TileShape<Fmt, sizeof(Elem), kTileRing>;  // the kernel's ring: its shared memory
  auto kernel = dequant_tiles_batch<Fmt, kOut>;
  static thread_local int blocks_per_sm = 0;  // per instantiation, as in launch_tiles
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
    unsigned grid = 0;
    if (const Error e = tile_grid(kernel, Shape::kSmemBytes, tiles, env, &blocks_per_sm, &grid); e != kSuccess)
      return e;
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
