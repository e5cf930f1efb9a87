// dq bench: dequantization throughput of one backend, one row per type, next to a memcpy of
// the same traffic measured in the same run and (for the cpu backend) the PyPI gguf package.
//
// Host backends are timed with a steady clock around the plugin's dequantize on host memory.
// Device backends (mem_alloc plus events) are timed with events around the dequantize on
// device memory and compared with a device-to-device copy timed the same way, and with the
// cpu plugin on one thread.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench_shapes.hpp"
#include "commands.hpp"
#include "context.hpp"
#include "device_timing.hpp"
#include "dq/dq.h"
#include "dq/dq_plugin.h"
#include "dq_common/dequantize_args.hpp"
#include "dq_common/type_traits.hpp"
#include "number_option.hpp"
#include "registry/registry.hpp"

namespace dq::tool {
namespace {

struct BenchOptions {
  std::string backend = "cpu";
  std::string types = "all";
  int64_t elements = int64_t{1} << 24;
  std::string to = "f32";
  int threads = 0;  // 0: the backend's default (DQ_THREADS or all cores)
  int repeat = 7;
  bool no_gguf = false;
  std::string shapes;  // --shapes: the shape and batch rows instead of the type rows
  int min_sample_ms = -1;  // device backends; -1: the backend's default (min_sample_ms_for)
  int warmup_ms = -1;      // device backends; -1: 4 x the minimum sample (warmup_ms_for)
  bool verbose = false;    // device backends: each buffer set's median and the sample range
};

// Device samples last at least this long. On vulkan 50 ms by default: four calls of a few
// hundred microseconds let an H100's clocks drop between bursts (rows moved 3x run to run,
// 2026-12-05); elsewhere 0, the four calls per sample the CUDA numbers were measured with.
int min_sample_ms_for(const BenchOptions &o, const std::string &backend) {
  return o.min_sample_ms >= 0 ? o.min_sample_ms : backend == "vulkan" ? 50 : 0;
}

// Untimed load before each measurement's samples: with minimum samples, 4 of them (an H100's
// clocks take ~200 ms of load to climb back from idle; 2026-12-05 17:16, a vulkan run's first
// row came out at a quarter of the same row later in another run).
int warmup_ms_for(const BenchOptions &o, int min_sample_ms) {
  return o.warmup_ms >= 0 ? o.warmup_ms : 4 * min_sample_ms;
}

// ------------------------------------------------------------------ small helpers
using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown CPU";
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", std::gmtime(&t));
  return buf;
}

int online_cores() {
  unsigned n = std::thread::hardware_concurrency();
  return n ? static_cast<int>(n) : 1;
}

bool backend_supports(const core::Backend &b, int32_t type, int32_t dst) {
  return b.api && b.api->supports(type, dst) == 1;
}

// "q4_0,q6_K" or "all" -> type ids the backend supports for `dst`.
std::optional<std::vector<int32_t>> parse_types(const std::string &text, const core::Backend &b,
                                                int32_t dst, std::string *error) {
  std::vector<int32_t> ids;
  if (text == "all") {
    for (int32_t t = 0; t < DQ_TYPE_COUNT; ++t)
      if (type_is_dequantizable(t) && backend_supports(b, t, dst)) ids.push_back(t);
    return ids;
  }
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string name = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!name.empty()) {
      int32_t id = dq_type_from_name(name.c_str());
      if (id < 0 || !type_is_dequantizable(id)) {
        *error = "unknown or non-dequantizable type '" + name + "'";
        return std::nullopt;
      }
      if (!backend_supports(b, id, dst)) {
        *error = "backend " + b.name + " does not dequantize " + name;
        return std::nullopt;
      }
      ids.push_back(id);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (ids.empty()) *error = "no types given";
  return ids.empty() ? std::nullopt : std::optional(ids);
}

// ------------------------------------------------------------------ random valid data
// Byte offsets of each type's f16 scales (set to normal values so the data is valid and no
// subnormal arithmetic distorts the timing).
std::vector<size_t> f16_scale_offsets(int32_t type) {
  switch (type) {
    case DQ_TYPE_Q4_1: case DQ_TYPE_Q5_1: case DQ_TYPE_Q4_K: case DQ_TYPE_Q5_K: return {0, 2};
    case DQ_TYPE_Q2_K: return {80, 82};
    case DQ_TYPE_Q3_K: return {108};
    case DQ_TYPE_Q6_K: return {208};
    case DQ_TYPE_TQ1_0: return {52};
    case DQ_TYPE_TQ2_0: return {64};
    case DQ_TYPE_F32: case DQ_TYPE_F16: case DQ_TYPE_BF16: case DQ_TYPE_Q8_K:
    case DQ_TYPE_MXFP4: case DQ_TYPE_NVFP4: case DQ_TYPE_IQ1_M: return {};
    default: return {0};
  }
}

std::vector<uint8_t> random_tensor(int32_t type, int64_t n_blocks) {
  const TypeTraits *t = type_traits(type);
  std::mt19937_64 rng(0x5eed0000u + static_cast<uint64_t>(type));
  std::vector<uint8_t> data(t->block_bytes * static_cast<size_t>(n_blocks));
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    uint64_t r = rng();
    std::memcpy(&data[i], &r, 8);
  }
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  auto half_bits = [](float f) {  // |f| in [2^-14, 2): exponent and 10 mantissa bits
    uint32_t u;
    std::memcpy(&u, &f, 4);
    const uint32_t exp = ((u >> 23) & 0xff) - 127 + 15;
    return static_cast<uint16_t>(((u >> 16) & 0x8000) | (exp << 10) | ((u >> 13) & 0x3ff));
  };
  const auto offsets = f16_scale_offsets(type);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t *blk = data.data() + b * t->block_bytes;
    for (size_t off : offsets) {
      const uint16_t h = half_bits(0.001f + 0.01f * std::fabs(unit(rng)));
      std::memcpy(blk + off, &h, 2);
    }
    if (type == DQ_TYPE_F32) {
      const float f = unit(rng);
      std::memcpy(blk, &f, 4);
    } else if (type == DQ_TYPE_F16) {
      const uint16_t h = half_bits(0.5f + 0.5f * std::fabs(unit(rng)));
      std::memcpy(blk, &h, 2);
    } else if (type == DQ_TYPE_BF16) {
      const float f = unit(rng);
      uint32_t u;
      std::memcpy(&u, &f, 4);
      const uint16_t h = static_cast<uint16_t>(u >> 16);
      std::memcpy(blk, &h, 2);
    } else if (type == DQ_TYPE_Q8_K) {
      const float d = 0.001f * (1.0f + std::fabs(unit(rng)));
      std::memcpy(blk, &d, 4);
    } else if (type == DQ_TYPE_MXFP4) {
      blk[0] = static_cast<uint8_t>(110 + rng() % 20);
    } else if (type == DQ_TYPE_IQ1_M) {
      const uint16_t h = half_bits(0.001f + 0.01f * std::fabs(unit(rng)));
      for (int k = 0; k < 4; ++k) {
        uint16_t w;
        std::memcpy(&w, blk + 48 + 2 * k, 2);
        w = static_cast<uint16_t>((w & 0x0fff) | (((h >> (4 * k)) & 0xf) << 12));
        std::memcpy(blk + 48 + 2 * k, &w, 2);
      }
    }
  }
  return data;
}

