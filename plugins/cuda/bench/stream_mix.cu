// dq-cuda-stream-mix: where is the bandwidth ceiling for a dequantizer's read:write byte mix,
// and which kernel style reaches it? One process, one device, every number against a
// device-to-device copy of the same bytes timed in the same run.
//
//   dq-cuda-stream-mix [--elements N] [--runs R] [--warmup W] [--reps C] [--mixes a,b] [--csv FILE]
//
// N output elements (default 256M, rounded up to a multiple of 65536). Per mix (q8_0->f16,
// q4_K->f16, q4_0->f16, f16->f32, f32->f16, q8_0->f32; --mixes picks, by name or a prefix):
//   copy         cudaMemcpy D2D of (read + written) / 2 bytes: the reference, 100%
//   read-only    a reduction kernel reading the mix's source bytes
//   write-memset / write-kernel   cudaMemset / a store-only kernel writing its output bytes
//   model        read-only and write-only back to back: (R + W) / (t_read + t_write)
//   then each kernel style (stream_mix_kernels.cuh): a32-w4 (ggml's Q8_0->f16 shape), a32-w16,
//   a128-w4/w8/w16, a256-w16 (shared memory, one-shot); b, b-t64 (registers, one-shot);
//   c-kK (persistent, K blocks per SM), c-kK-cs; d-cs, d-ef, d-efload-cs, d-nol1-cs (cache
//   hints); a summary gives each mix's best style per family. For q8_0->f16 also the real
//   bit-exact dequantizers of stream_mix_q8_0.cuh (checked first against a host reference on
//   random blocks with odd counts and special scales).
// Every styled kernel's whole output is first compared with a one-thread-per-element
// reference kernel (itself checked against the host on three windows): a kernel that
// disagrees is reported BROKEN and not timed.
// Timing: CUDA events on one stream; W warm-up calls, then R samples of C calls each, queued
// behind one untimed call; the median per-call time. Two source/destination pairs
// alternate so no call reads what the previous one left in L2. GB/s counts bytes read plus
// bytes written. Exit status: 0, 1 (an error, a BROKEN kernel or a bit-exact mismatch), or 2
// (no CUDA device: nothing measured).
#include <cuda_runtime.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "stream_mix_kernels.cuh"
#include "stream_mix_layouts.cuh"
#include "stream_mix_q8_0.cuh"

namespace stream_mix {
namespace {

const char *const kProgram = "dq-cuda-stream-mix";

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "%s: %s\n", kProgram, msg.c_str());
  std::exit(1);
}

void ck(cudaError_t e, const char *what) {
  if (e != cudaSuccess) die(std::string(what) + ": " + cudaGetErrorString(e));
}

struct Options {
  int64_t elements = 256ll << 20;
  int runs = 9, warmup = 2, reps = 4;
  std::string mixes, csv;
};

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("option " + a + " needs a value");
      return argv[++i];
    };
    auto positive = [&](const std::string &v) {
      char *end = nullptr;
      const long long x = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end || x <= 0) die("option " + a + ": '" + v + "' is not a positive integer");
      return x;
    };
    if (a == "--elements") o.elements = positive(value());
    else if (a == "--runs") o.runs = int(positive(value()));
    else if (a == "--warmup") { const std::string v = value(); o.warmup = v == "0" ? 0 : int(positive(v)); }
    else if (a == "--reps") o.reps = int(positive(value()));
    else if (a == "--mixes") o.mixes = value();
    else if (a == "--csv") o.csv = value();
    else if (a == "-h" || a == "--help") {
      std::printf("usage: %s [--elements N] [--runs R] [--warmup W] [--reps C] [--mixes q8_0->f16,f32] [--csv FILE]\n",
                  kProgram);
      std::exit(0);
    } else die("unknown option '" + a + "' (see --help)");
  }
  constexpr int64_t kQuantum = 65536;  // the largest tile of any style
  if (o.elements % kQuantum) {
    o.elements = (o.elements / kQuantum + 1) * kQuantum;
    std::printf("note: --elements rounded up to %lld (a multiple of %lld)\n", (long long)o.elements, (long long)kQuantum);
  }
  if (o.elements > (int64_t(1) << 40)) die("--elements too large");
  return o;
}

struct Row {
  std::string mix, style;
  int threads = 0;
  int64_t grid = 0, bytes_read = 0, bytes_written = 0;
  double us = 0, gbps = 0, pct_copy = 0;
  std::string status = "ok";
};

