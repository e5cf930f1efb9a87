// dq-cuda-stream-mix's kernels run on the host: each CUDA thread a std::thread (a block's
// threads at once, so __syncthreads is a real barrier; blocks in turn). Every styled kernel
// and the real Q8_0 dequantizers must reproduce the host decoder bit for bit, so an indexing
// or tail bug shows here, under ASan too, before the one device call that times them.
// Exit status 0 when all agree, 1 otherwise (one line per failing kernel).
#include <cuda_fp16.h>
#include <vector_types.h>

#include <barrier>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

// The CUDA keywords and built-ins the kernels use, for a host compiler.
#undef __global__
#define __global__
#undef __shared__
#define __shared__ static  // one block runs at a time, so a static is that block's shared memory
#define __launch_bounds__(...)
thread_local dim3 threadIdx, blockIdx;
dim3 gridDim, blockDim;
std::barrier<> *g_block_barrier = nullptr;
inline void __syncthreads() { g_block_barrier->arrive_and_wait(); }
template <class T> T __ldg(const T *p) { return *p; }
template <class T> void __stcs(T *p, T v) { *p = v; }
inline unsigned __float_as_uint(float f) {
  unsigned u;
  std::memcpy(&u, &f, 4);
  return u;
}
// For the helper kernels the header also defines; the emulation never runs them.
unsigned long long atomicAdd(unsigned long long *p, unsigned long long v);
unsigned long long atomicMin(unsigned long long *p, unsigned long long v);
long long clock64() { return 0; }

#include "stream_mix_q8_0.cuh"

namespace {

using namespace stream_mix;

void launch(int grid, int threads, const std::function<void()> &kernel) {
  gridDim = dim3(unsigned(grid));
  blockDim = dim3(unsigned(threads));
  for (int b = 0; b < grid; ++b) {
    std::barrier<> barrier(threads);
    g_block_barrier = &barrier;
    std::vector<std::thread> block;
    for (int t = 0; t < threads; ++t)
      block.emplace_back([&kernel, t, b] {
        threadIdx = dim3(unsigned(t));
        blockIdx = dim3(unsigned(b));
        kernel();
      });
    for (auto &th : block) th.join();
  }
}

int failures = 0;

template <class M>
void expect_decoded(const char *kernel, const std::vector<uint8_t> &src, const std::vector<typename M::Out> &out) {
  int64_t bad = 0;
  for (size_t e = 0; e < out.size(); ++e) {
    float v;
    M::template decode<1>(src.data() + e / M::kBlockElems * M::kBlockBytes, int(e % M::kBlockElems), &v);
    uint32_t want, have = 0;
    bool both_nan;
    if constexpr (sizeof(typename M::Out) == 2) {
      want = host_float_to_half(v);
      std::memcpy(&have, &out[e], 2);
      both_nan = (want & 0x7fff) > 0x7c00 && (have & 0x7fff) > 0x7c00;
    } else {
      std::memcpy(&want, &v, 4);
      std::memcpy(&have, &out[e], 4);
      both_nan = (want & 0x7fffffffu) > 0x7f800000u && (have & 0x7fffffffu) > 0x7f800000u;
    }
    if (want != have && !both_nan && bad++ == 0)
      std::printf("FAIL %s %s: output %zu is 0x%x, the host decoder says 0x%x\n", M::kName, kernel, e, have, want);
  }
  if (bad) {
    std::printf("FAIL %s %s: %lld of %zu outputs differ\n", M::kName, kernel, (long long)bad, out.size());
    ++failures;
  }
}

// Three tiles of the largest style (so the persistent grid of 2 blocks loops unevenly).
template <class M>
void check_mix() {
  using Out = typename M::Out;
  constexpr int64_t n = 3 * 65536;
  std::mt19937 rng(3);
  std::vector<uint8_t> src(size_t(source_bytes<M>(n)));
  for (auto &b : src) b = uint8_t(rng());
  const uint8_t *s = src.data();
  auto run = [&](const char *name, int grid, int threads, auto &&kernel) {
    std::vector<Out> out(static_cast<size_t>(n));  // exact size: ASan sees a write past the end
    Out *d = out.data();
    launch(grid, threads, [&] { kernel(s, d); });
    expect_decoded<M>(name, src, out);
  };
  run("a32-w4", int(n / (32 * 64)), 32, [](auto s, auto d) { style_a<M, 32, 4>(s, d); });
  run("a32-w16", int(n / (32 * 64)), 32, [](auto s, auto d) { style_a<M, 32, 16>(s, d); });
  run("a128-w8", int(n / (128 * 64)), 128, [](auto s, auto d) { style_a<M, 128, 8>(s, d); });
  run("a256-w16", int(n / (256 * 32)), 256, [](auto s, auto d) { style_a<M, 256, 16, 32>(s, d); });
  const int64_t tiles = n / kTileElems<M>, tiles64 = n / kTileElems<M, 64>;
  run("b", int(tiles), 256, [=](auto s, auto d) { style_b<M, LoadHint::nc, StoreHint::plain, false>(s, d, tiles); });
  run("b-t64", int(tiles64), 64,
      [=](auto s, auto d) { style_b<M, LoadHint::nc, StoreHint::plain, false, 64>(s, d, tiles64); });
  run("c (2 blocks)", 2, 256,
      [=](auto s, auto d) { style_b<M, LoadHint::nc, StoreHint::streaming, true>(s, d, tiles); });
  run("reference", 7, 256, [](auto s, auto d) { reference<M>(s, d, n); });
}

// The real Q8_0 kernels at block counts that leave every kind of tail.
void check_real_q8_0() {
  for (int nb : {1, 7, 8, 9, 63, 64, 65, 2053, 4099}) {
    std::mt19937 rng{static_cast<unsigned>(nb)};
    std::vector<uint8_t> src(static_cast<size_t>(nb) * 34);
    for (auto &b : src) b = uint8_t(rng());
    for (int kernel = 0; kernel < 2; ++kernel) {
      std::vector<__half> out(static_cast<size_t>(nb) * 32);
      const uint8_t *s = src.data();
      __half *d = out.data();
      if (kernel == 0) launch((nb + 63) / 64, 32, [&] { q8_0_f16_a32(s, d, nb); });
      else launch(((nb + 7) / 8 + 255) / 256, 256, [&] { q8_0_f16_b<false>(s, d, nb); });
      const std::string name = std::string(kernel ? "real-b" : "real-a32") + " at " + std::to_string(nb) + " blocks";
      expect_decoded<Q8_0ToF16>(name.c_str(), src, out);
    }
  }
}

}  // namespace

int main() {
  check_mix<Q8_0ToF16>();
  check_mix<Q4_KToF16>();
  check_mix<Q4_0ToF16>();
  check_mix<F16ToF32>();
  check_mix<F32ToF16>();
  check_mix<Q8_0ToF32>();
  check_real_q8_0();
  std::printf("%s\n", failures ? "FAILED" : "all kernels agree with the host decoder");
  return failures ? 1 : 0;
}
