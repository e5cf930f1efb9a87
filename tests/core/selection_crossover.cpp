// dq_core_crossover: times host->host dq_dequantize on every loaded backend with a device,
// over a range of tensor sizes, to find where a GPU starts to pay (the DQ_GPU_MIN_BYTES
// default; docs/ARCHITECTURE.md "Why 64 MiB"). Buffers are ordinary pageable memory, as a
// caller's std::vector would be. Usage: dq_core_crossover [type=q4_K] [out=f32]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dq/dq.h"

namespace {

using Clock = std::chrono::steady_clock;

// Median seconds of one call, repeated until ~0.3 s or 25 runs (at least 3), after a warm-up.
double median_seconds(dq_context *ctx, dq_dequantize_request req) {
  if (dq_dequantize(ctx, &req) != DQ_OK) return -1;
  std::vector<double> times;
  const auto start = Clock::now();
  while (times.size() < 3 ||
         (times.size() < 25 && Clock::now() - start < std::chrono::milliseconds(300))) {
    const auto t0 = Clock::now();
    if (dq_dequantize(ctx, &req) != DQ_OK) return -1;
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

std::vector<std::string> device_backends(dq_context *ctx) {
  std::vector<std::string> names;
  for (int32_t i = 0; i < dq_backend_count(ctx); ++i) {
    dq_backend_info b{};
    b.struct_size = sizeof(b);
    if (dq_backend_get_info(ctx, i, &b) == DQ_OK && b.loaded && b.device_count > 0)
      names.push_back(b.name);
  }
  return names;
}

}  // namespace

int main(int argc, char **argv) {
  const int32_t type = dq_type_from_name(argc > 1 ? argv[1] : "q4_K");
  const int32_t out = dq_type_from_name(argc > 2 ? argv[2] : "f32");
  if (type < 0 || (out != DQ_TYPE_F32 && out != DQ_TYPE_F16 && out != DQ_TYPE_BF16)) {
    std::fprintf(stderr, "usage: dq_core_crossover [type] [f32|f16|bf16]\n");
    return 2;
  }
  dq_context *ctx = nullptr;
  dq_context_create(&ctx);
  const auto backends = device_backends(ctx);
  const int64_t block = dq_type_block_elements(type);
  const size_t block_bytes = dq_type_block_bytes(type), out_size = out == DQ_TYPE_F32 ? 4 : 2;
  std::mt19937 rng(1);
  std::printf("%s -> %s, host->host, pageable buffers; median seconds per call\n%12s",
              dq_type_name(type), dq_type_name(out), "src bytes");
  for (const auto &b : backends) std::printf(" %12s %9s", (b + " ms").c_str(), "out GB/s");
  std::printf("\n");
  for (size_t bytes = 4096; bytes <= (size_t(1) << 28); bytes *= 4) {
    const int64_t blocks = static_cast<int64_t>(bytes / block_bytes);
    std::vector<unsigned char> src(blocks * block_bytes);
    for (auto &c : src)
      c = static_cast<unsigned char>(rng() & 0x3F);  // small scales: finite values
    std::vector<unsigned char> dst(static_cast<size_t>(blocks * block) * out_size);
    dq_dequantize_request req{};
    req.struct_size = sizeof(req);
    req.src_type = type, req.dst_type = out;
    req.src = src.data(), req.src_bytes = src.size(), req.n_elements = blocks * block;
    req.dst = dst.data(), req.dst_bytes = dst.size();
    std::printf("%12zu", src.size());
    for (const auto &b : backends) {
      req.backend = b.c_str();
      const double s = median_seconds(ctx, req);
      std::printf(" %12.3f %9.2f", s * 1e3, s > 0 ? dst.size() / s / 1e9 : 0.0);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  dq_context_destroy(ctx);
  return 0;
}
