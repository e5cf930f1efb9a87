// What registering a model's file mapping with CUDA costs, apart from the loader (run by
// scripts/device-hybrid.sh; not part of the build): per-window cost by mapping kind and flags,
// whether pinning scales over threads, and a zero-copy pipeline (threads pin windows in order,
// the main thread uploads each straight from the page cache, another thread unpins behind the
// uploads) against the pinned host-to-device copy measured in the same run. A watchdog names
// the step and exits when one step stalls for 20 s.
//   register_probe FILE   (FILE: >= 1 GB, in the page cache)
#include <cuda_runtime.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "probe_util.cuh"

// Watchdog: every step sets its name; no progress for 20 s ends the process naming it.
static std::atomic<const char *> g_step{"start"};
static std::atomic<long> g_beat{0};
static void step(const char *name) {
  g_step.store(name);
  g_beat.fetch_add(1);
  std::fprintf(stderr, "probe: step %s\n", name);
}
static void watchdog() {
  long last = -1;
  int still = 0;
  for (;;) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const long b = g_beat.load();
    still = b == last ? still + 1 : 0;
    last = b;
    if (still >= 20) {
      std::fprintf(stderr, "probe: STUCK for 20 s in step '%s'\n", g_step.load());
      std::fflush(stderr);
      _exit(3);
    }
  }
}

static double h2d_pinned_gbs(uint8_t *dev, size_t bytes) {
  void *h = nullptr;
  CK(cudaHostAlloc(&h, bytes, cudaHostAllocDefault));
  std::memset(h, 1, bytes);
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  std::vector<float> ms;
  for (int i = 0; i < 7; ++i) {
    CK(cudaEventRecord(a));
    CK(cudaMemcpyAsync(dev, h, bytes, cudaMemcpyHostToDevice));
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float m = 0;
    CK(cudaEventElapsedTime(&m, a, b));
    ms.push_back(m);
  }
  std::sort(ms.begin(), ms.end());
  CK(cudaFreeHost(h));
  return bytes / (ms[3] * 1e-3) / 1e9;
}

// One window, one mapping kind and flag set: register, upload, unregister, each timed.
static void one_window(const char *what, const uint8_t *p, size_t bytes, unsigned flags,
                       uint8_t *dev) {
  step(what);
  auto t = Clock::now();
  cudaError_t e = cudaHostRegister(const_cast<uint8_t *>(p), bytes, flags);
  const double reg = since(t);
  if (e != cudaSuccess) {
    std::printf("%-34s register failed: %s (%.2f ms)\n", what, cudaGetErrorString(e), reg * 1e3);
    (void)cudaGetLastError();
    return;
  }
  t = Clock::now();
  CK(cudaMemcpy(dev, p, bytes, cudaMemcpyHostToDevice));
  const double up = since(t);
  t = Clock::now();
  CK(cudaHostUnregister(const_cast<uint8_t *>(p)));
  const double un = since(t);
  std::printf(
      "%-34s %zu MiB: register %.2f ms (%.1f GB/s), upload %.2f ms (%.1f GB/s), unregister %.2f "
      "ms\n",
      what, bytes >> 20, reg * 1e3, bytes / reg / 1e9, up * 1e3, bytes / up / 1e9, un * 1e3);
}