struct Context {
  Options opt;
  cudaDeviceProp prop{};
  cudaStream_t stream{};
  cudaEvent_t e0{}, e1{};
  uint8_t *src[2]{}, *dst[2]{}, *ref{};
  int64_t src_bytes = 0, dst_bytes = 0;
  uint32_t *sink{};
  unsigned long long *counts{};
  int read_grid = 0;
  std::vector<Row> rows;
  bool failed = false;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// Median per-call time in ms of launch(pair), pairs alternating.
double time_ms(Context &c, const std::function<void(int)> &launch) {
  int k = 0;
  launch(k++ & 1);
  for (int w = 0; w < c.opt.warmup; ++w) launch(k++ & 1);
  std::vector<double> samples;
  for (int r = 0; r < c.opt.runs; ++r) {
    launch(k++ & 1);  // untimed: keeps the device busy while the host queues the timed calls
    ck(cudaEventRecord(c.e0, c.stream), "cudaEventRecord");
    for (int i = 0; i < c.opt.reps; ++i) launch(k++ & 1);
    ck(cudaEventRecord(c.e1, c.stream), "cudaEventRecord");
    ck(cudaEventSynchronize(c.e1), "timed calls");
    float ms = 0;
    ck(cudaEventElapsedTime(&ms, c.e0, c.e1), "cudaEventElapsedTime");
    samples.push_back(double(ms) / c.opt.reps);
  }
  ck(cudaGetLastError(), "a timed launch");
  return median(samples);
}

void print_row(const Row &r) {
  if (r.status != "ok") {
    std::printf("  %-12s %-16s %5d %9lld %10s %9s %7s  %s\n", r.mix.c_str(), r.style.c_str(), r.threads,
                (long long)r.grid, "-", "-", "-", r.status.c_str());
  } else {
    std::printf("  %-12s %-16s %5d %9lld %10.1f %9.1f %7.1f\n", r.mix.c_str(), r.style.c_str(), r.threads,
                (long long)r.grid, r.us, r.gbps, r.pct_copy);
  }
  std::fflush(stdout);
}

Row timed_row(const std::string &mix, const std::string &style, int threads, int64_t grid, int64_t rd, int64_t wr,
              double ms, double copy_gbps) {
  Row r;
  r.mix = mix;
  r.style = style;
  r.threads = threads;
  r.grid = grid;
  r.bytes_read = rd;
  r.bytes_written = wr;
  r.us = ms * 1e3;
  r.gbps = double(rd + wr) / (ms * 1e-3) / 1e9;
  r.pct_copy = copy_gbps > 0 ? 100.0 * r.gbps / copy_gbps : 100.0;
  return r;
}

void add_row(Context &c, const Row &r) {
  c.rows.push_back(r);
  print_row(r);
}

int launch_grid(int64_t units, int threads) { return int((units + threads - 1) / threads); }

// Mismatches of dst[0] against ref over n outputs of `bytes_per_out` bytes; first index in *first.
unsigned long long compare_with_ref(Context &c, int64_t n, int bytes_per_out, unsigned long long *first) {
  const unsigned long long init[2] = {0, ~0ull};
  ck(cudaMemcpyAsync(c.counts, init, sizeof init, cudaMemcpyHostToDevice, c.stream), "reset counters");
  const int grid = c.prop.multiProcessorCount * 8;
  if (bytes_per_out == 2)
    compare<uint16_t><<<grid, 256, 0, c.stream>>>(reinterpret_cast<const uint16_t *>(c.dst[0]),
                                                   reinterpret_cast<const uint16_t *>(c.ref), n, c.counts);
  else
    compare<uint32_t><<<grid, 256, 0, c.stream>>>(reinterpret_cast<const uint32_t *>(c.dst[0]),
                                                   reinterpret_cast<const uint32_t *>(c.ref), n, c.counts);
  unsigned long long out[2];
  ck(cudaMemcpyAsync(out, c.counts, sizeof out, cudaMemcpyDeviceToHost, c.stream), "read counters");
  ck(cudaStreamSynchronize(c.stream), "compare");
  *first = out[1];
  return out[0];
}

struct Style {
  std::string name;
  int threads;
  int64_t grid;
  std::function<void(int)> launch;
};

// Checks the style's whole output against ref (dst[0] poisoned first), then times it.
void measure_style(Context &c, const std::string &mix, const Style &s, int64_t n, int bytes_per_out, int64_t rd,
                   int64_t wr, double copy_gbps) {
  Row r;
  r.mix = mix;
  r.style = s.name;
  r.threads = s.threads;
  r.grid = s.grid;
  r.bytes_read = rd;
  r.bytes_written = wr;
  ck(cudaMemsetAsync(c.dst[0], 0x5a, size_t(wr), c.stream), "poison");  // 0x5a5a: not a NaN
  s.launch(0);
  const cudaError_t launch_error = cudaGetLastError();
  if (launch_error != cudaSuccess) {
    r.status = std::string("LAUNCH FAILED: ") + cudaGetErrorString(launch_error);
    c.failed = true;
    add_row(c, r);
    return;
  }
  ck(cudaStreamSynchronize(c.stream), ("the first call of " + mix + " " + s.name).c_str());
  unsigned long long first = 0;
  const unsigned long long bad = compare_with_ref(c, n, bytes_per_out, &first);
  if (bad) {
    r.status = "BROKEN: " + std::to_string(bad) + " of " + std::to_string(n) + " outputs differ from the reference (first at " +
               std::to_string(first) + ")";
    c.failed = true;
    add_row(c, r);
    return;
  }
  add_row(c, timed_row(mix, s.name, s.threads, s.grid, rd, wr, time_ms(c, s.launch), copy_gbps));
}

// The reference output of mix M from src[0] into ref, its three windows checked on the host.
template <class M>
void make_reference(Context &c, int64_t n) {
  using Out = typename M::Out;
  reference<M><<<c.prop.multiProcessorCount * 16, 256, 0, c.stream>>>(c.src[0], reinterpret_cast<Out *>(c.ref), n);
  ck(cudaGetLastError(), "reference launch");
  constexpr int64_t kWindow = 4096;
  const int64_t starts[3] = {0, (n / 2) / kWindow * kWindow, n - kWindow};
  std::vector<uint8_t> in(size_t(source_bytes<M>(kWindow)));
  std::vector<Out> got(kWindow);
  int64_t bad = 0;
  for (int64_t start : starts) {
    ck(cudaMemcpyAsync(in.data(), c.src[0] + source_bytes<M>(start), in.size(), cudaMemcpyDeviceToHost, c.stream),
       "reference input");
    ck(cudaMemcpyAsync(got.data(), reinterpret_cast<Out *>(c.ref) + start, kWindow * sizeof(Out), cudaMemcpyDeviceToHost,
                       c.stream),
       "reference output");
    ck(cudaStreamSynchronize(c.stream), "reference");
    for (int64_t e = 0; e < kWindow; ++e) {
      float v;
      M::template decode<1>(in.data() + e / M::kBlockElems * M::kBlockBytes, int(e % M::kBlockElems), &v);
      uint32_t want, have = 0, nan_want, nan_have;
      if constexpr (sizeof(Out) == 2) {
        want = host_float_to_half(v);
        std::memcpy(&have, &got[size_t(e)], 2);
        nan_want = (want & 0x7fff) > 0x7c00;
        nan_have = (have & 0x7fff) > 0x7c00;
      } else {
        std::memcpy(&want, &v, 4);
        std::memcpy(&have, &got[size_t(e)], 4);
        nan_want = (want & 0x7fffffffu) > 0x7f800000u;
        nan_have = (have & 0x7fffffffu) > 0x7f800000u;
      }
      if (want != have && !(nan_want && nan_have)) {
        if (bad < 3)
          std::fprintf(stderr, "%s: %s reference: element %lld: device 0x%x, host 0x%x\n", kProgram, M::kName,
                       (long long)(start + e), have, want);
        ++bad;
      }
    }
  }
  if (bad) die(std::string(M::kName) + ": the reference kernel disagrees with the host in " + std::to_string(bad) +
               " of 12288 checked outputs; nothing of this mix can be checked");
}

// copy / read-only / write rows for a mix of rd bytes read and wr written; returns the copy's GB/s.
double reference_rows(Context &c, const std::string &mix, int64_t rd, int64_t wr) {
  const int64_t total = rd + wr, copy_bytes = total / 2;
  const double copy_ms = time_ms(c, [&](int i) {
    cudaMemcpyAsync(c.dst[i], c.src[i], size_t(copy_bytes), cudaMemcpyDeviceToDevice, c.stream);
  });
  const double copy_gbps = double(2 * copy_bytes) / (copy_ms * 1e-3) / 1e9;
  add_row(c, timed_row(mix, "copy", 0, 0, copy_bytes, copy_bytes, copy_ms, copy_gbps));
  double read_ms = 0, write_ms = 0;
  if (rd > 0) {
    read_ms = time_ms(c, [&](int i) {
      read_only<<<c.read_grid, 256, 0, c.stream>>>(reinterpret_cast<const uint4 *>(c.src[i]), rd / 16, c.sink);
    });
    add_row(c, timed_row(mix, "read-only", 256, c.read_grid, rd, 0, read_ms, copy_gbps));
  }
  if (wr > 0) {
    const double memset_ms = time_ms(c, [&](int i) { cudaMemsetAsync(c.dst[i], 0, size_t(wr), c.stream); });
    add_row(c, timed_row(mix, "write-memset", 0, 0, 0, wr, memset_ms, copy_gbps));
    const int64_t grid = launch_grid(wr / 16, 256 * 4);
    const double kernel_ms = time_ms(c, [&](int i) {
      write_only<<<grid, 256, 0, c.stream>>>(reinterpret_cast<uint4 *>(c.dst[i]), wr / 16);
    });
    add_row(c, timed_row(mix, "write-kernel", 256, grid, 0, wr, kernel_ms, copy_gbps));
    write_ms = std::min(memset_ms, kernel_ms);
  }
  if (rd > 0 && wr > 0) {
    Row m = timed_row(mix, "model r+w", 0, 0, rd, wr, read_ms + write_ms, copy_gbps);
    c.rows.push_back(m);
    print_row(m);
  }
  return copy_gbps;
}

int persistent_blocks_per_sm(const void *kernel) {
  int blocks = 0;
  ck(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, kernel, kStyleBThreads, 0), "occupancy");
  return blocks;
}

