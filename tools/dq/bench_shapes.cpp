// dq bench --shapes (see bench_shapes.hpp). Everything goes through the public C API
// (dq_dequantize, dq_dequantize_batch) on the backend's own memory, as a caller would call it;
// device work is queued on a caller stream and timed with the plugin's events.
#include "bench_shapes.hpp"

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>

#include "commands.hpp"
#include "dq/dq_plugin.h"
#include "dq_common/type_traits.hpp"

namespace dq::tool {
namespace {

using Clock = std::chrono::steady_clock;

// Calls per timed sample, back to back behind one untimed call (as the type rows).
constexpr int kCallsPerSample = 4;
// The copy that gives the rate: large next to any cache (256 MiB each way on a device).
constexpr size_t kDeviceCopyBytes = size_t{256} << 20;
constexpr size_t kHostCopyBytes = size_t{64} << 20;

// Limits of an RxC shape.
constexpr long long kMaxSide = 1 << 20;
constexpr long long kMaxElements = 1ll << 32;

struct Matrix {
  const char *name;
  int64_t rows, cols;
};

// One row: one matrix (a plain shape) or several in one batch call (a layer).
struct Shape {
  std::string label;
  std::vector<Matrix> matrices;
  bool batch = false;
};

// llama-3-8B: hidden 4096, 8 KV heads of 128, FFN 14336.
const Matrix kLlama3Layer[] = {{"q", 4096, 4096},  {"k", 1024, 4096},     {"v", 1024, 4096},
                               {"o", 4096, 4096},  {"gate", 14336, 4096}, {"up", 14336, 4096},
                               {"down", 4096, 14336}};

std::optional<Shape> parse_shape(const std::string &item) {
  if (item.rfind("layer", 0) == 0) {
    int64_t div = 1;
    if (item.size() > 5) {
      if (item[5] != '/') return std::nullopt;
      char *end = nullptr;
      div = std::strtoll(item.c_str() + 6, &end, 10);
      if (*end || div < 1 || 1024 % div != 0) return std::nullopt;
    }
    Shape s{div == 1 ? "layer" : item, {}, true};
    for (const Matrix &m : kLlama3Layer) s.matrices.push_back({m.name, m.rows / div, m.cols / div});
    return s;
  }
  char *end = nullptr;
  const long long r = std::strtoll(item.c_str(), &end, 10);
  if (*end != 'x') return std::nullopt;
  const long long c = std::strtoll(end + 1, &end, 10);
  // At most 2^32 elements, as --elements: 2^20 x 2^20 would ask for terabytes.
  if (*end || r < 1 || c < 1 || r > kMaxSide || c > kMaxSide || r * c > kMaxElements)
    return std::nullopt;
  return Shape{item, {{"w", r, c}}, false};
}

std::optional<std::vector<Shape>> parse_shapes(std::string text) {
  if (text == "default") text = "4096x4096,4096x14336,3072x3072,layer";
  std::vector<Shape> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto s = parse_shape(item);
    if (!s) return std::nullopt;
    out.push_back(std::move(*s));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Memory of the backend (device memory, or page-aligned host memory for a host backend).
class Memory {
 public:
  Memory(dq_context *ctx, dq_location where, size_t bytes) : ctx_(ctx), where_(where) {
    if (where.backend) {
      if (dq_malloc(ctx, where, bytes, &p_) != DQ_OK) p_ = nullptr;
    } else {
      p_ = std::aligned_alloc(4096, (bytes + 4095) / 4096 * 4096);
    }
  }
  ~Memory() {
    if (!p_) return;
    if (where_.backend) dq_free(ctx_, where_, p_);
    else std::free(p_);
  }
  Memory(const Memory &) = delete;
  Memory &operator=(const Memory &) = delete;
  uint8_t *get() const { return static_cast<uint8_t *>(p_); }

 private:
  dq_context *ctx_;
  dq_location where_;
  void *p_ = nullptr;
};

class Runner {
 public:
  explicit Runner(const ShapeBench &b) : b_(b), api_(*b.backend->api) {
    device_ = api_.mem_alloc && api_.synchronize;
    where_ = device_ ? dq_location{b.backend->name.c_str(), 0} : dq_location{nullptr, 0};
    events_ = device_ && api_.event_create && api_.event_record && api_.event_synchronize &&
              api_.event_elapsed_ms && api_.event_destroy;
    if (device_ && api_.stream_create && api_.stream_create(0, &stream_) != DQ_OK) stream_ = nullptr;
    if (events_ && (api_.event_create(0, &ev0_) != DQ_OK || api_.event_create(0, &ev1_) != DQ_OK))
      events_ = false;
  }
  ~Runner() {
    if (ev0_) api_.event_destroy(0, ev0_);
    if (ev1_) api_.event_destroy(0, ev1_);
    if (stream_ && api_.stream_destroy) api_.stream_destroy(0, stream_);
  }
  bool device() const { return device_; }
  dq_location where() const { return where_; }

  std::unique_ptr<Memory> alloc(size_t bytes) const {
    auto m = std::make_unique<Memory>(b_.ctx, where_, bytes);
    return m->get() ? std::move(m) : nullptr;
  }
  bool upload(uint8_t *dst, const std::vector<uint8_t> &src) const {
    return dq_memcpy(b_.ctx, dst, where_, src.data(), dq_location{nullptr, 0}, src.size()) == DQ_OK;
  }
  dq_dequantize_request request(int32_t type, const uint8_t *src, int64_t n, uint8_t *dst) const {
    const TypeTraits &t = *type_traits(type);
    dq_dequantize_request r{};
    r.struct_size = sizeof r;
    r.src_type = type;
    r.dst_type = b_.dst_type;
    r.src = src;
    r.src_bytes = static_cast<size_t>(n / t.block_elements) * t.block_bytes;
    r.n_elements = n;
    r.dst = dst;
    r.dst_bytes = static_cast<size_t>(n) * output_type_size(b_.dst_type);
    r.src_where = r.dst_where = where_;
    r.stream = stream_;
    r.backend = b_.backend->name.c_str();
    return r;
  }
  // Seconds per call of launch(i), median of the samples; calls alternate i between buffer
  // sets 0 and 1 so none reads what the last left in a cache.
  std::optional<double> time(const std::function<bool(int)> &launch) const {
    if (!launch(0) || !launch(1) || !sync()) return std::nullopt;
    std::vector<double> runs;
    for (int r = 0; r < b_.repeat; ++r) {
      if (events_) {
        float ms = 0;
        if (!launch(1) || api_.event_record(0, ev0_, stream_) != DQ_OK) return std::nullopt;
        for (int c = 0; c < kCallsPerSample; ++c)
          if (!launch(c)) return std::nullopt;
        if (api_.event_record(0, ev1_, stream_) != DQ_OK || api_.event_synchronize(0, ev1_) != DQ_OK ||
            api_.event_elapsed_ms(0, ev0_, ev1_, &ms) != DQ_OK)
          return std::nullopt;
        runs.push_back(ms / 1e3 / kCallsPerSample);
      } else {
        const auto t0 = Clock::now();
        for (int c = 0; c < kCallsPerSample; ++c)
          if (!launch(c)) return std::nullopt;
        if (!sync()) return std::nullopt;
        runs.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / kCallsPerSample);
      }
    }
    return median(runs);
  }
  // Bytes per second of a large copy within the backend's memory (read + written).
  std::optional<double> copy_rate() const {
    const size_t bytes = device_ ? kDeviceCopyBytes : kHostCopyBytes;
    auto a = alloc(bytes), c = alloc(bytes);
    if (!a || !c) return std::nullopt;
    uint8_t *const bufs[2] = {a->get(), c->get()};
    if (!device_) {
      std::fill(bufs[0], bufs[0] + bytes, uint8_t{1});
      std::fill(bufs[1], bufs[1] + bytes, uint8_t{2});
    }
    const auto s = time([&](int i) {
      if (!device_) {
        b_.host_copy(bufs[(i + 1) & 1], bufs[i & 1], bytes);
        return true;
      }
      return api_.mem_copy(0, bufs[(i + 1) & 1], bufs[i & 1], bytes, DQ_COPY_DEVICE_TO_DEVICE, stream_) == DQ_OK;
    });
    if (!s) return std::nullopt;
    return 2.0 * static_cast<double>(bytes) / *s;
  }
  // Seconds of one tiny call (one Q8_0 block, or one element of the first type): the cost
  // of a launch and of the call around it.
  std::optional<double> launch_seconds(int32_t type) const {
    const TypeTraits &t = *type_traits(type);
    const std::vector<uint8_t> src = b_.random_tensor(type, 1);
    auto s = alloc(src.size()), d = alloc(static_cast<size_t>(t.block_elements) * 4);
    if (!s || !d) return std::nullopt;
    if (!device_) std::copy(src.begin(), src.end(), s->get());
    else if (!upload(s->get(), src)) return std::nullopt;
    const dq_dequantize_request r = request(type, s->get(), t.block_elements, d->get());
    return time([&](int) { return dq_dequantize(b_.ctx, &r) == DQ_OK; });
  }

 private:
  bool sync() const { return !device_ || dq_synchronize(b_.ctx, where_, stream_) == DQ_OK; }

  const ShapeBench &b_;
  const dq_plugin_api &api_;
  bool device_ = false, events_ = false;
  dq_location where_{};
  void *stream_ = nullptr, *ev0_ = nullptr, *ev1_ = nullptr;
};

// Times one row; prints it. False (with a message) when a call failed.
bool run_row(const ShapeBench &b, const Runner &run, const Shape &shape, int32_t type, double rate,
             double launch) {
  const TypeTraits &t = *type_traits(type);
  int64_t total = 0;
  for (const Matrix &m : shape.matrices) {
    const int64_t n = m.rows * m.cols;
    if (n % t.block_elements != 0) {
      std::printf("%-14s %-8s skipped: %" PRId64 " elements is not a multiple of %" PRId64 "\n",
                  shape.label.c_str(), t.name, n, t.block_elements);
      return true;
    }
    total += n;
  }
  const size_t out = output_type_size(b.dst_type);
  int64_t largest = 0;
  for (const Matrix &m : shape.matrices) largest = std::max(largest, m.rows * m.cols);
  const std::vector<uint8_t> data = b.random_tensor(type, largest / t.block_elements);
  // Two buffer sets, each matrix its own source and destination.
  std::vector<std::unique_ptr<Memory>> mem;
  std::vector<dq_dequantize_request> reqs[2];
  uint64_t bytes = 0;
  for (int set = 0; set < 2; ++set)
    for (const Matrix &m : shape.matrices) {
      const int64_t n = m.rows * m.cols;
      const size_t src_bytes = static_cast<size_t>(n / t.block_elements) * t.block_bytes;
      auto s = run.alloc(src_bytes), d = run.alloc(static_cast<size_t>(n) * out);
      if (!s || !d) {
        std::fprintf(stderr, "dq bench: %s: cannot allocate %s of %s\n", b.backend->name.c_str(), m.name,
                     shape.label.c_str());
        return false;
      }
      const std::vector<uint8_t> src(data.begin(), data.begin() + static_cast<ptrdiff_t>(src_bytes));
      if (run.device()) {
        if (!run.upload(s->get(), src)) return false;
      } else {
        std::copy(src.begin(), src.end(), s->get());
        std::fill(d->get(), d->get() + n * static_cast<int64_t>(out), uint8_t{0});
      }
      reqs[set].push_back(run.request(type, s->get(), n, d->get()));
      if (set == 0) bytes += src_bytes + static_cast<uint64_t>(n) * out;
      mem.push_back(std::move(s));
      mem.push_back(std::move(d));
    }
  const auto seconds = run.time([&](int i) {
    const auto &r = reqs[i & 1];
    return shape.batch ? dq_dequantize_batch(b.ctx, r.data(), r.size()) == DQ_OK
                       : dq_dequantize(b.ctx, &r[0]) == DQ_OK;
  });
  if (!seconds) {
    std::fprintf(stderr, "dq bench: %s: %s of %s failed: %s\n", b.backend->name.c_str(), t.name,
                 shape.label.c_str(), dq_last_error(b.ctx));
    return false;
  }
  const double bound = static_cast<double>(bytes) / rate + launch;
  const std::string label =
      shape.batch ? shape.label + " (" + std::to_string(shape.matrices.size()) + ")" : shape.label;
  std::printf("%-14s %-8s %11" PRId64 " %9.1f %10.1f %10.1f %6.2fx\n", label.c_str(), t.name, total,
              bytes / 1e6, *seconds * 1e6, bound * 1e6, *seconds / bound);
  std::fflush(stdout);
  return true;
}

}  // namespace

int bench_shapes(const ShapeBench &b, const std::vector<int32_t> &types) {
  const auto shapes = parse_shapes(b.shapes);
  if (!shapes) {
    std::fprintf(stderr,
                 "dq bench: --shapes '%s': expected a comma-separated list of RxC (R and C from "
                 "1 to %lld, R x C at most %lld), 'layer' or 'layer/N' (N dividing 1024), or "
                 "'default'\n",
                 b.shapes.c_str(), kMaxSide, kMaxElements);
    return kExitUsage;
  }
  const Runner run(b);
  const auto rate = run.copy_rate();
  const auto launch = run.launch_seconds(type_is_dequantizable(DQ_TYPE_Q8_0) &&
                                                 b.backend->supports(DQ_TYPE_Q8_0, b.dst_type)
                                             ? DQ_TYPE_Q8_0
                                             : types.front());
  if (!rate || !launch) {
    std::fprintf(stderr, "dq bench: %s: measuring the copy rate or the launch failed: %s\n",
                 b.backend->name.c_str(), dq_last_error(b.ctx));
    return kExitFailure;
  }
  const char *out = b.dst_type == DQ_TYPE_F32 ? "f32" : b.dst_type == DQ_TYPE_F16 ? "f16" : "bf16";
  std::printf("\nshapes -> %s on %s, through dq_dequantize / dq_dequantize_batch%s; median of %d, "
              "%d calls per sample, two buffer sets alternating.\n"
              "bound = (bytes read + written) / copy rate + one launch, measured in this run: "
              "copy %.2f GB/s (%s, %zu MiB), launch %.1f us (a one-block call)\n\n",
              out, b.backend->name.c_str(), run.device() ? " on a caller stream" : "", b.repeat,
              kCallsPerSample, *rate / 1e9, run.device() ? "device to device" : "memcpy",
              (run.device() ? kDeviceCopyBytes : kHostCopyBytes) >> 20, *launch * 1e6);
  std::printf("%-14s %-8s %11s %9s %10s %10s %7s\n", "shape", "type", "elements", "MB moved", "time us",
              "bound us", "ratio");
  for (const Shape &s : *shapes)
    for (int32_t type : types)
      if (!run_row(b, run, s, type, *rate, *launch)) return kExitFailure;
  return kExitOk;
}

}  // namespace dq::tool
