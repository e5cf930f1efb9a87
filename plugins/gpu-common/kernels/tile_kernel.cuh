// The one kernel shape every block format uses: thread blocks walking tiles of 8192 elements,
// one block per tile in CUDA builds (kOneShot, below), a persistent grid in HIP builds. A tile's source bytes are contiguous (blocks are packed), so they are
// staged into shared memory with 16-byte cp.async copies in a ring of buffers (kStages for
// the persistent grid: the next tiles' bytes are in flight while this tile decodes). Each lane then
// decodes 32 consecutive elements (one block's: a format's per-32 part once, then 4 groups
// of 8) into its row of a per-warp staging area, and the warp stores the area in order with
// 16-byte stores, 512 contiguous bytes per store instruction. Formats without a per-32 part
// store 16-bit output directly from consecutive lanes (already 512 contiguous bytes).
// The batch kernel (batch_kernel.cuh) runs the same tile_loop over several tensors' tiles.
//
// Tile counts are 32-bit, element and byte offsets 64-bit: tensors may exceed 2^31 elements.
#pragma once

#include <cstdint>
#include <type_traits>

#include "decode_common.cuh"
#include "gpu_port.hpp"
#include "gpu_runtime.hpp"
#include "iq_tables.cuh"
#include "launch.hpp"

