// What a fresh process pays before and around its first load (run by hand on the GPU machine;
// not part of the build): pinned staging from cudaHostAlloc against anonymous memory pinned with
// cudaHostRegister, one large cudaMalloc against segments, and whether allocating on a second
// thread stalls uploads queued by the first.
//   setup_probe [GB]   (output size, default 7.2)
#include <cuda_runtime.h>
#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "probe_util.cuh"

// Anonymous memory at a 2 MiB boundary, asked for as huge pages, touched, then registered.
static void *anon_pinned(size_t bytes, bool huge, double *ms_map, double *ms_touch,
                         double *ms_register) {
  auto t = Clock::now();
  const size_t align = 2u << 20;
  void *raw = mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) std::exit(2);
  auto *p = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(raw) + align - 1) & ~(align - 1));
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);
  *ms_map = ms_since(t);
  t = Clock::now();
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 0;
  *ms_touch = ms_since(t);
  t = Clock::now();
  CK(cudaHostRegister(p, bytes, cudaHostRegisterDefault));
  *ms_register = ms_since(t);
  return p;
}

// Uploads `total` bytes in `chunk` pieces from a pinned ring of 4 slots; returns ms.
static double upload(void *dst, uint8_t *ring, size_t chunk, size_t total, cudaStream_t s) {
  cudaEvent_t ev[4];
  for (auto &e : ev) CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  const auto t = Clock::now();
  size_t k = 0;
  for (size_t off = 0; off < total; off += chunk, ++k) {
    CK(cudaEventSynchronize(ev[k % 4]));  // slot free again (a real loader refills it here)
    CK(cudaMemcpyAsync(static_cast<uint8_t *>(dst) + off, ring + (k % 4) * chunk, chunk,
                       cudaMemcpyHostToDevice, s));
    CK(cudaEventRecord(ev[k % 4], s));
  }
  CK(cudaStreamSynchronize(s));
  const double ms = ms_since(t);
  for (auto &e : ev) CK(cudaEventDestroy(e));
  return ms;
}