// The whole range in windows, pinned by `threads` threads (next window from a shared counter),
// then unpinned the same way.
static void pin_scaling(const uint8_t *map, size_t size, size_t window, int threads) {
  static char name[64];
  std::snprintf(name, sizeof name, "pin-scaling %d threads", threads);
  step(name);
  const size_t n = (size + window - 1) / window;
  std::atomic<size_t> next{0};
  auto work = [&](bool reg) {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      uint8_t *p = const_cast<uint8_t *>(map) + i * window;
      const size_t b = std::min(window, size - i * window);
      if (reg)
        CK(cudaHostRegister(p, b, cudaHostRegisterReadOnly));
      else
        CK(cudaHostUnregister(p));
      g_beat.fetch_add(1);
    }
  };
  double t_reg = 0, t_un = 0;
  for (int pass = 0; pass < 2; ++pass) {
    const bool reg = pass == 0;
    next = 0;
    const auto t = Clock::now();
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; ++i) ts.emplace_back(work, reg);
    for (auto &x : ts) x.join();
    (reg ? t_reg : t_un) = since(t);
  }
  std::printf(
      "pin %zu MiB in %zu MiB windows, %2d threads: register %.1f ms (%.1f GB/s), unregister %.1f "
      "ms (%.1f GB/s)\n",
      size >> 20, window >> 20, threads, t_reg * 1e3, size / t_reg / 1e9, t_un * 1e3,
      size / t_un / 1e9);
}

// Zero-copy pipeline: `threads` pin windows in order, the main thread uploads each as soon as it
// is pinned, one more thread unpins each after its upload's event. Total time for the range.
static double zero_copy(const uint8_t *map, size_t size, size_t window, int threads, uint8_t *dev) {
  static char name[64];
  std::snprintf(name, sizeof name, "zero-copy %d threads %zu MiB", threads, window >> 20);
  step(name);
  const size_t n = (size + window - 1) / window;
  std::vector<std::atomic<int>> pinned(n);
  for (auto &x : pinned) x = 0;
  std::vector<cudaEvent_t> ev(n);
  for (auto &e : ev) CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  std::vector<std::atomic<int>> recorded(n);
  for (auto &x : recorded) x = 0;
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::atomic<size_t> next{0};
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; ++i)
    ts.emplace_back([&] {
      for (size_t k; (k = next.fetch_add(1)) < n;) {
        CK(cudaHostRegister(const_cast<uint8_t *>(map) + k * window,
                            std::min(window, size - k * window), cudaHostRegisterReadOnly));
        pinned[k].store(1, std::memory_order_release);
      }
    });
  std::thread unpin([&] {
    for (size_t k = 0; k < n; ++k) {
      while (!recorded[k].load(std::memory_order_acquire)) std::this_thread::yield();
      CK(cudaEventSynchronize(ev[k]));
      CK(cudaHostUnregister(const_cast<uint8_t *>(map) + k * window));
    }
  });
  for (size_t k = 0; k < n; ++k) {
    while (!pinned[k].load(std::memory_order_acquire)) std::this_thread::yield();
    CK(cudaMemcpyAsync(dev + k * window, map + k * window, std::min(window, size - k * window),
                       cudaMemcpyHostToDevice, s));
    CK(cudaEventRecord(ev[k], s));
    recorded[k].store(1, std::memory_order_release);
    g_beat.fetch_add(1);
  }
  for (auto &x : ts) x.join();
  unpin.join();
  CK(cudaStreamSynchronize(s));
  const double t = since(t0);
  for (auto &e : ev) CK(cudaEventDestroy(e));
  CK(cudaStreamDestroy(s));
  return t;
}