namespace dq::gpu {

// Threads per block (-DDQ_GPU_THREADS=N, a multiple of 32): the tile holds 32 elements per
// thread, so more threads mean bigger tiles and more warps per block at the same count of
// blocks per multiprocessor (fewer registers each: 65536 / (threads * blocks)).
#ifndef DQ_GPU_THREADS
#define DQ_GPU_THREADS 256
#endif
inline constexpr int kThreads = DQ_GPU_THREADS;
static_assert(kThreads % 32 == 0 && kThreads >= 64 && kThreads <= 1024, "DQ_GPU_THREADS: 64..1024, whole warps");
inline constexpr int kGroupsPerThread = 4;
inline constexpr int kTileElems = kThreads * 8 * kGroupsPerThread;  // 8192
inline constexpr int kPad = 16;  // read-past slack for ld_u64's word loads
// 2 blocks of 256 threads per multiprocessor leave up to 128 registers a thread: enough to
// keep a lane's loop-invariant index work out of the tile loop (a 48-register cap made the
// loop body 25-35% longer in SASS), and 2 blocks measured faster than 3-5 on the H100.
// These two shape the persistent grid (HIP builds). Build-time overrides
// (-DDQ_GPU_MIN_BLOCKS_PER_SM=N, -DDQ_GPU_TILE_STAGES=N, -DDQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM=N
// below) exist so a device run can time variants of one source side by side
// (scripts/device-speed.sh).
#ifndef DQ_GPU_MIN_BLOCKS_PER_SM
#define DQ_GPU_MIN_BLOCKS_PER_SM 2
#endif
#ifndef DQ_GPU_TILE_STAGES
#define DQ_GPU_TILE_STAGES 3
#endif
#ifndef DQ_GPU_WARP_PIPELINE
#define DQ_GPU_WARP_PIPELINE 0
#endif
inline constexpr int kMinBlocksPerSm = DQ_GPU_MIN_BLOCKS_PER_SM;
// 1: each lane group stages and decodes only its own share of a tile and synchronizes with
// its own lanes (no block-wide barrier per tile), so groups drift apart and the memory
// traffic of a block is spread out instead of arriving in bursts. 0: block-wide tiles.
inline constexpr bool kWarpPipeline = DQ_GPU_WARP_PIPELINE != 0;
inline constexpr int kStages = DQ_GPU_TILE_STAGES;  // tiles in the shared-memory ring (kStages - 1 in flight)
// "Warp" below means a logical group of kGroupLanes (32) lanes: a whole warp on NVIDIA and
// RDNA, half a wavefront on wave64 GPUs (gpu_port.hpp). Nothing relies on lockstep execution.
inline constexpr int kWarpElems = kTileElems / (kThreads / kGroupLanes);  // 1024: a warp's share

// One-shot kernels (CUDA builds): the single-tensor and the batch kernel launch one block per
// tile (grid = tile count), stage that tile alone (a ring of 1: no prefetch in the block) and
// ask for registers that let kOneShotMinBlocksPerSm blocks share a multiprocessor, so the
// hardware's block scheduler, not a persistent loop, keeps the memory system busy. Measured
// on an H100 (2026-12-05, docs/PERFORMANCE.md): the single-tensor kernel's median 96.3% of the
// same-run copy over the 87 rows against 93.1% for the persistent Hopper bulk-copy kernel and
// 78% for this kernel on a persistent grid (both removed); 6 blocks beat 4 and 2; the batch
// kernel's llama-3-8B layer rows 1.02x of their bound against 1.07-1.09x persistent. HIP keeps
// the persistent grid over a ring of kStages (unmeasured there).
#ifndef DQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM
#define DQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM 6
#endif
#if !defined(DQ_GPU_HIP) && !defined(__HIPCC__)
inline constexpr bool kOneShot = true;
#else
inline constexpr bool kOneShot = false;
#endif
inline constexpr int kOneShotMinBlocksPerSm = DQ_GPU_ONE_SHOT_MIN_BLOCKS_PER_SM;
// Both tile kernels' ring and launch bounds (host and device passes alike: the host sizes
// shared memory with the same ring).
inline constexpr int kTileRing = kOneShot ? 1 : kStages;
inline constexpr int kTileMinBlocksPerSm = kOneShot ? kOneShotMinBlocksPerSm : kMinBlocksPerSm;

// Shape of a tile's shared memory for Fmt with output elements of kElemBytes bytes, with a
// ring of kRing tile buffers.
template <typename Fmt, int kElemBytes, int kRing = kStages>
struct TileShape {
  static constexpr int kBlocks = kTileElems / Fmt::kBlockElems;
  static constexpr int kBytes = kBlocks * Fmt::kBlockBytes;
  static constexpr int kBufBytes = kBytes + kPad;  // a multiple of 16
  static constexpr int kStageBytes = kThreads * 32 * kElemBytes;  // the warps' output areas
  static constexpr int kSmemBytes = Fmt::kTableBytes + kRing * kBufBytes + kStageBytes;
  static_assert(kTileElems % Fmt::kBlockElems == 0, "tile must hold whole blocks");
  static_assert(Fmt::kBlockElems % 32 == 0, "a lane's 32 elements must lie in one block");
  static_assert(kBytes % 16 == 0, "tile bytes must keep 16-byte alignment");
  static_assert(Fmt::kTableBytes % 16 == 0, "table must keep 16-byte alignment");
};

// Output element types: f32 (0), f16 (1), bf16 (30).
template <int kOut>
struct OutPack;

template <>
struct OutPack<0> {
  using Elem = float;
  // 8 outputs as 16-byte chunks.
  __device__ __forceinline__ static void pack(const float *v, uint4 *c) {
    c[0] = make_uint4(__float_as_uint(v[0]), __float_as_uint(v[1]), __float_as_uint(v[2]), __float_as_uint(v[3]));
    c[1] = make_uint4(__float_as_uint(v[4]), __float_as_uint(v[5]), __float_as_uint(v[6]), __float_as_uint(v[7]));
  }
};

template <int kOut>
struct OutPack16 {
  using Elem = uint16_t;
  __device__ __forceinline__ static uint32_t pack2(float a, float b) {
    return kOut == 1 ? pack_half2_rn(a, b) : pack_bf162_rn(a, b);
  }
  __device__ __forceinline__ static void pack(const float *v, uint4 *c) {
    c[0] = make_uint4(pack2(v[0], v[1]), pack2(v[2], v[3]), pack2(v[4], v[5]), pack2(v[6], v[7]));
  }
};
template <>
struct OutPack<1> : OutPack16<1> {};
template <>
struct OutPack<30> : OutPack16<30> {};

// Output staging: lane L's 32 decoded elements form row L of its warp's area (kChunks
// 16-byte chunks a row); the warp then stores the area in order. Chunk q of row r sits at
// r * kChunks + (q ^ f(r)), the XOR spreading both the row writes (8 lanes, one per row, per
// shared-memory phase) and the in-order reads over all 32 banks.
template <int kChunks>
__device__ __forceinline__ int stage_chunk(int row, int q) {
  return row * kChunks + (q ^ ((row * kChunks >> 3) & (kChunks - 1)));
}

// The direct 16-bit paths (kHas16BitPath): 8 outputs of type kOut as 4 words, from a
// format's per-8-element decoder or, with a `sub`, its group decoder.
template <typename Fmt, int kOut>
__device__ __forceinline__ void decode8_16bit(const uint8_t *blk, int j, uint32_t *h, const uint8_t *table) {
  if constexpr (kOut == 1 && HasF16<Fmt>::value) Fmt::decode8_f16(blk, j, h, table);
  if constexpr (kOut == 30 && HasBF16<Fmt>::value) Fmt::decode8_bf16(blk, j, h, table);
}
template <typename Fmt, int kOut, typename Sub>
__device__ __forceinline__ void group_16bit(const Sub &s, int k, uint32_t *h, const uint8_t *table) {
  if constexpr (kOut == 1 && HasF16<Fmt>::value) Fmt::group_f16(s, k, h, table);
  if constexpr (kOut == 30 && HasBF16<Fmt>::value) Fmt::group_bf16(s, k, h, table);
}

// Decodes group k (8 elements) of a lane's 32 through `f32` (8 floats) or, for 16-bit
// output of a format with a direct path for it (kHas16BitPath), `w16` (4 words), and writes
// it to row `lane` of the staging area.
template <typename Fmt, int kOut, int kChunksPerRow, typename F32, typename W16>
__device__ __forceinline__ void stage_group(uint4 *area, int lane, int k, F32 &&f32, W16 &&w16) {
  constexpr int kChunksPerGroup = kChunksPerRow / 4;
  uint4 c[kChunksPerGroup];
  if constexpr (kHas16BitPath<Fmt, kOut>) {
    uint32_t h[4];
    w16(h);
    c[0] = make_uint4(h[0], h[1], h[2], h[3]);
  } else {
    float v[8];
    f32(v);
    OutPack<kOut>::pack(v, c);
  }
#pragma unroll
  for (int q = 0; q < kChunksPerGroup; ++q) area[stage_chunk<kChunksPerRow>(lane, k * kChunksPerGroup + q)] = c[q];
}

// Decodes elements j0..j0+31 of the block at `blk` (j0 a multiple of 32) into row `lane`
// of the warp's staging area. Formats with `sub` decode their per-32-element part once.
template <typename Fmt, int kOut, int kChunksPerRow>
__device__ __forceinline__ void decode_lane32(const uint8_t *blk, int j0, const uint8_t *table, uint4 *area, int lane) {
  if constexpr (HasSub<Fmt>::value) {
    const auto s = Fmt::sub(blk, j0, table);
#pragma unroll
    for (int k = 0; k < 4; ++k)
      stage_group<Fmt, kOut, kChunksPerRow>(area, lane, k, [&](float *v) { Fmt::group(s, k, v, table); },
                                            [&](uint32_t *h) { group_16bit<Fmt, kOut>(s, k, h, table); });
  } else {
#pragma unroll
    for (int k = 0; k < 4; ++k)
      stage_group<Fmt, kOut, kChunksPerRow>(
          area, lane, k, [&](float *v) { Fmt::decode8(blk, j0 + 8 * k, v, table); },
          [&](uint32_t *h) { decode8_16bit<Fmt, kOut>(blk, j0 + 8 * k, h, table); });
  }
}

// Starts copying tile `t` (its `bytes` source bytes at `src`) into `buf`. With a 16-byte
// aligned source the bulk goes through cp.async and the <16-byte tail through plain loads;
// otherwise every byte goes through plain loads (correct for any address, slower).
__device__ __forceinline__ void stage_tile(uint8_t *buf, const uint8_t *__restrict__ src,
                                           int bytes, bool src_vec16) {
  int done = 0;
  if (src_vec16) {
    const int nvec = bytes >> 4;
    for (int i = threadIdx.x; i < nvec; i += kThreads) cp_async16(buf + 16 * i, src + 16 * i);
    done = nvec << 4;
  }
  for (int i = done + threadIdx.x; i < bytes; i += kThreads) buf[i] = load_readonly(src + i);
}

// Where tile t of a launch lives: its source bytes, its first output, its block count, and
// whether source and output are 16-byte aligned. SingleTiles: one tensor's tiles; the batch
// kernel (batch_kernel.cuh) maps the concatenated tiles of several tensors.
template <typename Elem>
struct TileRef {
  const uint8_t *src;
  Elem *dst;
  int blocks;
  bool src_vec16, dst_vec16;
};

template <typename Fmt, typename Elem>
struct SingleTiles {
  using Shape = TileShape<Fmt, sizeof(Elem)>;
  const uint8_t *src;
  Elem *dst;
  int64_t n_blocks;
  bool src_vec16, dst_vec16;
  DQ_DEVICE_INLINE TileRef<Elem> operator()(int t) const {
    const int64_t left = n_blocks - static_cast<int64_t>(t) * Shape::kBlocks;
    return {src + static_cast<int64_t>(t) * Shape::kBytes, dst + static_cast<int64_t>(t) * kTileElems,
            left < Shape::kBlocks ? static_cast<int>(left) : Shape::kBlocks, src_vec16, dst_vec16};
  }
};

// The body of every tile kernel: this thread block walks tiles blockIdx.x, + gridDim.x, ...
// of the n_tiles that `tiles` maps.
// Copies bytes [begin, end) of a tile into the same offsets of `buf`, by one lane group:
// 16-byte cp.async for the aligned middle (when the tile's source is 16-byte aligned), plain
// loads for the unaligned head and tail.
DQ_DEVICE_INLINE void stage_range(uint8_t *buf, const uint8_t *__restrict__ src, int begin, int end,
                                  bool src_vec16, int lane) {
  int a = begin, b = begin;
  if (src_vec16) {
    a = min(end, (begin + 15) & ~15);
    b = max(a, end & ~15);
    for (int i = a + 16 * lane; i < b; i += 16 * kGroupLanes) cp_async16(buf + i, src + i);
  }
  for (int i = begin + lane; i < a; i += kGroupLanes) buf[i] = load_readonly(src + i);
  for (int i = b + lane; i < end; i += kGroupLanes) buf[i] = load_readonly(src + i);
}

template <typename Fmt, int kOut, typename Tiles, int kRing = kStages>
DQ_DEVICE_INLINE void tile_loop(const Tiles &tiles, int n_tiles, const uint8_t *__restrict__ table_global,
                                bool streaming) {
  using Shape = TileShape<Fmt, sizeof(typename OutPack<kOut>::Elem), kRing>;
  extern __shared__ DQ_ALIGN16 uint8_t smem[];
  uint8_t *const table = smem;
  uint8_t *const ring = smem + Fmt::kTableBytes;  // kRing tile buffers

  // Tile counts fit 32 bits (a tile is 8192 elements); byte and element offsets are 64-bit.
  const int first = static_cast<int>(blockIdx.x), step = static_cast<int>(gridDim.x);
  if (first >= n_tiles) return;
  // This block's i-th tile is first + i * step; it lives in ring buffer i % kRing.
  auto stage = [&](int i) {
    const int t = first + i * step;
    if (t < n_tiles) {
      const auto r = tiles(t);
      uint8_t *const buf = ring + (i % kRing) * Shape::kBufBytes;
      if constexpr (kWarpPipeline) {
        // This group's blocks only: the ones holding its kWarpElems outputs.
        constexpr int kGroupBlocks = kWarpElems / Fmt::kBlockElems;
        const int g = static_cast<int>(threadIdx.x / kGroupLanes), l = static_cast<int>(threadIdx.x % kGroupLanes);
        const int b0 = min(r.blocks, g * kGroupBlocks), b1 = min(r.blocks, (g + 1) * kGroupBlocks);
        stage_range(buf, r.src, b0 * Fmt::kBlockBytes, b1 * Fmt::kBlockBytes, r.src_vec16, l);
      } else {
        stage_tile(buf, r.src, r.blocks * Fmt::kBlockBytes, r.src_vec16);
      }
    }
    cp_async_commit();  // one group per tile slot, empty past the end, so wait counts stay exact
  };

  // Keep kRing - 1 tiles in flight ahead of the one being decoded.
  for (int i = 0; i < kRing - 1; ++i) stage(i);

  if constexpr (Fmt::kTableBytes > 0) {
    // The lookup grid is gathered with data-dependent indices: keep it in shared memory.
    const uint4 *g = reinterpret_cast<const uint4 *>(table_global);
    uint4 *s = reinterpret_cast<uint4 *>(table);
    for (int i = threadIdx.x; i < Fmt::kTableBytes / 16; i += kThreads) s[i] = load_readonly(g + i);
    if constexpr (kWarpPipeline) __syncthreads();  // the loop below has no block-wide barrier
  }
  // Every output goes through a per-warp staging area (see stage_chunk).
  using Elem = typename OutPack<kOut>::Elem;
  constexpr int kElemsPerChunk = 16 / static_cast<int>(sizeof(Elem));
  constexpr int kChunksPerGroup = 8 / kElemsPerChunk;   // 16-byte chunks per 8 elements
  constexpr int kChunksPerRow = 4 * kChunksPerGroup;     // per lane's 32 elements
  constexpr int kWarpChunks = kGroupLanes * kChunksPerRow;
  // Unsigned division and remainder (threadIdx.x is unsigned): a shift and a mask.
  const int warp = static_cast<int>(threadIdx.x / kGroupLanes), lane = static_cast<int>(threadIdx.x % kGroupLanes);
  uint4 *const area = reinterpret_cast<uint4 *>(ring + kRing * Shape::kBufBytes) + warp * kWarpChunks;

  for (int i = 0, t = first; t < n_tiles; ++i, t += step) {
    stage(i + kRing - 1);
    cp_async_wait<kRing - 1>();
    if constexpr (kWarpPipeline) sync_group(); else __syncthreads();

    const uint8_t *buf = ring + (i % kRing) * Shape::kBufBytes;
    const auto tile = tiles(t);
    const int tile_elems = tile.blocks * Fmt::kBlockElems;
    const bool dst_vec16 = tile.dst_vec16;
    Elem *out = tile.dst + kWarpElems * warp;
    if constexpr (kOut != 0 && !HasSub<Fmt>::value) {
      // 16-bit output of a format without a per-sub-block part: consecutive lanes decode
      // consecutive groups and store them directly (512 contiguous bytes per warp store).
#pragma unroll
      for (int k = 0; k < 4; ++k) {
        const int g = kWarpPipeline ? warp * (kWarpElems / 8) + lane + k * kGroupLanes
                                    : static_cast<int>(threadIdx.x) + k * kThreads;
        const int e = 8 * g;
        if (e >= tile_elems) continue;
        const uint8_t *blk = buf + (e / Fmt::kBlockElems) * Fmt::kBlockBytes;
        uint4 c[1];
        if constexpr (kHas16BitPath<Fmt, kOut>) {
          uint32_t h[4];
          decode8_16bit<Fmt, kOut>(blk, e % Fmt::kBlockElems, h, table);
          c[0] = make_uint4(h[0], h[1], h[2], h[3]);
        } else {
          float v[8];
          Fmt::decode8(blk, e % Fmt::kBlockElems, v, table);
          OutPack<kOut>::pack(v, c);
        }
        Elem *o = tile.dst + e;
        if (dst_vec16) {
          store16(reinterpret_cast<uint4 *>(o), c[0], streaming);
        } else {
          const uint32_t words[4] = {c[0].x, c[0].y, c[0].z, c[0].w};
#pragma unroll
          for (int q = 0; q < 4; ++q) {
            o[2 * q] = static_cast<uint16_t>(words[q]);
            o[2 * q + 1] = static_cast<uint16_t>(words[q] >> 16);
          }
        }
      }
    } else {
      // This lane's 32 elements: one block's (block sizes are multiples of 32), so formats
      // with a `sub` decode the block pointer and sub-block scales once for 4 groups.
      const int e0 = kWarpElems * warp + 32 * lane;
      if (e0 < tile_elems) {
        const uint8_t *blk = buf + (e0 / Fmt::kBlockElems) * Fmt::kBlockBytes;
        decode_lane32<Fmt, kOut, kChunksPerRow>(blk, e0 % Fmt::kBlockElems, table, area, lane);
      }
      sync_group();
      // The warp's 1024 elements leave in order: each store instruction covers 512 contiguous bytes.
      const int warp_elems = tile_elems - kWarpElems * warp;
      if (dst_vec16) {
#pragma unroll
        for (int r = 0; r < kChunksPerRow; ++r) {
          const int c = lane + kGroupLanes * r;
          if (c * kElemsPerChunk < warp_elems)
            store16(reinterpret_cast<uint4 *>(out) + c,
                    area[stage_chunk<kChunksPerRow>(c / kChunksPerRow, c % kChunksPerRow)], streaming);
        }
      } else {
        const Elem *a = reinterpret_cast<const Elem *>(area);
        for (int o = lane; o < kWarpElems && o < warp_elems; o += kGroupLanes) {
          const int c = o / kElemsPerChunk;
          out[o] = a[stage_chunk<kChunksPerRow>(c / kChunksPerRow, c % kChunksPerRow) * kElemsPerChunk +
                     o % kElemsPerChunk];
        }
      }
    }
    // The ring buffer and the area are refilled next iteration.
    if constexpr (kWarpPipeline) sync_group(); else __syncthreads();
  }
  cp_async_wait<0>();
}

template <typename Fmt, int kOut>
__global__ void DQ_LAUNCH_BOUNDS(kThreads, kTileMinBlocksPerSm)
    dequant_tiles(const uint8_t *__restrict__ src, typename OutPack<kOut>::Elem *__restrict__ dst,
                  int64_t n_blocks, const uint8_t *__restrict__ table_global, bool src_vec16,
                  bool dst_vec16, bool streaming) {
  using Elem = typename OutPack<kOut>::Elem;
  using Shape = TileShape<Fmt, sizeof(Elem)>;
  const int n_tiles = static_cast<int>((n_blocks + Shape::kBlocks - 1) / Shape::kBlocks);
  const SingleTiles<Fmt, Elem> tiles{src, dst, n_blocks, src_vec16, dst_vec16};
  tile_loop<Fmt, kOut, SingleTiles<Fmt, Elem>, kTileRing>(tiles, n_tiles, table_global, streaming);
}

// Thread blocks for one launch of a tile kernel over n_tiles tiles (at most INT_MAX: the
// kernels count tiles in an int, and gridDim.x holds that many). One-shot: a block per tile.
// HIP: the persistent grid, at most *blocks_per_sm blocks a multiprocessor walking the tiles
// (tile_loop strides by gridDim.x), capped by env.blocks_per_sm_cap (-1: 2, measured best for
// the cp.async loop on the H100). *blocks_per_sm is the caller's cache for its kernel (0 until
// the first launch); filling it also prepares the kernel for smem_bytes of dynamic shared
// memory (gpu_runtime.hpp), which the one-shot launch needs as well.
template <typename Kernel>
Error tile_grid(Kernel kernel, int smem_bytes, int64_t n_tiles, const LaunchEnv &env, int *blocks_per_sm,
                unsigned *grid) {
  if (*blocks_per_sm == 0) {
    int fit = 0;
    const Error e = max_blocks_per_multiprocessor(kernel, kThreads, smem_bytes, &fit);
    if (e != kSuccess) return e;
    const int cap = env.blocks_per_sm_cap >= 0 ? env.blocks_per_sm_cap : 2;
    if (cap > 0 && fit > cap) fit = cap;
    *blocks_per_sm = fit < 1 ? 1 : fit;
  }
  const int64_t max_grid = static_cast<int64_t>(env.sm_count) * *blocks_per_sm;
  *grid = static_cast<unsigned>(kOneShot || n_tiles < max_grid ? n_tiles : max_grid);
  return kSuccess;
}

// Launches Fmt -> kOut over n_blocks blocks. `table` is the device copy of Fmt's grid (or
// null when Fmt has none).
template <typename Fmt, int kOut>
Error launch_tiles(const void *src, void *dst, int64_t n_blocks, const uint8_t *table,
                         const LaunchEnv &env) {
  using Shape = TileShape<Fmt, sizeof(typename OutPack<kOut>::Elem), kTileRing>;
  auto kernel = dequant_tiles<Fmt, kOut>;
  static thread_local int blocks_per_sm = 0;  // per instantiation; same on every device we target
  // Tile counts fit 32 bits (dequant_tiles counts them in an int).
  const int64_t n_tiles = (n_blocks + Shape::kBlocks - 1) / Shape::kBlocks;
  unsigned grid = 0;
  if (const Error e = tile_grid(kernel, Shape::kSmemBytes, n_tiles, env, &blocks_per_sm, &grid); e != kSuccess)
    return e;
  const bool src_vec16 = (reinterpret_cast<uintptr_t>(src) & 15) == 0;
  const bool dst_vec16 = (reinterpret_cast<uintptr_t>(dst) & 15) == 0;
  kernel<<<grid, kThreads, Shape::kSmemBytes, env.stream>>>(
      static_cast<const uint8_t *>(src), static_cast<typename OutPack<kOut>::Elem *>(dst), n_blocks,
      table, src_vec16, dst_vec16, env.streaming_stores);
  return last_error();
}

template <typename Fmt>
Error launch_format(int32_t out_type, const void *src, void *dst, int64_t n_blocks,
                          const uint8_t *table, const LaunchEnv &env) {
  switch (out_type) {
    case 0: return launch_tiles<Fmt, 0>(src, dst, n_blocks, table, env);
    case 1: return launch_tiles<Fmt, 1>(src, dst, n_blocks, table, env);
    case 30: return launch_tiles<Fmt, 30>(src, dst, n_blocks, table, env);
    default: return kErrorInvalidValue;
  }
}

// As launch_format, fetching Fmt's device table first when it has one.
template <typename Fmt>
Error launch_format_auto(int32_t out_type, const void *src, void *dst, int64_t n_blocks,
                               const LaunchEnv &env) {
  const uint8_t *table = nullptr;
  if constexpr (Fmt::kTableBytes > 0) {
    Error e = kSuccess;
    table = iq_grid_device(Fmt::kType, &e);
    if (e != kSuccess) return e;
  }
  return launch_format<Fmt>(out_type, src, dst, n_blocks, table, env);
}

}  // namespace dq::gpu