template <class M>
std::vector<Style> synthetic_styles(Context &c, int64_t n) {
  using Out = typename M::Out;
  std::vector<Style> styles;
  auto src = [&c](int i) { return static_cast<const uint8_t *>(c.src[i]); };
  auto dst = [&c](int i) { return reinterpret_cast<Out *>(c.dst[i]); };
  cudaStream_t s = c.stream;
  const int64_t g32 = n / (32 * 64), g128 = n / (128 * 64);
  styles.push_back({"a32-w4", 32, g32, [=](int i) { style_a<M, 32, 4><<<g32, 32, 0, s>>>(src(i), dst(i)); }});
  styles.push_back({"a32-w16", 32, g32, [=](int i) { style_a<M, 32, 16><<<g32, 32, 0, s>>>(src(i), dst(i)); }});
  styles.push_back({"a128-w4", 128, g128, [=](int i) { style_a<M, 128, 4><<<g128, 128, 0, s>>>(src(i), dst(i)); }});
  styles.push_back({"a128-w8", 128, g128, [=](int i) { style_a<M, 128, 8><<<g128, 128, 0, s>>>(src(i), dst(i)); }});
  styles.push_back({"a128-w16", 128, g128, [=](int i) { style_a<M, 128, 16><<<g128, 128, 0, s>>>(src(i), dst(i)); }});
  const int64_t g256 = n / (256 * 32);
  styles.push_back({"a256-w16", 256, g256, [=](int i) { style_a<M, 256, 16, 32><<<g256, 256, 0, s>>>(src(i), dst(i)); }});
  const int64_t tiles = n / kTileElems<M>;
  constexpr int T = kStyleBThreads;
  styles.push_back({"b", T, tiles, [=](int i) {
                      style_b<M, LoadHint::nc, StoreHint::plain, false><<<tiles, T, 0, s>>>(src(i), dst(i), tiles);
                    }});
  const int64_t tiles64 = n / kTileElems<M, 64>;
  styles.push_back({"b-t64", 64, tiles64, [=](int i) {
                      style_b<M, LoadHint::nc, StoreHint::plain, false, 64><<<tiles64, 64, 0, s>>>(src(i), dst(i), tiles64);
                    }});
  const int sms = c.prop.multiProcessorCount;
  const int resident =
      persistent_blocks_per_sm(reinterpret_cast<const void *>(style_b<M, LoadHint::nc, StoreHint::plain, true>));
  for (int k : {1, 2, 4, 8}) {
    if (k > resident) break;  // more would not be a persistent grid
    const int64_t grid = std::min<int64_t>(int64_t(k) * sms, tiles);
    styles.push_back({"c-k" + std::to_string(k), T, grid, [=](int i) {
                        style_b<M, LoadHint::nc, StoreHint::plain, true><<<grid, T, 0, s>>>(src(i), dst(i), tiles);
                      }});
  }
  {
    const int k = std::min(4, std::max(resident, 1));
    const int64_t grid = std::min<int64_t>(int64_t(k) * sms, tiles);
    styles.push_back({"c-k" + std::to_string(k) + "-cs", T, grid, [=](int i) {
                        style_b<M, LoadHint::nc, StoreHint::streaming, true><<<grid, T, 0, s>>>(src(i), dst(i), tiles);
                      }});
  }
  styles.push_back({"d-cs", T, tiles, [=](int i) {
                      style_b<M, LoadHint::nc, StoreHint::streaming, false><<<tiles, T, 0, s>>>(src(i), dst(i), tiles);
                    }});
  styles.push_back({"d-ef", T, tiles, [=](int i) {
                      style_b<M, LoadHint::evict_first, StoreHint::evict_first, false>
                          <<<tiles, T, 0, s>>>(src(i), dst(i), tiles);
                    }});
  styles.push_back({"d-efload-cs", T, tiles, [=](int i) {
                      style_b<M, LoadHint::evict_first, StoreHint::streaming, false>
                          <<<tiles, T, 0, s>>>(src(i), dst(i), tiles);
                    }});
  styles.push_back({"d-nol1-cs", T, tiles, [=](int i) {
                      style_b<M, LoadHint::no_l1, StoreHint::streaming, false><<<tiles, T, 0, s>>>(src(i), dst(i), tiles);
                    }});
  return styles;
}