int main(int argc, char **argv) {
  const size_t out = static_cast<size_t>((argc > 1 ? std::atof(argv[1]) : 7.2) * 1e9) >> 21 << 21;
  auto t = Clock::now();
  CK(cudaFree(nullptr));
  std::printf("context start-up: %.1f ms\n", ms_since(t));
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));

  // 1. Pinned staging: cudaHostAlloc against anonymous memory + cudaHostRegister.
  for (size_t mib : {16, 64}) {
    void *p = nullptr;
    t = Clock::now();
    CK(cudaHostAlloc(&p, mib << 20, cudaHostAllocDefault));
    const double ha = ms_since(t);
    t = Clock::now();
    CK(cudaFreeHost(p));
    const double hf = ms_since(t);
    std::printf("cudaHostAlloc %3zu MiB: %.2f ms (free %.2f ms)\n", mib, ha, hf);
    for (bool huge : {false, true}) {
      double m, touch, reg;
      void *q = anon_pinned(mib << 20, huge, &m, &touch, &reg);
      t = Clock::now();
      CK(cudaHostUnregister(q));
      std::printf("anon %3zu MiB %s: map %.2f + touch %.2f + register %.2f = %.2f ms (unregister %.2f)\n",
                  mib, huge ? "huge" : "4k  ", m, touch, reg, m + touch + reg, ms_since(t));
    }
  }

  // 2. Output allocation: one call against 16 segments.
  void *big = nullptr;
  t = Clock::now();
  CK(cudaMalloc(&big, out));
  std::printf("cudaMalloc %.2f GB in one call: %.2f ms\n", out / 1e9, ms_since(t));
  t = Clock::now();
  CK(cudaFree(big));
  std::printf("cudaFree: %.2f ms\n", ms_since(t));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<void *> seg(16);
  t = Clock::now();
  for (auto &p : seg) CK(cudaMalloc(&p, out / 16));
  std::printf("cudaMalloc in 16 segments: %.2f ms\n", ms_since(t));
  for (auto p : seg) CK(cudaFree(p));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // 3. Uploads (2 GiB from a 4 x 16 MiB pinned ring) alone, and while another thread allocates.
  const size_t total = 2ull << 30, chunk = 16u << 20;
  void *dst = nullptr;
  uint8_t *ring = nullptr;
  CK(cudaMalloc(&dst, total));
  CK(cudaHostAlloc(reinterpret_cast<void **>(&ring), 4 * chunk, cudaHostAllocDefault));
  std::memset(ring, 1, 4 * chunk);
  upload(dst, ring, chunk, total, s);  // warm-up
  for (int r = 0; r < 3; ++r) {
    const double alone = upload(dst, ring, chunk, total, s);
    std::vector<void *> parts(16);
    std::atomic<bool> go{false};
    double alloc_ms = 0;
    std::thread th([&] {
      while (!go.load()) {
      }
      const auto ta = Clock::now();
      for (auto &p : parts) CK(cudaMalloc(&p, out / 16));
      alloc_ms = ms_since(ta);
    });
    go = true;
    const double with_alloc = upload(dst, ring, chunk, total, s);
    th.join();
    std::printf("upload 2 GiB: alone %.2f ms (%.1f GB/s); while another thread mallocs %.2f GB in "
                "16 segments (%.2f ms): %.2f ms (%.1f GB/s)\n",
                alone, total / alone / 1e6, out / 1e9, alloc_ms, with_alloc,
                total / with_alloc / 1e6);
    for (auto p : parts) CK(cudaFree(p));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Same with one big malloc.
    void *one = nullptr;
    go = false;
    std::thread th2([&] {
      while (!go.load()) {
      }
      const auto ta = Clock::now();
      CK(cudaMalloc(&one, out));
      alloc_ms = ms_since(ta);
    });
    go = true;
    const double with_big = upload(dst, ring, chunk, total, s);
    th2.join();
    std::printf("  while another thread mallocs %.2f GB in one call (%.2f ms): %.2f ms (%.1f GB/s)\n",
                out / 1e9, alloc_ms, with_big, total / with_big / 1e6);
    CK(cudaFree(one));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // And while another thread pins 64 MiB of anonymous memory.
    go = false;
    void *pinned = nullptr;
    std::thread th3([&] {
      while (!go.load()) {
      }
      double m, touch, reg;
      const auto ta = Clock::now();
      pinned = anon_pinned(64u << 20, true, &m, &touch, &reg);
      alloc_ms = ms_since(ta);
    });
    go = true;
    const double with_pin = upload(dst, ring, chunk, total, s);
    th3.join();
    std::printf("  while another thread pins 64 MiB anonymous (%.2f ms): %.2f ms (%.1f GB/s)\n",
                alloc_ms, with_pin, total / with_pin / 1e6);
    CK(cudaHostUnregister(pinned));
  }
  CK(cudaFreeHost(ring));

  // 4. Does the kind of pinned memory change the upload or the host copy into it? A 2 GiB
  // source in anonymous memory, copied by `threads` threads into 4 x 16 MiB slots and uploaded
  // (the loader's pipeline without dequantizing), against bare uploads from the same slots.
  const int threads = argc > 2 ? std::atoi(argv[2]) : 12;
  uint8_t *src = static_cast<uint8_t *>(std::aligned_alloc(2u << 20, total));
  madvise(src, total, MADV_HUGEPAGE);
  std::memset(src, 3, total);
  struct Kind {
    const char *name;
    uint8_t *p;
  };
  std::vector<Kind> kinds;
  {
    void *p = nullptr;
    CK(cudaHostAlloc(&p, 4 * chunk, cudaHostAllocPortable));
    kinds.push_back({"cudaHostAlloc portable", static_cast<uint8_t *>(p)});
    for (int k = 0; k < 3; ++k) {
      const bool huge = k != 2;
      const unsigned flags = k == 0 ? cudaHostRegisterPortable | cudaHostRegisterReadOnly
                                    : cudaHostRegisterPortable;
      void *raw = mmap(nullptr, 4 * chunk + (2u << 20), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      auto *q = reinterpret_cast<uint8_t *>((reinterpret_cast<uintptr_t>(raw) + (2u << 20) - 1) &
                                            ~uintptr_t((2u << 20) - 1));
      if (huge) madvise(q, 4 * chunk, MADV_HUGEPAGE);
      for (size_t i = 0; i < 4 * chunk; i += 4096) q[i] = 0;
      for (int sl = 0; sl < 4; ++sl) CK(cudaHostRegister(q + sl * chunk, chunk, flags));
      kinds.push_back({k == 0 ? "registered huge read-only" : k == 1 ? "registered huge" : "registered 4k",
                       q});
    }
  }
  auto pipeline = [&](uint8_t *slots) {
    cudaEvent_t ev[4];
    for (auto &e : ev) CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    const auto t0 = Clock::now();
    size_t k = 0;
    for (size_t off = 0; off < total; off += chunk, ++k) {
      uint8_t *slot = slots + (k % 4) * chunk;
      CK(cudaEventSynchronize(ev[k % 4]));
      std::vector<std::thread> ts;
      const size_t part = chunk / threads / 4096 * 4096;
      for (int t = 0; t < threads; ++t) {
        const size_t a = t * part, b = t + 1 == threads ? chunk : a + part;
        ts.emplace_back([=] { std::memcpy(slot + a, src + off + a, b - a); });
      }
      for (auto &t : ts) t.join();
      CK(cudaMemcpyAsync(static_cast<uint8_t *>(dst) + off, slot, chunk, cudaMemcpyHostToDevice, s));
      CK(cudaEventRecord(ev[k % 4], s));
    }
    CK(cudaStreamSynchronize(s));
    const double ms = ms_since(t0);
    for (auto &e : ev) CK(cudaEventDestroy(e));
    return ms;
  };
  for (auto &kd : kinds) upload(dst, kd.p, chunk, total, s), pipeline(kd.p);  // warm-up
  for (int r = 0; r < 4; ++r)
    for (auto &kd : kinds) {
      const double up = upload(dst, kd.p, chunk, total, s);
      const double pipe = pipeline(kd.p);
      std::printf("slots %-26s: upload 2 GiB %.2f ms (%.1f GB/s); copy %d thr + upload %.2f ms "
                  "(%.1f GB/s)\n",
                  kd.name, up, total / up / 1e6, threads, pipe, total / pipe / 1e6);
    }
  std::printf("probe done\n");
  return 0;
}
