// Why loads into loader-allocated outputs are slower than loads into reused caller buffers
// (run by hand on the GPU machine; not part of the build): what writing freshly allocated
// device memory costs against memory written before, whether a free shortly before slows
// host-to-device copies, and whether a stream-ordered pool that keeps its memory avoids it.
//   alloc_probe [GB]   (output size, default 7.2)
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "probe_util.cuh"

__global__ void fill(uint4 *p, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    p[i] = make_uint4(1, 2, 3, 4);
}

static cudaEvent_t a, b;
static float timed_fill(void *p, size_t bytes, cudaStream_t s) {
  CK(cudaEventRecord(a, s));
  fill<<<132 * 8, 512, 0, s>>>(static_cast<uint4 *>(p), bytes / 16);
  CK(cudaEventRecord(b, s));
  CK(cudaEventSynchronize(b));
  float m = 0;
  CK(cudaEventElapsedTime(&m, a, b));
  return m;
}

static float timed_h2d(void *dst, const void *src, size_t bytes, cudaStream_t s) {
  CK(cudaEventRecord(a, s));
  CK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s));
  CK(cudaEventRecord(b, s));
  CK(cudaEventSynchronize(b));
  float m = 0;
  CK(cudaEventElapsedTime(&m, a, b));
  return m;
}

int main(int argc, char **argv) {
  const size_t out = static_cast<size_t>((argc > 1 ? std::atof(argv[1]) : 7.2) * 1e9) / 4096 * 4096;
  const size_t up = 2ull << 30;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  cudaStream_t s;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  void *host = nullptr, *dev_up = nullptr;
  CK(cudaHostAlloc(&host, up, cudaHostAllocDefault));
  CK(cudaMalloc(&dev_up, up));
  std::printf("output %.2f GB, upload %.2f GB\n", out / 1e9, up / 1e9);
  std::printf("H2D 2 GiB, baseline: %.2f ms\n", timed_h2d(dev_up, host, up, s));
  std::printf("H2D 2 GiB, baseline: %.2f ms\n", timed_h2d(dev_up, host, up, s));

  void *x = nullptr;
  auto t = Clock::now();
  CK(cudaMalloc(&x, out));
  const double malloc_ms = ms_since(t);
  std::printf("cudaMalloc fresh: %.2f ms; first fill %.2f ms; second fill %.2f ms\n", malloc_ms,
              timed_fill(x, out, s), timed_fill(x, out, s));
  // Free, then at once: allocate again and fill, and upload.
  t = Clock::now();
  CK(cudaFree(x));
  const double free_ms = ms_since(t);
  std::printf("cudaFree: %.2f ms; H2D 2 GiB right after: %.2f ms\n", free_ms,
              timed_h2d(dev_up, host, up, s));
  t = Clock::now();
  CK(cudaMalloc(&x, out));
  std::printf("cudaMalloc after free: %.2f ms; first fill %.2f ms; second fill %.2f ms\n",
              ms_since(t), timed_fill(x, out, s), timed_fill(x, out, s));
  CK(cudaFree(x));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CK(cudaMalloc(&x, out));
  std::printf("cudaMalloc after free + 300 ms idle: first fill %.2f ms\n", timed_fill(x, out, s));
  // Upload and fill fresh memory at the same time (the loader's shape).
  void *y = nullptr;
  CK(cudaMalloc(&y, out));
  cudaStream_t s2;
  CK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  t = Clock::now();
  CK(cudaMemcpyAsync(dev_up, host, up, cudaMemcpyHostToDevice, s2));
  fill<<<132 * 8, 512, 0, s>>>(static_cast<uint4 *>(y), out / 16);
  CK(cudaStreamSynchronize(s2));
  const double h2d_beside = ms_since(t);
  CK(cudaStreamSynchronize(s));
  std::printf("H2D 2 GiB beside a first fill of fresh memory: %.2f ms (both done %.2f ms)\n",
              h2d_beside, ms_since(t));
  t = Clock::now();
  CK(cudaMemcpyAsync(dev_up, host, up, cudaMemcpyHostToDevice, s2));
  fill<<<132 * 8, 512, 0, s>>>(static_cast<uint4 *>(y), out / 16);
  CK(cudaStreamSynchronize(s2));
  const double h2d_beside2 = ms_since(t);
  CK(cudaStreamSynchronize(s));
  std::printf("H2D 2 GiB beside a second fill: %.2f ms (both done %.2f ms)\n", h2d_beside2,
              ms_since(t));
  CK(cudaFree(x));
  CK(cudaFree(y));

  // A stream-ordered pool that keeps what is freed: the second allocation reuses it.
  cudaMemPool_t pool;
  CK(cudaDeviceGetDefaultMemPool(&pool, 0));
  uint64_t keep = UINT64_MAX;
  CK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  void *z = nullptr;
  t = Clock::now();
  CK(cudaMallocAsync(&z, out, s));
  CK(cudaStreamSynchronize(s));
  std::printf("pool: cudaMallocAsync fresh %.2f ms; first fill %.2f ms\n", ms_since(t),
              timed_fill(z, out, s));
  CK(cudaFreeAsync(z, s));
  t = Clock::now();
  CK(cudaMallocAsync(&z, out, s));
  CK(cudaStreamSynchronize(s));
  std::printf("pool: cudaMallocAsync reused %.2f ms; first fill %.2f ms; H2D right after %.2f ms\n",
              ms_since(t), timed_fill(z, out, s), timed_h2d(dev_up, host, up, s));
  CK(cudaFreeAsync(z, s));
  CK(cudaStreamSynchronize(s));
  CK(cudaMemPoolTrimTo(pool, 0));
  // How long after a free of `out` bytes host-to-device copies stay slow.
  for (int wait_ms : {0, 50, 100, 200, 400, 800, 1600, 3200}) {
    CK(cudaMalloc(&x, out));
    fill<<<132 * 8, 512, 0, s>>>(static_cast<uint4 *>(x), out / 16);
    CK(cudaStreamSynchronize(s));
    std::this_thread::sleep_for(std::chrono::seconds(2));
    CK(cudaFree(x));
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    std::printf("H2D 2 GiB %4d ms after freeing %.1f GB: %.2f ms\n", wait_ms, out / 1e9,
                timed_h2d(dev_up, host, up, s));
  }
  std::printf("H2D 2 GiB, end: %.2f ms\n", timed_h2d(dev_up, host, up, s));
  return 0;
}