template <class M>
void run_mix(Context &c) {
  const int64_t n = c.opt.elements;
  const int64_t rd = source_bytes<M>(n), wr = n * int64_t(sizeof(typename M::Out));
  std::printf("\n%s: reads %d B / writes %d B per %d elements (%.3f : %d)\n", M::kName, M::kBlockBytes,
              M::kBlockElems * int(sizeof(typename M::Out)), M::kBlockElems, double(M::kBlockBytes) / M::kBlockElems,
              int(sizeof(typename M::Out)));
  const double copy_gbps = reference_rows(c, M::kName, rd, wr);
  make_reference<M>(c, n);
  for (const Style &s : synthetic_styles<M>(c, n))
    measure_style(c, M::kName, s, n, int(sizeof(typename M::Out)), rd, wr, copy_gbps);
}

// The real Q8_0 dequantizers against a host reference, bit for bit: random blocks whose
// scales include zeros, subnormals, large values (products that overflow to inf), inf and NaN,
// at block counts that leave every kind of tail; a guard after the output must stay untouched.
int64_t check_real_q8_0_bit_exact(Context &c) {
  std::mt19937 rng(12345);
  const uint16_t specials[] = {0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e00, 0x3c00, 0x5800};
  const int counts[] = {1, 7, 8, 9, 63, 64, 65, 2048 + 5, 4099};
  int64_t total_bad = 0;
  for (int kernel = 0; kernel < 3; ++kernel) {
    for (int nb : counts) {
      std::vector<uint8_t> blocks(size_t(nb) * kQ8Bytes);
      for (int b = 0; b < nb; ++b) {
        uint16_t d;
        const uint32_t pick = rng() % 16;
        if (pick < 3) d = specials[rng() % (sizeof specials / sizeof specials[0])];
        else d = uint16_t(((rng() % 2) << 15) | ((rng() % 21 + 2) << 10) | (rng() % 1024));  // normal, 2^-13..2^7
        std::memcpy(&blocks[size_t(b) * kQ8Bytes], &d, 2);
        for (int j = 0; j < 32; ++j) blocks[size_t(b) * kQ8Bytes + 2 + size_t(j)] = uint8_t(rng());
      }
      const int64_t outs = int64_t(nb) * 32, guard = 64;
      ck(cudaMemcpyAsync(c.src[0], blocks.data(), blocks.size(), cudaMemcpyHostToDevice, c.stream), "q8_0 blocks");
      ck(cudaMemsetAsync(c.dst[0], 0x5a, size_t(outs + guard) * 2, c.stream), "poison");
      __half *out = reinterpret_cast<__half *>(c.dst[0]);
      if (kernel == 0) q8_0_f16_a32<<<launch_grid(nb, 64), 32, 0, c.stream>>>(c.src[0], out, nb);
      else if (kernel == 1) q8_0_f16_b<false><<<launch_grid(launch_grid(nb, 8), 256), 256, 0, c.stream>>>(c.src[0], out, nb);
      else q8_0_f16_b<true><<<launch_grid(launch_grid(nb, 8), 256), 256, 0, c.stream>>>(c.src[0], out, nb);
      ck(cudaGetLastError(), "q8_0 check launch");
      std::vector<uint16_t> got(size_t(outs + guard));
      ck(cudaMemcpyAsync(got.data(), c.dst[0], got.size() * 2, cudaMemcpyDeviceToHost, c.stream), "q8_0 output");
      ck(cudaStreamSynchronize(c.stream), "q8_0 check");
      int64_t bad = 0;
      for (int64_t e = 0; e < outs + guard; ++e) {
        uint16_t want = 0x5a5a;
        if (e < outs) {
          const uint8_t *b = &blocks[size_t(e / 32) * kQ8Bytes];
          uint16_t d;
          std::memcpy(&d, b, 2);
          want = host_float_to_half(float(int8_t(b[2 + e % 32])) * host_half_to_float(d));
        }
        const uint16_t have = got[size_t(e)];
        const bool both_nan = (want & 0x7fff) > 0x7c00 && (have & 0x7fff) > 0x7c00;
        if (want != have && !both_nan) {
          if (bad < 3)
            std::fprintf(stderr, "%s: real q8_0 kernel %d, %d blocks: output %lld is 0x%04x, host says 0x%04x%s\n",
                         kProgram, kernel, nb, (long long)e, have, want, e >= outs ? " (past the end)" : "");
          ++bad;
        }
      }
      total_bad += bad;
    }
  }
  return total_bad;
}

