// Hopper (sm_90) bulk copies for the tile kernel, behind the build knob DQ_GPU_BULK_COPY
// (default 1): one elected thread moves a whole tile global -> shared with the TMA engine
// (cp.async.bulk, completion counted in bytes on an mbarrier) and a warp's decoded output
// shared -> global (cp.async.bulk bulk_group), so the other threads spend no issue slots on
// copies and more bytes are in flight per multiprocessor than 16-byte cp.async allows.
//
// DQ_GPU_BULK_PATH is 1 only in sm_90+ device code of a CUDA build with the knob on; the HIP
// build, older architectures and the host pass see 0 (DQ_GPU_BULK_KNOB: the knob in any pass). The helpers below exist for every GPU
// compiler so that tile_kernel.cuh can name them in discarded `if constexpr` branches; their
// bodies are empty where DQ_GPU_BULK_PATH is 0 (never reached there).
//
// Requirements (the caller checks them and otherwise takes the cp.async / st.global path):
// shared and global addresses 16-byte aligned, sizes multiples of 16 bytes.
#pragma once

#include <cstdint>

#include "gpu_port.hpp"

// The default of the persistent grid (DQ_GPU_ONE_SHOT=0) since 2026-12-05: with the producer
// warp and 3 blocks per multiprocessor it moved the H200's 256M-element median from 86.9% to
// 89.7% of the same-run copy, every type bit-exact (docs/PERFORMANCE.md). The one-shot kernel
// (tile_kernel.cuh, the default) does without it. -DDQ_GPU_BULK_COPY=0 builds the cp.async
// tile loop alone.
#ifndef DQ_GPU_ONE_SHOT
#define DQ_GPU_ONE_SHOT 1
#endif
#ifndef DQ_GPU_BULK_COPY
#define DQ_GPU_BULK_COPY (DQ_GPU_ONE_SHOT ? 0 : 1)
#endif

// The knob as the CUDA build sees it (host and device passes alike); HIP ignores it.
#if DQ_GPU_BULK_COPY && !defined(DQ_GPU_HIP) && !defined(__HIPCC__)
#define DQ_GPU_BULK_KNOB 1
#else
#define DQ_GPU_BULK_KNOB 0
#endif
#if DQ_GPU_BULK_KNOB && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define DQ_GPU_BULK_PATH 1
#else
#define DQ_GPU_BULK_PATH 0
#endif

namespace dq::gpu {

#if defined(__CUDACC__) || defined(__HIPCC__)

#if DQ_GPU_BULK_PATH
DQ_DEVICE_INLINE uint32_t smem_addr(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
#endif

// ---- mbarriers: phases counted in arrivals and, for bulk copies, in bytes.

// Initializes `bar` for `count` arrivals; make it visible to the async proxy with
// mbarrier_init_fence() and to the block with a barrier before use.
DQ_DEVICE_INLINE void mbarrier_init(uint64_t *bar, uint32_t count) {
#if DQ_GPU_BULK_PATH
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(count) : "memory");
#else
  (void)bar, (void)count;
#endif
}

DQ_DEVICE_INLINE void mbarrier_init_fence() {
#if DQ_GPU_BULK_PATH
  asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}

// Ends the barrier's life before its shared memory may be reused (kernel end).
DQ_DEVICE_INLINE void mbarrier_inval(uint64_t *bar) {
#if DQ_GPU_BULK_PATH
  asm volatile("mbarrier.inval.shared::cta.b64 [%0];\n" ::"r"(smem_addr(bar)) : "memory");
#else
  (void)bar;
#endif
}

// Arrives on `bar` and announces `bytes` of transactions still to land in this phase.
DQ_DEVICE_INLINE void mbarrier_arrive_expect_tx(uint64_t *bar, uint32_t bytes) {
#if DQ_GPU_BULK_PATH
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(smem_addr(bar)), "r"(bytes)
               : "memory");
#else
  (void)bar, (void)bytes;
#endif
}

// Arrives on `bar` (release: this thread's earlier writes are seen by the phase's waiters).
DQ_DEVICE_INLINE void mbarrier_arrive(uint64_t *bar) {
#if DQ_GPU_BULK_PATH
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(smem_addr(bar)) : "memory");
#else
  (void)bar;
#endif
}

// Blocks until the phase with parity `parity` of `bar` has completed (its arrival and all
// announced bytes). Acquire semantics: the bulk-copied bytes are visible afterwards.
DQ_DEVICE_INLINE void mbarrier_wait_parity(uint64_t *bar, uint32_t parity) {
#if DQ_GPU_BULK_PATH
  const uint32_t a = smem_addr(bar);
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(a), "r"(parity)
        : "memory");
  } while (!done);
#else
  (void)bar, (void)parity;
#endif
}

// ---- bulk copies

// `bytes` (a multiple of 16) global -> shared, completing as transactions on `bar`.
DQ_DEVICE_INLINE void bulk_copy_g2s(void *smem_dst, const void *gmem_src, uint32_t bytes, uint64_t *bar) {
#if DQ_GPU_BULK_PATH
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(
          smem_addr(smem_dst)),
      "l"(gmem_src), "r"(bytes), "r"(smem_addr(bar))
      : "memory");
#else
  (void)smem_dst, (void)gmem_src, (void)bytes, (void)bar;
#endif
}

// Orders this thread's generic-proxy shared-memory writes before later bulk copies (async
// proxy) that read them: every writer fences, then the group synchronizes, then one copies.
DQ_DEVICE_INLINE void fence_proxy_async_shared() {
#if DQ_GPU_BULK_PATH
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
#endif
}

// `bytes` (a multiple of 16) shared -> global in this thread's current bulk group;
// `evict_first` marks the lines first to leave L2 (the output is never read back here).
DQ_DEVICE_INLINE void bulk_copy_s2g(void *gmem_dst, const void *smem_src, uint32_t bytes, bool evict_first) {
#if DQ_GPU_BULK_PATH
  if (evict_first) {
    uint64_t policy;
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group.L2::cache_hint [%0], [%1], %2, %3;\n" ::"l"(gmem_dst),
                 "r"(smem_addr(smem_src)), "r"(bytes), "l"(policy)
                 : "memory");
  } else {
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;\n" ::"l"(gmem_dst),
                 "r"(smem_addr(smem_src)), "r"(bytes)
                 : "memory");
  }
#else
  (void)gmem_dst, (void)smem_src, (void)bytes, (void)evict_first;
#endif
}

DQ_DEVICE_INLINE void bulk_commit_group() {
#if DQ_GPU_BULK_PATH
  asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
#endif
}

// Waits until at most N of this thread's bulk groups still read their shared-memory source
// (the global writes may still be in flight: the source may be overwritten afterwards).
template <int N>
DQ_DEVICE_INLINE void bulk_wait_group_read() {
#if DQ_GPU_BULK_PATH
  asm volatile("cp.async.bulk.wait_group.read %0;\n" ::"n"(N) : "memory");
#endif
}

// Waits until at most N of this thread's bulk groups are incomplete (global writes done).
template <int N>
DQ_DEVICE_INLINE void bulk_wait_group() {
#if DQ_GPU_BULK_PATH
  asm volatile("cp.async.bulk.wait_group %0;\n" ::"n"(N) : "memory");
#endif
}

#endif  // a GPU compiler

}  // namespace dq::gpu
