// Host side of a device load, measured apart from the loader (scripts/device-loader.sh runs
// it; not part of the build): how fast the host moves page-cache bytes into pinned memory
// (pread vs memcpy from a mapping, by thread count, with and without a concurrent upload), and
// what registering the mapping itself with CUDA (no bounce copy) costs.
//   host_copy_probe FILE   (FILE: >= 1 GB, in the page cache)
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
#include <thread>
#include <vector>

#include "probe_util.cuh"

constexpr size_t kSlot = 32ull << 20, kSlots = 8;

// Moves the whole file through the pinned ring: each 32 MiB slot split over `threads`.
// With `upload`, each filled slot is also copied to the device (like the loader, minus kernels).
static double run(int fd, const uint8_t *map, size_t size, int threads, bool use_pread, bool upload,
                  uint8_t *pinned, uint8_t *dev, cudaStream_t s, cudaEvent_t *ev) {
  const auto t0 = Clock::now();
  size_t k = 0;
  for (size_t off = 0; off < size; off += kSlot, ++k) {
    const size_t n = std::min(kSlot, size - off);
    uint8_t *dst = pinned + (k % kSlots) * kSlot;
    if (upload && k >= kSlots) CK(cudaEventSynchronize(ev[k % kSlots]));
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        const size_t a = n * t / threads / 4096 * 4096,
                     b = t + 1 == threads ? n : n * (t + 1) / threads / 4096 * 4096;
        if (use_pread) {
          size_t done = a;
          while (done < b) {
            ssize_t r = pread(fd, dst + done, b - done, off + done);
            if (r <= 0) std::abort();
            done += r;
          }
        } else {
          std::memcpy(dst + a, map + off + a, b - a);
        }
      });
    for (auto &t : ts) t.join();
    if (upload) {
      CK(cudaMemcpyAsync(dev + (k % kSlots) * kSlot, dst, n, cudaMemcpyHostToDevice, s));
      CK(cudaEventRecord(ev[k % kSlots], s));
    }
  }
  if (upload) CK(cudaStreamSynchronize(s));
  return since(t0);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const int fd = open(argv[1], O_RDONLY);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) return 1;
  const size_t size = st.st_size;
  auto *map = static_cast<const uint8_t *>(mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0));
  if (map == MAP_FAILED) return 1;
  uint8_t *pinned = nullptr, *dev = nullptr;
  CK(cudaHostAlloc(reinterpret_cast<void **>(&pinned), kSlot * kSlots, cudaHostAllocDefault));
  CK(cudaMalloc(reinterpret_cast<void **>(&dev), kSlot * kSlots));
  cudaStream_t s;
  CK(cudaStreamCreate(&s));
  cudaEvent_t ev[kSlots];
  for (auto &e : ev) CK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  std::printf("probe: %.3f GB file; per row the best of 3 (thread start-up per slot included)\n",
              size / 1e9);
  std::printf("  %-34s %8s\n", "host copy into pinned ring", "GB/s");
  for (bool up : {false, true})
    for (bool pr : {true, false})
      for (int th : {4, 8, 12, 16}) {
        double best = 1e9;
        for (int r = 0; r < 3; ++r)
          best = std::min(best, run(fd, map, size, th, pr, up, pinned, dev, s, ev));
        std::printf("  %-6s %2d threads%-18s %8.2f\n", pr ? "pread" : "memcpy", th,
                    up ? ", + upload" : "", size / best / 1e9);
      }
  // No bounce copy: register windows of the mapping (read-only) and upload from them.
  for (size_t win : {size_t{256} << 20, size}) {
    double reg = 0, unreg = 0;
    const auto t0 = Clock::now();
    for (size_t off = 0; off < size; off += win) {
      const size_t n = std::min(win, size - off) / 4096 * 4096;
      if (n == 0) break;
      void *p = const_cast<uint8_t *>(map + off);
      auto t = Clock::now();
      cudaError_t e = cudaHostRegister(p, n, cudaHostRegisterReadOnly);
      reg += since(t);
      if (e != cudaSuccess) {
        std::printf("  cudaHostRegister(%zu MiB of the mapping, read-only): %s\n", n >> 20,
                    cudaGetErrorString(e));
        cudaGetLastError();
        break;
      }
      for (size_t o = 0; o < n; o += kSlot)
        CK(cudaMemcpyAsync(dev + (o / kSlot % kSlots) * kSlot, static_cast<uint8_t *>(p) + o,
                           std::min(kSlot, n - o), cudaMemcpyHostToDevice, s));
      CK(cudaStreamSynchronize(s));
      t = Clock::now();
      CK(cudaHostUnregister(p));
      unreg += since(t);
    }
    const double total = since(t0);
    std::printf(
        "  registered mapping, %4zu MiB windows: %.1f ms total (register %.1f, unregister %.1f) = "
        "%.2f GB/s\n",
        win >> 20, total * 1e3, reg * 1e3, unreg * 1e3, size / total / 1e9);
  }
  return 0;
}