void run_real_q8_0(Context &c) {
  using M = Q8_0ToF16;
  const int64_t n = c.opt.elements, nb = n / 32;
  const int64_t rd = source_bytes<M>(n), wr = n * 2;
  const std::string mix = "q8_0 real";
  std::printf("\n%s: the bit-exact Q8_0 -> f16 dequantizers\n", mix.c_str());
  const int64_t bad = check_real_q8_0_bit_exact(c);
  std::printf("  bit-exact check against the host (3 kernels x 9 block counts, 1 to 4099 blocks, special scales): "
              "%lld mismatches\n",
              (long long)bad);
  if (bad) c.failed = true;
  // The check overwrote the start of src[0]: fill it again, then the device reference.
  fill_random<<<c.prop.multiProcessorCount * 8, 256, 0, c.stream>>>(reinterpret_cast<uint32_t *>(c.src[0]),
                                                                    c.src_bytes / 4, 0x1234567u);
  const double copy_gbps = reference_rows(c, mix, rd, wr);
  make_reference<M>(c, n);
  cudaStream_t s = c.stream;
  auto src = [&c](int i) { return static_cast<const uint8_t *>(c.src[i]); };
  auto dst = [&c](int i) { return reinterpret_cast<__half *>(c.dst[i]); };
  const int64_t ga = launch_grid(nb, 64), gb = launch_grid(launch_grid(nb, 8), 256);
  const std::vector<Style> styles = {
      {"real-a32", 32, ga, [=](int i) { q8_0_f16_a32<<<ga, 32, 0, s>>>(src(i), dst(i), nb); }},
      {"real-b", 256, gb, [=](int i) { q8_0_f16_b<false><<<gb, 256, 0, s>>>(src(i), dst(i), nb); }},
      {"real-b-cs", 256, gb, [=](int i) { q8_0_f16_b<true><<<gb, 256, 0, s>>>(src(i), dst(i), nb); }},
  };
  for (const Style &st : styles) measure_style(c, mix, st, n, 2, rd, wr, copy_gbps);
}