// ------------------------------------------------------------------ host timing
class AlignedBuffer {
 public:
  explicit AlignedBuffer(size_t bytes)
      : p_(static_cast<uint8_t *>(std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096))) {
    if (!p_) throw std::bad_alloc();
    std::memset(p_, 0, bytes);
  }
  ~AlignedBuffer() { std::free(p_); }
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;
  uint8_t *data() const { return p_; }

 private:
  uint8_t *p_;
};

// Seconds of one call, median over `repeat` after one warm-up.
double time_host(int repeat, const std::function<bool()> &call, bool *ok) {
  *ok = call();
  std::vector<double> runs;
  for (int r = 0; r < repeat && *ok; ++r) {
    auto t0 = Clock::now();
    *ok = call();
    runs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return runs.empty() ? 0.0 : median(runs);
}

// memcpy split over persistent threads (the caller copies a slice too), so the reference
// pays the same wake-up costs as the plugin's pool, not thread creation.
class ParallelCopy {
 public:
  explicit ParallelCopy(int threads) {
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { loop(i); });
  }
  ~ParallelCopy() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (auto &t : workers_) t.join();
  }
  void copy(uint8_t *dst, const uint8_t *src, size_t bytes) {
    const int n = static_cast<int>(workers_.size()) + 1;
    if (n == 1) {
      std::memcpy(dst, src, bytes);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      dst_ = dst;
      src_ = src;
      bytes_ = bytes;
      pending_ = n - 1;
      ++generation_;
    }
    wake_.notify_all();
    copy_slice(0, n);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

 private:
  void copy_slice(int i, int n) {
    const size_t slice = (bytes_ / n + 4095) & ~size_t{4095};
    const size_t off = std::min(bytes_, slice * i), len = std::min(slice, bytes_ - off);
    std::memcpy(dst_ + off, src_ + off, len);
  }
  void loop(int i) {
    uint64_t seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      copy_slice(i, static_cast<int>(workers_.size()) + 1);
      std::lock_guard<std::mutex> lock(mutex_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  uint64_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
  uint8_t *dst_ = nullptr;
  const uint8_t *src_ = nullptr;
  size_t bytes_ = 0;
};

// ------------------------------------------------------------------ the gguf package
bool gguf_importable() {
  return std::system("python3 -c 'import gguf.quants' >/dev/null 2>&1") == 0;
}

// Seconds gguf.quants.dequantize takes on `data` (best of 2, timed inside Python), or -1
// when the package lacks the type or the run fails.
double time_gguf(int32_t type, const std::vector<uint8_t> &data) {
  char path[] = "/tmp/dq-bench-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return -1;
  bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ::close(fd);
  double seconds = -1;
  if (written) {
    const std::string script =
        "import sys, time, numpy as np, gguf\n"
        "from gguf import quants\n"
        "t = gguf.GGMLQuantizationType(int(sys.argv[2]))\n"
        "bs, ts = gguf.GGML_QUANT_SIZES[t]\n"
        "a = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(-1, ts)\n"
        "best = float('inf')\n"
        "for _ in range(2):\n"
        "    t0 = time.perf_counter(); quants.dequantize(a, t); best = min(best, time.perf_counter() - t0)\n"
        "print(best)\n";
    const std::string cmd = "python3 -c \"$DQ_BENCH_PY\" " + std::string(path) + " " + std::to_string(type) + " 2>/dev/null";
    setenv("DQ_BENCH_PY", script.c_str(), 1);
    if (FILE *p = popen(cmd.c_str(), "r")) {
      char line[128] = {0};
      if (std::fgets(line, sizeof line, p)) seconds = std::atof(line);
      if (pclose(p) != 0) seconds = -1;
    }
    unsetenv("DQ_BENCH_PY");
  }
  std::remove(path);
  return seconds > 0 ? seconds : -1;
}

// ------------------------------------------------------------------ one backend's calls
struct Bench {
  const core::Backend &backend;
  const dq_plugin_api &api;
  int32_t dst_type;

  bool dequantize(int32_t type, const void *src, size_t src_bytes, void *dst, size_t dst_bytes,
                  int64_t n, bool on_host, void *stream) const {
    dq_plugin_dequantize_args a =
        make_dequantize_args(type, dst_type, src, src_bytes, n, dst, dst_bytes, on_host);
    a.stream = stream;
    return api.dequantize(&a) == DQ_OK;
  }
};

// A backend with memory of its own is timed on that memory.
bool is_device_backend(const dq_plugin_api &api) {
  return api.mem_alloc && api.mem_free && api.mem_copy && api.synchronize;
}

// Events can time the work on the device itself (else: steady clock around launch + sync).
bool has_timing_events(const dq_plugin_api &api) {
  return api.event_create && api.event_destroy && api.event_record && api.event_synchronize &&
         api.event_elapsed_ms;
}

struct Row {
  int32_t type;
  double seconds = 0, copy_seconds = 0, ref_seconds = -1;
  uint64_t src_bytes = 0, dst_bytes = 0;
  uint64_t copy_bytes = 0;  // bytes per side of the copy reference (0: the output size)
  double shader_copy_seconds = 0;  // vulkan: its compute-shader copy of copy_bytes (0: none)
};

// The vulkan plugin has two device-to-device copies: vkCmdCopyBuffer (mem_copy, unless
// DQ_VULKAN_COPY=shader) and its compute-shader copy (copy_words.comp), which its F32 -> f32
// dequantize on device memory runs. Its rows show both, each the best of its samples: on
// NVIDIA vkCmdCopyBuffer runs at a quarter of the memory rate and its median came out
// bimodal (~410 or ~840 GB/s from row to row on an H100, 2026-12-05).
bool two_copy_columns(const core::Backend &b) { return b.name == "vulkan"; }

void print_header(const BenchOptions &o, const core::Backend &b, int threads, int64_t n, bool device,
                  int min_sample_ms = 0) {
  const bool two_copies = device && two_copy_columns(b);
  std::printf("dq bench: backend %s (%s) | CPU: %s | threads: %d | %s\n", b.name.c_str(),
              b.description.c_str(), cpu_model().c_str(), threads, utc_now().c_str());
  if (device && min_sample_ms > 0)
    std::printf("%" PRId64 " elements -> %s on device 0 (%s), %s, median of %d after warm-up; "
                "at least %d calls back to back per sample, as many as make it last %d ms, two buffer sets "
                "alternating, %d ms of untimed calls first;\n"
                "copy = device-to-device mem_copy moving the same bytes (src + out), timed the same way; "
                "ref = cpu plugin, 1 thread\n",
                n, o.to.c_str(), b.device_names.empty() ? "?" : b.device_names[0].c_str(),
                has_timing_events(*b.api) ? "device events" : "steady clock + synchronize", o.repeat,
                kMinCallsPerSample, min_sample_ms, warmup_ms_for(o, min_sample_ms));
  else if (device)
    std::printf("%" PRId64 " elements -> %s on device 0 (%s), %s, median of %d after warm-up; "
                "%d calls back to back per sample, two buffer sets alternating;\n"
                "copy = device-to-device mem_copy moving the same bytes (src + out), timed the same way; "
                "ref = cpu plugin, 1 thread\n",
                n, o.to.c_str(), b.device_names.empty() ? "?" : b.device_names[0].c_str(),
                has_timing_events(*b.api) ? "device events" : "steady clock + synchronize", o.repeat,
                kMinCallsPerSample);
  else
    std::printf("%" PRId64 " elements -> %s, steady clock, median of %d after warm-up; copy = memcpy "
                "of the output size on %d thread%s; ref = PyPI gguf (gguf.quants.dequantize, f32, best of 2)\n",
                n, o.to.c_str(), o.repeat, threads, threads == 1 ? "" : "s");
  if (two_copies) {
    // Issue 15's reference is a vkCmdCopyBuffer of the same bytes; say which copy this is.
    const char *copy = std::getenv("DQ_VULKAN_COPY");
    const char *identity = std::getenv("DQ_VULKAN_F32_IDENTITY");
    std::printf("vulkan copy = %s; shader = %s; both the best of their samples\n",
                copy && std::string(copy) == "shader"
                    ? "a compute-shader copy (DQ_VULKAN_COPY=shader), not vkCmdCopyBuffer"
                    : "vkCmdCopyBuffer",
                identity && std::string(identity) == "shader"
                    ? "F32 -> f32 dequantize on float.comp (DQ_VULKAN_F32_IDENTITY=shader), not a copy"
                    : "the plugin's compute-shader copy (its F32 -> f32 dequantize on device memory)");
  }
  if (device && o.verbose)
    std::printf("--verbose: under each row, per measurement (row, copy%s), the median of buffer set 0 alone and "
                "set 1 alone, the slowest and fastest sample, the calls per sample, and event time / host wall "
                "time (about calls / (calls + 1) or more when the events time the work: the wall time "
                "may include the untimed lead-in call)\n", two_copies ? ", shader" : "");
  std::printf("GB/s count bytes read + bytes written (1 GB = 1e9 B); copy GB/s counts 2 x size.\n\n");
  if (two_copies) {
    std::printf("%-8s %10s %9s %10s %8s %11s %9s %10s %9s\n", "type", "Melem/s", "GB/s", "copy GB/s", "vs copy",
                "shader GB/s", "vs shader", "ref GB/s", "speed-up");
    return;
  }
  std::printf("%-8s %10s %9s %10s %8s %10s %9s\n", "type", "Melem/s", "GB/s", "copy GB/s", "vs copy",
              device ? "ref GB/s" : "gguf GB/s", "speed-up");
}

void print_row(const Row &r, int64_t n) {
  const double gbs = (r.src_bytes + r.dst_bytes) / r.seconds / 1e9;
  const double copy = 2.0 * (r.copy_bytes ? r.copy_bytes : r.dst_bytes) / r.copy_seconds / 1e9;
  char ref[32] = "n/a", speed[32] = "n/a";
  if (r.ref_seconds > 0) {
    std::snprintf(ref, sizeof ref, "%.3f", (r.src_bytes + r.dst_bytes) / r.ref_seconds / 1e9);
    std::snprintf(speed, sizeof speed, "%.1fx", r.ref_seconds / r.seconds);
  }
  if (r.shader_copy_seconds > 0) {
    const double shader = 2.0 * (r.copy_bytes ? r.copy_bytes : r.dst_bytes) / r.shader_copy_seconds / 1e9;
    std::printf("%-8s %10.1f %9.2f %10.2f %7.0f%% %11.2f %8.0f%% %10s %9s\n", type_traits(r.type)->name,
                n / r.seconds / 1e6, gbs, copy, 100.0 * gbs / copy, shader, 100.0 * gbs / shader, ref, speed);
    std::fflush(stdout);
    return;
  }
  std::printf("%-8s %10.1f %9.2f %10.2f %7.0f%% %10s %9s\n", type_traits(r.type)->name,
              n / r.seconds / 1e6, gbs, copy, 100.0 * gbs / copy, ref, speed);
  std::fflush(stdout);
}

// Host backend rows.
int bench_host(const BenchOptions &o, const Bench &bench, const std::vector<int32_t> &types,
               int threads) {
  const int64_t n = o.elements;
  const size_t out_size = output_type_size(bench.dst_type);
  print_header(o, bench.backend, threads, n, false);
  const bool with_gguf = !o.no_gguf && bench.backend.name == "cpu" && gguf_importable();
  // Page-aligned, touched once: the timing sees neither page faults nor misalignment.
  const size_t out_bytes = static_cast<size_t>(n) * out_size;
  AlignedBuffer out(out_bytes), copy_dst(out_bytes);
  ParallelCopy copier(threads);
  for (int32_t type : types) {
    const TypeTraits *t = type_traits(type);
    if (n % t->block_elements != 0) {
      std::printf("%-8s skipped: %" PRId64 " elements is not a multiple of %" PRId64 "\n", t->name, n,
                  t->block_elements);
      continue;
    }
    const std::vector<uint8_t> src = random_tensor(type, n / t->block_elements);
    Row r{type};
    r.src_bytes = src.size();
    r.dst_bytes = out_bytes;
    // Dequantize and memcpy runs alternate, so both see the same machine (other processes,
    // clock changes); each column is the median of its runs after one warm-up of each.
    auto dequantize = [&] {
      return bench.dequantize(type, src.data(), src.size(), out.data(), out_bytes, n, true, nullptr);
    };
    auto copy = [&] { copier.copy(copy_dst.data(), out.data(), out_bytes); };
    if (!dequantize()) {
      std::fprintf(stderr, "dq bench: %s: dequantize %s failed: %s\n", bench.backend.name.c_str(), t->name,
                   bench.api.last_error());
      return kExitFailure;
    }
    copy();
    std::vector<double> runs, copy_runs;
    for (int rep = 0; rep < o.repeat; ++rep) {
      auto t0 = Clock::now();
      dequantize();
      auto t1 = Clock::now();
      copy();
      auto t2 = Clock::now();
      runs.push_back(std::chrono::duration<double>(t1 - t0).count());
      copy_runs.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    r.seconds = median(runs);
    r.copy_seconds = median(copy_runs);
    // gguf's F32 "dequantization" returns a view of its input: nothing to compare.
    if (with_gguf && type != DQ_TYPE_F32) r.ref_seconds = time_gguf(type, src);
    print_row(r, n);
  }
  return kExitOk;
}

// Device backend rows: events around dequantize / mem_copy on device memory.
int bench_device(const BenchOptions &o, const Bench &bench, const core::Backend *cpu,
                 const std::vector<int32_t> &types) {
  const dq_plugin_api &api = bench.api;
  const size_t out_size = output_type_size(bench.dst_type);
  // Several times the largest L2 (50 MiB on H100): at least 256 MiB of output.
  int64_t n = o.elements;
  while (static_cast<uint64_t>(n) * out_size < (uint64_t{256} << 20)) n *= 2;
  const int min_sample_ms = min_sample_ms_for(o, bench.backend.name);
  print_header(o, bench.backend, 1, n, true, min_sample_ms);
  void *stream = nullptr, *ev0 = nullptr, *ev1 = nullptr;
  if (api.stream_create && api.stream_create(0, &stream) != DQ_OK) stream = nullptr;
  const bool events = has_timing_events(api);
  if (events && (api.event_create(0, &ev0) != DQ_OK || api.event_create(0, &ev1) != DQ_OK)) {
    std::fprintf(stderr, "dq bench: %s: event_create failed: %s\n", bench.backend.name.c_str(), api.last_error());
    return kExitFailure;
  }
  const size_t out_bytes = static_cast<size_t>(n) * out_size;
  void *d_out = nullptr, *d_copy = nullptr, *d_src = nullptr, *d_src2 = nullptr;
  int rc = kExitOk;
  auto fail = [&](const char *what) {
    std::fprintf(stderr, "dq bench: %s: %s failed: %s\n", bench.backend.name.c_str(), what, api.last_error());
    rc = kExitFailure;
  };
  // Seconds per call of `launch(i)`, median of `repeat` samples after a warm-up (device_timing:
  // calls queued back to back between two events, alternating two buffer sets so none reads
  // what the last left in L2; --verbose also times each set alone).
  // best: the fastest sample instead of the median (the copy references of two_copy_columns).
  const DeviceTimer timer{api,          stream,        events ? ev0 : nullptr,
                          events ? ev1 : nullptr, o.repeat, min_sample_ms,
                          warmup_ms_for(o, min_sample_ms), o.verbose};
  auto time_events = [&](const std::function<bool(int)> &launch, double *seconds, DeviceTiming *timing,
                         bool best = false) {
    if (!time_device(timer, launch, timing)) return false;
    *seconds = best ? timing->best() : timing->median();
    return true;
  };
  if (api.mem_alloc(0, out_bytes, &d_out) != DQ_OK || api.mem_alloc(0, out_bytes, &d_copy) != DQ_OK) {
    fail("mem_alloc");
  } else {
    for (int32_t type : types) {
      const TypeTraits *t = type_traits(type);
      if (n % t->block_elements != 0) continue;
      const std::vector<uint8_t> src = random_tensor(type, n / t->block_elements);
      Row r{type};
      r.src_bytes = src.size();
      r.dst_bytes = out_bytes;
      if (api.mem_alloc(0, src.size(), &d_src) != DQ_OK) { fail("mem_alloc"); break; }
      if (api.mem_alloc(0, src.size(), &d_src2) != DQ_OK) { fail("mem_alloc"); break; }
      if (api.mem_copy(0, d_src, src.data(), src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr) != DQ_OK ||
          api.mem_copy(0, d_src2, src.data(), src.size(), DQ_COPY_HOST_TO_DEVICE, nullptr) != DQ_OK ||
          api.synchronize(0, nullptr) != DQ_OK) { fail("mem_copy"); break; }
      void *const srcs[2] = {d_src, d_src2};
      void *const outs[2] = {d_out, d_copy};
      DeviceTiming row_timing, copy_timing, shader_timing;
      if (!time_events([&](int i) {
            return bench.dequantize(type, srcs[i & 1], src.size(), outs[i & 1], out_bytes, n, false, stream);
          }, &r.seconds, &row_timing)) { fail("dequantize"); break; }
      // The copy reference moves the same bytes as the dequantization (src + out, half read
      // and half written), between the two output buffers, timed the same way.
      const size_t copy_bytes = std::min(out_bytes, (src.size() + out_bytes) / 2 / 256 * 256);
      r.copy_bytes = copy_bytes;
      const bool two_copies = two_copy_columns(bench.backend);
      if (!time_events([&](int i) {
            return api.mem_copy(0, outs[(i + 1) & 1], outs[i & 1], copy_bytes, DQ_COPY_DEVICE_TO_DEVICE,
                                stream) == DQ_OK;
          }, &r.copy_seconds, &copy_timing, two_copies)) { fail("mem_copy (device to device)"); break; }
      if (two_copies) {
        const Bench identity{bench.backend, api, DQ_TYPE_F32};
        const int64_t words = static_cast<int64_t>(copy_bytes / 4);
        if (!time_events([&](int i) {
              return identity.dequantize(DQ_TYPE_F32, outs[i & 1], copy_bytes, outs[(i + 1) & 1], copy_bytes, words,
                                         false, stream);
            }, &r.shader_copy_seconds, &shader_timing, true)) { fail("dequantize f32 -> f32 (shader copy)"); break; }
      }
      api.mem_free(0, d_src);
      api.mem_free(0, d_src2);
      d_src = d_src2 = nullptr;
      if (cpu && cpu->api && cpu->loaded() && backend_supports(*cpu, type, bench.dst_type)) {
        // The cpu plugin runs on one thread here (DQ_THREADS=1 was set before it loaded).
        const Bench cpu_bench{*cpu, *cpu->api, bench.dst_type};
        std::vector<uint8_t> host_out(out_bytes);
        bool ok = false;
        const double s = time_host(1, [&] {
          return cpu_bench.dequantize(type, src.data(), src.size(), host_out.data(), out_bytes, n, true, nullptr);
        }, &ok);
        if (ok) r.ref_seconds = s;
      }
      print_row(r, n);
      if (o.verbose) {
        const char *name = t->name;
        std::printf("%s\n", describe_sets(name, "row", row_timing, double(r.src_bytes + r.dst_bytes)).c_str());
        std::printf("%s\n", describe_sets(name, "copy", copy_timing, 2.0 * copy_bytes).c_str());
        if (two_copies)
          std::printf("%s\n", describe_sets(name, "shader", shader_timing, 2.0 * copy_bytes).c_str());
        std::fflush(stdout);
      }
    }
  }
  if (d_src) api.mem_free(0, d_src);
  if (d_src2) api.mem_free(0, d_src2);
  if (d_out) api.mem_free(0, d_out);
  if (d_copy) api.mem_free(0, d_copy);
  if (ev0) api.event_destroy(0, ev0);
  if (ev1) api.event_destroy(0, ev1);
  if (stream && api.stream_destroy) api.stream_destroy(0, stream);
  return rc;
}

int run_bench(const BenchOptions &o) {
  if (o.elements <= 0) {
    std::fprintf(stderr, "dq bench: --elements must be positive\n");
    return kExitUsage;
  }
  const int32_t dst = o.to == "f32" ? DQ_TYPE_F32 : o.to == "f16" ? DQ_TYPE_F16 : DQ_TYPE_BF16;
  // The cpu plugin reads DQ_THREADS when it loads: set it first. A device bench compares
  // against the cpu plugin on one thread.
  int threads = o.threads > 0 ? o.threads : online_cores();
  if (o.backend != "cpu") setenv("DQ_THREADS", "1", 1);
  else if (o.threads > 0) setenv("DQ_THREADS", std::to_string(o.threads).c_str(), 1);
  else if (const char *env = std::getenv("DQ_THREADS"); env && std::atoi(env) > 0) threads = std::atoi(env);

  dq_context *ctx = nullptr;
  if (dq_context_create(&ctx) != DQ_OK) {
    std::fprintf(stderr, "dq bench: cannot create a context\n");
    return kExitFailure;
  }
  int rc = kExitOk;
  {
    core::Registry &reg = core::registry(ctx);
    const core::Backend *b = reg.find(o.backend);
    std::string error;
    std::optional<std::vector<int32_t>> types;
    if (!b) {
      std::fprintf(stderr, "dq bench: backend '%s' not found (searched %s)\n", o.backend.c_str(),
                   reg.searched_text().c_str());
      rc = kExitUsage;  // a name the user chose, as --types
    } else if (!b->loaded() || !b->has_device()) {
      std::fprintf(stderr, "dq bench: backend '%s' is not usable: %s\n", o.backend.c_str(), b->status.c_str());
      rc = kExitFailure;
    } else if (!(types = parse_types(o.types, *b, dst, &error))) {
      std::fprintf(stderr, "dq bench: --types %s: %s\n", o.types.c_str(), error.c_str());
      rc = kExitUsage;
    } else {
      const Bench bench{*b, *b->api, dst};
      if (!o.shapes.empty()) {
        ParallelCopy copier(threads);
        ShapeBench sb;
        sb.ctx = ctx;
        sb.backend = b;
        sb.dst_type = dst;
        sb.repeat = o.repeat;
        sb.shapes = o.shapes;
        sb.random_tensor = random_tensor;
        sb.host_copy = [&](uint8_t *to, const uint8_t *from, size_t bytes) { copier.copy(to, from, bytes); };
        rc = bench_shapes(sb, *types);
      } else {
        rc = is_device_backend(*b->api) ? bench_device(o, bench, reg.find("cpu"), *types)
                                        : bench_host(o, bench, *types, threads);
      }
    }
  }
  dq_context_destroy(ctx);
  return rc;
}

}  // namespace

Action register_bench(CLI::App &app) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App *sub = app.add_subcommand("bench", "Measure dequantization throughput of a backend");
  sub->add_option("--backend", opts->backend, "Backend to measure")->capture_default_str();
  sub->add_option("--types", opts->types, "Comma-separated type names (q4_0,q6_K,...) or 'all'")
      ->capture_default_str();
  // At most 2^32 elements: 16 GiB of f32 output, already more than a useful measurement.
  add_count_option(*sub, "--elements", opts->elements, 1, int64_t{1} << 32,
                   "Elements per tensor (default 16777216)");
  sub->add_option("--to", opts->to, "Output type")->capture_default_str()
      ->check(CLI::IsMember({"f32", "f16", "bf16"}));
  add_count_option(*sub, "--threads", opts->threads, 1, 1024,
                   "CPU threads (default: DQ_THREADS or all cores)");
  add_count_option(*sub, "--repeat", opts->repeat, 1, 1000,
                   "Timed runs per measurement (median, default 7)");
  sub->add_flag("--no-gguf", opts->no_gguf, "Do not time the PyPI gguf package");
  add_count_option(*sub, "--min-sample-ms", opts->min_sample_ms, 0, 10000,
                   "Device backends: repeat the calls of a sample until it lasts this long, so clocks "
                   "cannot drop between short bursts (default: 50 on vulkan, 0 = 4 calls elsewhere)");
  add_count_option(*sub, "--warmup-ms", opts->warmup_ms, 0, 60000,
                   "Device backends with --min-sample-ms: untimed calls for this long before each "
                   "measurement's samples (default: 4 x --min-sample-ms)");
  sub->add_flag("--verbose", opts->verbose,
                "Device backends: under each row, each buffer set's median timed alone, the slowest and "
                "fastest sample, the calls per sample and event time / wall time");
  sub->add_option("--shapes", opts->shapes,
                  "Instead of the type rows: shapes RxC (at most 2^32 elements), 'layer' (llama-3-8B's seven matrices in "
                  "one dq_dequantize_batch call) or 'layer/N' (each side / N), comma-separated, or "
                  "'default' (4096x4096,4096x14336,3072x3072,layer); each row beside "
                  "(bytes read + written) / copy rate + one launch, measured in the same run");
  return [opts] { return run_bench(*opts); };
}

}  // namespace dq::tool