// Registration on a second thread while the main thread streams pinned staging uploads and
// waits on events (the loader's hybrid shape): does either side stall?
static void register_beside_uploads(const uint8_t *map, size_t window, uint8_t *dev, unsigned flags,
                                    const char *what) {
  step(what);
  void *h = nullptr;
  CK(cudaHostAlloc(&h, 64ull << 20, cudaHostAllocDefault));
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  cudaEvent_t e;
  CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  std::atomic<bool> done{false};
  std::atomic<int> windows{0};
  std::thread pin([&] {
    for (int i = 0; i < 8; ++i) {
      uint8_t *p = const_cast<uint8_t *>(map) + i * window;
      CK(cudaHostRegister(p, window, flags));
      CK(cudaMemcpyAsync(dev + (256ull << 20), p, window, cudaMemcpyHostToDevice, s));
      CK(cudaStreamSynchronize(s));
      CK(cudaHostUnregister(p));
      windows.fetch_add(1);
      g_beat.fetch_add(1);
    }
    done = true;
  });
  int uploads = 0;
  const auto t = Clock::now();
  while (!done.load()) {
    CK(cudaMemcpyAsync(dev, h, 64ull << 20, cudaMemcpyHostToDevice, s));
    CK(cudaEventRecord(e, s));
    CK(cudaEventSynchronize(e));
    ++uploads;
  }
  pin.join();
  std::printf(
      "%-34s %d windows pinned/uploaded/unpinned beside %d staging uploads in %.1f ms: no stall\n",
      what, windows.load(), uploads, since(t) * 1e3);
  CK(cudaEventDestroy(e));
  CK(cudaStreamDestroy(s));
  CK(cudaFreeHost(h));
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  std::setvbuf(stdout, nullptr, _IONBF, 0);  // keep every line if the watchdog ends the process
  std::thread(watchdog).detach();
  const int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return 1;
  const size_t size = static_cast<size_t>(st.st_size) / (64ull << 20) * (64ull << 20);
  auto *shared = static_cast<const uint8_t *>(mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0));
  auto *priv = static_cast<const uint8_t *>(mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0));
  if (shared == MAP_FAILED || priv == MAP_FAILED) return 1;
  uint8_t *dev = nullptr;
  step("cudaMalloc");
  CK(cudaMalloc(reinterpret_cast<void **>(&dev), size));
  const double bus = h2d_pinned_gbs(dev, 256ull << 20);
  std::printf("pinned H2D 256 MiB: %.2f GB/s (median of 7)\n", bus);

  const size_t w = 64ull << 20;
  // Untouched windows first (the loader's first load), then touched (later loads).
  // A private mapping stalled in cudaHostRegister (uninterruptible) on the first H100 run of
  // this probe (2026-11-26): it runs last, only with a second argument "private".
  one_window("shared RO (untouched)", shared, w, cudaHostRegisterReadOnly, dev);
  one_window("shared RO|portable (untouched)", shared + w, w,
             cudaHostRegisterReadOnly | cudaHostRegisterPortable, dev);
  one_window("shared default flags (untouched)", shared + 2 * w, w, cudaHostRegisterDefault, dev);
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < size; i += 4096) sink = sink + shared[i];
  one_window("shared RO (touched)", shared + 4 * w, w, cudaHostRegisterReadOnly, dev);
  one_window("shared RO 2 MiB (touched)", shared + 5 * w, 2ull << 20, cudaHostRegisterReadOnly,
             dev);

  register_beside_uploads(shared, 16ull << 20, dev, cudaHostRegisterReadOnly,
                          "shared RO beside uploads");
  register_beside_uploads(shared, 16ull << 20, dev,
                          cudaHostRegisterReadOnly | cudaHostRegisterPortable,
                          "shared RO|portable beside uploads");

  for (size_t win : {16ull << 20, 64ull << 20})
    for (int t : {1, 2, 4, 8}) pin_scaling(shared, size, win, t);

  std::printf(
      "zero-copy pipeline, %zu MiB (pin threads pin windows in order, main uploads each, one "
      "thread unpins):\n",
      size >> 20);
  for (size_t win : {16ull << 20, 64ull << 20})
    for (int t : {1, 2, 4, 8, 12}) {
      double best = 1e9;
      for (int r = 0; r < 3; ++r) best = std::min(best, zero_copy(shared, size, win, t, dev));
      std::printf(
          "  window %3zu MiB, %2d pin threads: %.1f ms, %.1f GB/s = %.0f%% of pinned H2D (best of "
          "3)\n",
          win >> 20, t, best * 1e3, size / best / 1e9, 100.0 * size / best / 1e9 / bus);
    }
  std::printf("pinned H2D 256 MiB again: %.2f GB/s\n", h2d_pinned_gbs(dev, 256ull << 20));
  if (argc > 2 && std::strcmp(argv[2], "private") == 0)
    one_window("private RO (untouched)", priv + w, w, cudaHostRegisterReadOnly, dev);
  step("done");
  (void)sink;
  return 0;
}