double measured_sm_mhz(Context &c) {
  long long *sink = reinterpret_cast<long long *>(c.sink);
  constexpr long long kCycles = 40'000'000;
  spin<<<1, 32, 0, c.stream>>>(kCycles / 10, sink);  // wakes the clocks up
  ck(cudaEventRecord(c.e0, c.stream), "cudaEventRecord");
  spin<<<1, 32, 0, c.stream>>>(kCycles, sink);
  ck(cudaEventRecord(c.e1, c.stream), "cudaEventRecord");
  ck(cudaEventSynchronize(c.e1), "clock kernel");
  float ms = 0;
  ck(cudaEventElapsedTime(&ms, c.e0, c.e1), "cudaEventElapsedTime");
  return double(kCycles) / (double(ms) * 1e3);
}

bool wanted(const Options &o, const char *name) {
  if (o.mixes.empty()) return true;
  size_t p = 0;
  while (p <= o.mixes.size()) {
    size_t q = o.mixes.find(',', p);
    if (q == std::string::npos) q = o.mixes.size();
    const std::string item = o.mixes.substr(p, q - p);
    if (!item.empty() && std::strncmp(name, item.c_str(), item.size()) == 0) return true;
    p = q + 1;
  }
  return false;
}

void write_csv(const Context &c, double mhz_start, double mhz_end) {
  FILE *f = std::fopen(c.opt.csv.c_str(), "w");
  if (!f) die("cannot write " + c.opt.csv + ": " + std::strerror(errno));
  std::fprintf(f, "device,sm_mhz_start,sm_mhz_end,elements,mix,style,threads,grid,bytes_read,bytes_written,"
                  "median_us,gbps,pct_copy,status\n");
  for (const Row &r : c.rows) {
    std::string status = r.status;
    std::replace(status.begin(), status.end(), ',', ';');
    std::fprintf(f, "%s,%.0f,%.0f,%lld,%s,%s,%d,%lld,%lld,%lld,%.2f,%.1f,%.2f,%s\n", c.prop.name, mhz_start, mhz_end,
                 (long long)c.opt.elements, r.mix.c_str(), r.style.c_str(), r.threads, (long long)r.grid,
                 (long long)r.bytes_read, (long long)r.bytes_written, r.us, r.gbps, r.pct_copy, status.c_str());
  }
  if (std::fclose(f) != 0) die("cannot write " + c.opt.csv);
}

