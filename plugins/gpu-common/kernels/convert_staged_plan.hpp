// Index arithmetic of the staged element-conversion kernel (kernels_float.cu's
// convert_elements_staged, which converts every pair of 16-byte aligned buffers): one thread
// block per fixed chunk of elements, the chunk's source
// staged in shared memory with 16-byte loads, then 16-byte output stores. Kept apart from the
// kernel so the host test (tests/cuda/convert_staged_plan_test.cpp) checks the same code.
#pragma once

#include <cstdint>

#include "gpu_port.hpp"

namespace dq::gpu::staged {

// Elements a block converts: the shape that measured fastest for f16->f32 on the H100
// (plugins/cuda/bench/stream_mix_kernels.cuh, style a256-w16). An f32 source chunk is 32 KiB
// of shared memory, within the 48 KiB a block may declare statically.
inline constexpr int kChunkElems = 8192;
// Every conversion kernel has one 16-bit side, so 8 elements are whole 16-byte words on both
// sides: the staged part of a chunk is a multiple of 8, the rest (< 8) goes one by one.
inline constexpr int kWholeWordElems = 8;

struct ChunkPlan {
  int64_t first = 0;   // the chunk's first element
  int staged = 0;      // elements from `first` converted through shared memory
  int tail = 0;        // elements after those, converted one at a time from global memory
};

// Thread blocks the kernel needs for n elements (its grid).
DQ_DEV_INLINE int64_t chunk_count(int64_t n) { return (n + kChunkElems - 1) / kChunkElems; }

// Whether a conversion of n elements from `src` to `dst` runs the staged kernel: both buffers
// 16-byte aligned (its loads and stores are 16-byte vectors) and at least one and at most
// INT32_MAX chunks (the grid). Anything else runs the grid-stride convert_elements, which
// reads any address.
DQ_DEV_INLINE bool runs_staged(uintptr_t src, uintptr_t dst, int64_t n) {
  const int64_t chunks = chunk_count(n);
  return ((src | dst) & 15) == 0 && chunks >= 1 && chunks <= INT32_MAX;
}

// What block `chunk` of a launch over n elements converts (chunk < chunk_count(n)).
DQ_DEV_INLINE ChunkPlan chunk_plan(int64_t chunk, int64_t n) {
  ChunkPlan p;
  p.first = chunk * kChunkElems;
  const int64_t left = n - p.first;
  const int count = left < kChunkElems ? static_cast<int>(left) : kChunkElems;
  p.staged = count / kWholeWordElems * kWholeWordElems;
  p.tail = count - p.staged;
  return p;
}

// Calls f(i) for the items i < `items` that thread `thread` of a kThreads-thread block owns:
// thread, thread + kThreads, ... (consecutive threads on consecutive items: coalesced 16-byte
// accesses). kWhole: items == kItems, a constant, so the loop unrolls fully and a thread's
// loads are all in flight at once, as in the lab kernel.
template <int kThreads, bool kWhole, int kItems, typename F>
DQ_DEV_INLINE void for_each_mine(int thread, int items, F &&f) {
  if constexpr (kWhole) {
    DQ_UNROLL
    for (int k = 0; k < kItems / kThreads; ++k) f(k * kThreads + thread);
    if constexpr (kItems % kThreads != 0) {
      const int i = kItems / kThreads * kThreads + thread;
      if (i < kItems) f(i);
    }
  } else {
    for (int i = thread; i < items; i += kThreads) f(i);
  }
}

}  // namespace dq::gpu::staged