// Per mix: the best style overall, the best of each family, and the model ceiling.
void print_summary(const Context &c) {
  std::printf("\nsummary (%% of the same-run copy of the same bytes; model = read-only then write-only)\n");
  std::printf("  %-12s %7s  %-22s %-16s %-16s %-16s %-16s\n", "mix", "model", "best", "a (smem)", "b (regs)",
              "c (persistent)", "d (hints)");
  std::vector<std::string> mixes;
  for (const Row &r : c.rows)
    if (std::find(mixes.begin(), mixes.end(), r.mix) == mixes.end() && r.mix != "device") mixes.push_back(r.mix);
  for (const std::string &mix : mixes) {
    double model = 0;
    const Row *best = nullptr;
    const Row *family[4] = {};
    for (const Row &r : c.rows) {
      if (r.mix != mix) continue;
      if (r.style == "model r+w") model = r.pct_copy;
      if (r.status != "ok" || r.threads == 0 || r.style == "read-only" || r.style.rfind("write", 0) == 0) continue;
      if (!best || r.gbps > best->gbps) best = &r;
      std::string st = r.style.rfind("real-", 0) == 0 ? r.style.substr(5) : r.style;
      const int fam = st[0] - 'a';
      if (fam >= 0 && fam < 4 && (!family[fam] || r.gbps > family[fam]->gbps)) family[fam] = &r;
    }
    auto cell = [](const Row *r) {
      char buf[64];
      if (r) std::snprintf(buf, sizeof buf, "%5.1f %s", r->pct_copy, r->style.c_str());
      else std::snprintf(buf, sizeof buf, "-");
      return std::string(buf);
    };
    std::printf("  %-12s %6.1f%%  %-22s %-16s %-16s %-16s %-16s\n", mix.c_str(), model, cell(best).c_str(),
                cell(family[0]).c_str(), cell(family[1]).c_str(), cell(family[2]).c_str(), cell(family[3]).c_str());
  }
}

int run(int argc, char **argv) {
  Context c;
  c.opt = parse(argc, argv);
  int devices = 0;
  const cudaError_t count_error = cudaGetDeviceCount(&devices);
  if (count_error != cudaSuccess || devices == 0) {
    std::fprintf(stderr, "%s: no CUDA device (%s): nothing measured\n", kProgram,
                 count_error != cudaSuccess ? cudaGetErrorString(count_error) : "cudaGetDeviceCount found 0");
    return 2;
  }
  ck(cudaSetDevice(0), "cudaSetDevice");
  ck(cudaGetDeviceProperties(&c.prop, 0), "cudaGetDeviceProperties");
  int sm_khz = 0, mem_khz = 0, bus_bits = 0, driver = 0, runtime = 0;
  cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, 0);
  cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, 0);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0);
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  const double peak_gbps = 2.0 * mem_khz * 1e3 * (bus_bits / 8) / 1e9;
  std::printf("device: %s, sm_%d%d, %d SMs, L2 %d MiB, %.1f GiB; driver %d, runtime %d\n", c.prop.name, c.prop.major,
              c.prop.minor, c.prop.multiProcessorCount, c.prop.l2CacheSize >> 20,
              double(c.prop.totalGlobalMem) / (1 << 30), driver, runtime);
  std::printf("clocks: SM max %d MHz, memory %d MHz x %d bits (theoretical %.0f GB/s)\n", sm_khz / 1000,
              mem_khz / 1000, bus_bits, peak_gbps);

  const int64_t n = c.opt.elements;
  c.src_bytes = 4 * n;  // the largest source (f32) and output (f32) of any mix
  c.dst_bytes = 4 * n;
  size_t free_bytes = 0, total_bytes = 0;
  ck(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  const int64_t need = 2 * c.src_bytes + 3 * c.dst_bytes + (64 << 20);
  if (int64_t(free_bytes) < need)
    die("--elements " + std::to_string(n) + " needs " + std::to_string(need >> 20) + " MiB of device memory, " +
        std::to_string(free_bytes >> 20) + " MiB free");
  ck(cudaStreamCreateWithFlags(&c.stream, cudaStreamNonBlocking), "cudaStreamCreate");
  ck(cudaEventCreate(&c.e0), "cudaEventCreate");
  ck(cudaEventCreate(&c.e1), "cudaEventCreate");
  for (int i = 0; i < 2; ++i) {
    ck(cudaMalloc(&c.src[i], size_t(c.src_bytes)), "cudaMalloc source");
    ck(cudaMalloc(&c.dst[i], size_t(c.dst_bytes)), "cudaMalloc destination");
    fill_random<<<c.prop.multiProcessorCount * 8, 256, 0, c.stream>>>(reinterpret_cast<uint32_t *>(c.src[i]),
                                                                      c.src_bytes / 4, 0x1234567u + 77u * i);
    ck(cudaMemsetAsync(c.dst[i], 0, size_t(c.dst_bytes), c.stream), "clear destination");
  }
  ck(cudaMalloc(&c.ref, size_t(c.dst_bytes)), "cudaMalloc reference");
  int read_blocks = 0;
  ck(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&read_blocks, read_only, 256, 0), "occupancy");
  c.read_grid = std::max(read_blocks, 1) * c.prop.multiProcessorCount;
  ck(cudaMalloc(&c.sink, size_t(c.read_grid) * 256 * 4 + 64), "cudaMalloc sink");
  ck(cudaMalloc(&c.counts, 2 * sizeof(unsigned long long)), "cudaMalloc counters");
  ck(cudaStreamSynchronize(c.stream), "set-up");

  const double mhz_start = measured_sm_mhz(c);
  std::printf("measured SM clock: %.0f MHz; %lld elements, median of %d samples of %d calls, %d warm-up\n", mhz_start,
              (long long)n, c.opt.runs, c.opt.reps, c.opt.warmup);
  std::printf("\n  %-12s %-16s %5s %9s %10s %9s %7s\n", "mix", "style", "thr", "grid", "us", "GB/s", "%copy");
  std::printf("\ndevice: the whole buffers (%lld MiB read / %lld MiB written)\n", (long long)(c.src_bytes >> 20),
              (long long)(c.dst_bytes >> 20));
  reference_rows(c, "device", c.src_bytes, c.dst_bytes);

  if (wanted(c.opt, Q8_0ToF16::kName)) run_mix<Q8_0ToF16>(c);
  if (wanted(c.opt, Q4_KToF16::kName)) run_mix<Q4_KToF16>(c);
  if (wanted(c.opt, Q4_0ToF16::kName)) run_mix<Q4_0ToF16>(c);
  if (wanted(c.opt, F16ToF32::kName)) run_mix<F16ToF32>(c);
  if (wanted(c.opt, F32ToF16::kName)) run_mix<F32ToF16>(c);
  if (wanted(c.opt, Q8_0ToF32::kName)) run_mix<Q8_0ToF32>(c);
  if (wanted(c.opt, "q8_0 real")) run_real_q8_0(c);

  const double mhz_end = measured_sm_mhz(c);
  std::printf("\nmeasured SM clock at the end: %.0f MHz\n", mhz_end);
  print_summary(c);
  if (!c.opt.csv.empty()) write_csv(c, mhz_start, mhz_end);
  if (c.failed) {
    std::printf("\nFAILED: a kernel above is BROKEN or disagrees with the host reference\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace stream_mix

int main(int argc, char **argv) { return stream_mix::run(argc, argv); }
