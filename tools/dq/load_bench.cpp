// The loader benchmark (see load_bench.hpp). Everything is measured in the same process on
// the same file (in the page cache), so the ratios compare like with like:
//   bus      pinned host-to-device copy of 256 MiB, median of 11
//   loader   dq_loader_load with a warmed loader (staging set up once), median of --repeat;
//            also one cold dq_load (staging set up inside) and a copy-thread sweep
//   old path per tensor: the CPU plugin dequantizes to the output type on the host, then
//            dq_memcpy uploads it (what an engine without the loader does)
// Then every tensor of the loader's output is compared byte for byte with the old path's.
#include "load_bench.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "commands.hpp"
#include "number_option.hpp"
#include "loader/synthetic_model.hpp"

namespace dq::tool {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Reads the whole file once so it sits in the page cache (it should already, after writing),
// and waits for its write-back: disk writes of freshly written pages run in the background for
// seconds and would be timed along with the first loads.
void warm_page_cache(const std::string &path) {
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fsync(fd);
  std::vector<char> buf(64 << 20);
  while (read(fd, buf.data(), buf.size()) > 0) {
  }
  close(fd);
}

struct LoadTiming {
  double total = 0, pipeline = 0, setup = 0;  // medians
};

// DQ_BENCH_IDLE_MS overrides (alloc_probe measures how long the slowdown lasts). Read on
// first use: a bad value is reported by `dq load --bench-model` only.
int idle_ms() {
  static const int ms =
      static_cast<int>(number_from_env("DQ_BENCH_IDLE_MS", {1, 600000, true}, 500));
  return ms;
}

// `idle_ms` > 0: the loader sits idle that long before each load (outside the timing), as
// between the loads of an engine, so background work of the previous load's free has ended.
LoadTiming time_loads(const Loader &loader, const Model &model, LoadOptions &o, int n,
                      int idle_ms = 0) {
  std::vector<double> tot, pipe, setup;
  for (int i = 0; i < n; ++i) {
    if (idle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms));
    LoadedModel lm = loader.load(model, o);
    const dq_load_stats s = lm.stats();
    tot.push_back(s.seconds_total);
    pipe.push_back(s.seconds_pipeline);
    setup.push_back(s.seconds_setup);
  }
  return {median(tot), median(pipe), median(setup)};
}

// Destination buffers made once by the caller (the documented fast path for repeated loads:
// dq_load_options.buffer_fn), one block laid out like the loader's own arena.
struct CallerBuffers {
  DeviceBuffer arena;
  std::map<std::string, uint64_t> offset;
};

CallerBuffers make_caller_buffers(const Context &ctx, const Location &where,
                                  const LoadedModel &like) {
  CallerBuffers b;
  uint64_t total = 0;
  for (const LoadedTensor &t : like.tensors()) {
    b.offset[t.name] = total;
    total += (t.n_bytes + 255) / 256 * 256;
  }
  b.arena = DeviceBuffer(ctx, where, total);
  return b;
}

// The old path: CPU plugin to host memory, then one synchronous upload per tensor.
struct OldPath {
  double seconds = 0;
  DeviceBuffer arena;
  std::vector<uint64_t> offsets;
};

OldPath run_old_path(const Context &ctx, const Model &model, const Location &where, int32_t to) {
  OldPath r;
  const auto tensors = model.tensors();
  const auto t0 = Clock::now();
  uint64_t total = 0, largest = 0;
  std::vector<uint64_t> sizes;
  for (const auto &t : tensors) {
    const uint64_t out = (to == DQ_LOAD_KEEP || t.type == to)
                             ? t.n_bytes
                             : t.n_elements * (to == DQ_TYPE_F32 ? 4u : 2u);
    sizes.push_back(out);
    r.offsets.push_back(total);
    total += (out + 255) / 256 * 256;
    largest = std::max(largest, out);
  }
  r.arena = DeviceBuffer(ctx, where, total);
  std::vector<uint8_t> host(largest);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto &t = tensors[i];
    if (sizes[i] == t.n_bytes && (to == DQ_LOAD_KEEP || t.type == to)) {
      std::memcpy(host.data(), t.data, t.n_bytes);
    } else {
      DequantizeRequest q;
      q.src_type = t.type;
      q.dst_type = to;
      q.src = t.data;
      q.src_bytes = t.n_bytes;
      q.n_elements = t.n_elements;
      q.dst = host.data();
      q.dst_bytes = sizes[i];
      q.backend = "cpu";
      dequantize(ctx, q);
    }
    ctx.memcpy(static_cast<uint8_t *>(r.arena.data()) + r.offsets[i], where, host.data(),
               Location::host(), sizes[i]);
  }
  r.seconds = since(t0);
  return r;
}

// Compares every loaded tensor with the old path's bytes; returns the number that differ.
int compare_outputs(const Context &ctx, const LoadedModel &lm, const OldPath &old,
                    const Model &model, const Location &where) {
  int bad = 0;
  std::vector<uint8_t> a, b;
  for (const LoadedTensor &t : lm.tensors()) {
    const int64_t mi = dq_model_tensor_find(model.get(), t.name.c_str());
    a.resize(t.n_bytes);
    b.resize(t.n_bytes);
    ctx.memcpy(a.data(), Location::host(), t.data, where, t.n_bytes);
    ctx.memcpy(b.data(), Location::host(),
               static_cast<const uint8_t *>(old.arena.data()) + old.offsets[mi], where, t.n_bytes);
    if (std::memcmp(a.data(), b.data(), t.n_bytes) != 0) {
      if (bad < 5)
        std::fprintf(stderr, "dq: bench: tensor %s differs from the old path\n", t.name.c_str());
      ++bad;
    }
  }
  return bad;
}

}  // namespace

int run_load_bench(const Context &ctx, const BenchConfig &cfg) {
  const auto spec = loader::synth::llama_like_of_size(cfg.gigabytes);
  // DQ_BENCH_KEEP_MODEL=PATH writes the model there and leaves it (for timing `dq load PATH`
  // as the first load of a fresh process); otherwise a temporary file.
  TempFile file;
  const char *keep = std::getenv("DQ_BENCH_KEEP_MODEL");
  if (!keep || !*keep)
    file = TempFile::create("dq-bench", ".gguf", loader::synth::file_data_bytes(spec));
  const std::string path = keep && *keep ? std::string(keep) : file.path();
  auto t0 = Clock::now();
  const uint64_t file_size = loader::synth::write_gguf(spec, path);
  const double gen_s = since(t0);
  warm_page_cache(path);
  const uint64_t data_bytes = loader::synth::file_data_bytes(spec);
  std::printf(
      "bench model: %zu tensors, %.3f GB file (%.3f GB tensor data), llama-like "
      "Q4_K/Q6_K/F32, written in %.2f s to %s\n",
      spec.tensors.size(), file_size / 1e9, data_bytes / 1e9, gen_s, path.c_str());
  Model model(ctx, path);
  const std::string dest =
      cfg.where.is_host() ? "host" : cfg.where.backend + ":" + std::to_string(cfg.where.device);
  const std::string to = cfg.to == DQ_LOAD_KEEP ? "keep" : std::string(type_name(cfg.to));

  double bus = 0;
  if (!cfg.where.is_host()) bus = measure_h2d_bandwidth(ctx, cfg.where, 256ull << 20, 11);

  LoadOptions o;
  o.device(cfg.where).output(cfg.to).staging_budget(cfg.budget).copy_threads(cfg.threads);
  t0 = Clock::now();
  Loader loader(ctx, o);
  const double loader_setup = since(t0);
  LoadedModel last = loader.load(model, o);  // warm-up (first touch of the mapping, allocator)
  const dq_load_stats ws = last.stats();
  last = LoadedModel();
  const LoadTiming warm = time_loads(loader, model, o, std::max(cfg.repeat, 1));
  // The device cleans freed memory up in the background and that slows host-to-device copies
  // for a while (alloc_probe: 2 GiB took 59 ms instead of 42 right after freeing 7.2 GB), so
  // back-to-back loads that free the previous outputs first are timed apart from loads that
  // start idle_ms() after it (an engine loading a model has not just freed one).
  const LoadTiming warm_idle = time_loads(loader, model, o, std::max(cfg.repeat, 1), idle_ms());
  last = loader.load(model, o);
  const dq_load_stats ls = last.stats();

  // Repeated loads into caller-provided buffers (no device allocation inside the load).
  LoadTiming caller{}, caller_idle{};
  CallerBuffers cb;
  LoadedModel caller_lm;  // its tensors live in cb
  if (!cfg.where.is_host()) {
    cb = make_caller_buffers(ctx, cfg.where, last);
    LoadOptions co = o;
    co.buffers([&](const dq_tensor_info &t, int32_t, int64_t, int64_t, uint64_t) -> void * {
      auto it = cb.offset.find(t.name);
      return it == cb.offset.end() ? nullptr : static_cast<uint8_t *>(cb.arena.data()) + it->second;
    });
    { LoadedModel w = loader.load(model, co); }
    caller = time_loads(loader, model, co, std::max(cfg.repeat, 1));
    caller_idle = time_loads(loader, model, co, std::max(cfg.repeat, 1), idle_ms());
    caller_lm = loader.load(model, co);
  }

  // Cold: one dq_load that sets up its own staging, after the idle pause (the caller buffers
  // were freed just before).
  dq_load_stats cold{};
  {
    std::this_thread::sleep_for(std::chrono::milliseconds(idle_ms()));
    LoadedModel c = load(ctx, model, o);
    cold = c.stats();
  }

  const OldPath old = run_old_path(ctx, model, cfg.where, cfg.to);
  int bad = compare_outputs(ctx, last, old, model, cfg.where);
  if (!cfg.where.is_host()) bad += compare_outputs(ctx, caller_lm, old, model, cfg.where);

  // Copy-method, copy-thread and slot-size sweep (each with its own warmed loader;
  // DQ_LOAD_COPY is read when a loader is made, DQ_LOAD_REGISTER_FRACTION at each load). The
  // last load of each method at 16 threads is checked against the old path's bytes. Hybrid
  // rows (a fraction of the fills uploaded from registered windows of the mapping) are timed
  // with loader-allocated outputs and with the caller buffers, and each is checked.
  struct SweepRow {
    std::string what;
    LoadTiming t;
    double first;
  };
  std::vector<SweepRow> sweep;
  if (!cfg.where.is_host()) {
    const char *env_names[] = {"DQ_LOAD_COPY", "DQ_LOAD_REGISTER_FRACTION",
                               "DQ_LOAD_REGISTER_WINDOW_MIB", "DQ_LOAD_HYBRID_TRACE",
                               "DQ_LOAD_RING_MIB"};
    std::map<std::string, std::string> saved;
    for (const char *n : env_names)
      if (const char *v = std::getenv(n)) saved[n] = v;
    auto measure = [&](const char *method, int th, uint64_t budget, const char *fraction = nullptr,
                       const char *window_mib = nullptr) {
      setenv("DQ_LOAD_COPY", method, 1);
      // The row's size is the ring's: the budget and the ring size both (read at Loader()).
      setenv("DQ_LOAD_RING_MIB", std::to_string(budget >> 20).c_str(), 1);
      if (fraction)
        setenv("DQ_LOAD_REGISTER_FRACTION", fraction, 1);
      else
        unsetenv("DQ_LOAD_REGISTER_FRACTION");
      if (window_mib)
        setenv("DQ_LOAD_REGISTER_WINDOW_MIB", window_mib, 1);
      else
        unsetenv("DQ_LOAD_REGISTER_WINDOW_MIB");
      LoadOptions so = o;
      so.copy_threads(th).staging_budget(budget);
      Loader l(ctx, so);
      double first = 0;
      {
        LoadedModel w = l.load(model, so);
        first = w.stats().seconds_total;
      }
      std::string what = std::string(method) + ", " + std::to_string(th) + " thr, " +
                         std::to_string(budget >> 20) + " MiB ring";
      if (fraction) what += ", reg " + std::string(fraction);
      if (window_mib) what += ", win " + std::string(window_mib) + " MiB";
      sweep.push_back({what, time_loads(l, model, so, 5), first});
      sweep.push_back({what + ", " + std::to_string(idle_ms()) + " ms after the free",
                       time_loads(l, model, so, 5, idle_ms()), 0});
      LoadOptions sco = so;
      sco.buffers([&](const dq_tensor_info &t, int32_t, int64_t, int64_t, uint64_t) -> void * {
        auto it = cb.offset.find(t.name);
        return it == cb.offset.end() ? nullptr
                                     : static_cast<uint8_t *>(cb.arena.data()) + it->second;
      });
      { LoadedModel w = l.load(model, sco); }
      sweep.push_back({what + ", caller buffers", time_loads(l, model, sco, 5), 0});
      if (fraction) setenv("DQ_LOAD_HYBRID_TRACE", "1", 1);  // one line: fills direct, windows
      LoadedModel lm = l.load(model, so);
      unsetenv("DQ_LOAD_HYBRID_TRACE");
      const int b = compare_outputs(ctx, lm, old, model, cfg.where);
      if (b)
        std::fprintf(stderr, "dq: bench: copy method %s: %d tensors differ\n", what.c_str(), b);
      bad += b;
    };
    // DQ_BENCH_SWEEP: comma-separated method:threads:ring_MiB[:register_fraction[:window_MiB]]
    // rows; the default compares the copy methods and two staging sizes.
    const char *list = std::getenv("DQ_BENCH_SWEEP");
    std::string spec_list =
        list && *list ? list : "memcpy:12:32,memcpy:12:64,memcpy:16:32,pread:12:32";
    for (size_t pos = 0; pos < spec_list.size();) {
      size_t comma = spec_list.find(',', pos);
      if (comma == std::string::npos) comma = spec_list.size();
      const std::string item = spec_list.substr(pos, comma - pos);
      pos = comma + 1;
      char method[16] = {}, fraction[16] = {}, window[16] = {};
      int th = 0;
      unsigned long mib = 0;
      const int n = std::sscanf(item.c_str(), "%15[a-z]:%d:%lu:%15[0-9.]:%15[0-9]", method, &th,
                                &mib, fraction, window);
      if (n < 3 || th < 1 || mib < 1) {
        std::fprintf(
            stderr,
            "dq: bench: DQ_BENCH_SWEEP item '%s' is not method:threads:MiB[:fraction[:window]]\n",
            item.c_str());
        continue;
      }
      measure(method, th, static_cast<uint64_t>(mib) << 20, n >= 4 ? fraction : nullptr,
              n >= 5 ? window : nullptr);
    }
    for (const char *n : env_names) {
      auto it = saved.find(n);
      if (it != saved.end())
        setenv(n, it->second.c_str(), 1);
      else
        unsetenv(n);
    }
  }
  const double bus_after =
      cfg.where.is_host() ? 0 : measure_h2d_bandwidth(ctx, cfg.where, 256ull << 20, 11);

  const double fb = static_cast<double>(ls.file_bytes);
  std::printf(
      "\nloader benchmark: %.3f GB of tensor data -> %s as %s, staging budget %.0f MiB, %d copy "
      "threads (%s)\n",
      fb / 1e9, dest.c_str(), to.c_str(), cfg.budget / 1048576.0, ls.copy_threads,
      ls.copy_method ? ls.copy_method : "?");
  std::printf("  routes: %" PRId64 " tensors on the device, %" PRId64 " on the cpu plugin, %" PRId64
              " copied; %" PRId64 " staging fills; staging high water %.0f MiB (budget %.0f MiB)\n",
              ls.tensors_device, ls.tensors_cpu, ls.tensors_copied, ls.chunks,
              ls.staging_high_water / 1048576.0, ls.staging_budget / 1048576.0);
  // The ratio is taken against the faster of the two bus measurements (conservative).
  const double busref = std::max(bus, bus_after);
  std::printf("  %-46s %9s %8s %7s %9s %9s\n", "", "ms", "GB/s", "vs bus", "pipe ms", "alloc ms");
  auto row = [&](const std::string &what, double s, double pipe = 0, double setup = -1) {
    if (s <= 0) return;
    std::printf("  %-46s %9.1f %8.2f %6.0f%%", what.c_str(), s * 1e3, fb / s / 1e9,
                busref > 0 ? 100.0 * fb / s / busref : 0.0);
    if (pipe > 0) std::printf(" %9.1f", pipe * 1e3);
    if (setup >= 0) std::printf(" %9.2f", setup * 1e3);
    std::printf("\n");
  };
  if (bus > 0)
    std::printf("  %-46s %9s %8.2f (before) %.2f (after the sweep)\n",
                "pinned host-to-device copy (256 MiB)", "", bus / 1e9, bus_after / 1e9);
  row("loader, warm (median, incl. output alloc)", warm.total, warm.pipeline, warm.setup);
  row("loader, warm, " + std::to_string(idle_ms()) + " ms after the previous free", warm_idle.total,
      warm_idle.pipeline, warm_idle.setup);
  row("loader, warm, caller buffers (median)", caller.total, caller.pipeline, caller.setup);
  row("loader, warm, caller buffers, " + std::to_string(idle_ms()) + " ms idle", caller_idle.total,
      caller_idle.pipeline, caller_idle.setup);
  row("loader, first load of the process", ws.seconds_total, ws.seconds_pipeline, ws.seconds_setup);
  row("loader, cold dq_load (incl. staging setup)", cold.seconds_total, cold.seconds_pipeline,
      cold.seconds_setup);
  row("old path: cpu dequantize + upload", old.seconds);
  for (const SweepRow &r : sweep) {
    row("  sweep: " + r.what + " (median of 5)", r.t.total, r.t.pipeline, r.t.setup);
    if (r.first > 0) row("  sweep: " + r.what + ", its first load", r.first);
  }
  std::printf("  loader setup (staging %.0f MiB pinned + device): %.1f ms\n",
              cfg.budget / 1048576.0, loader_setup * 1e3);
  if (busref > 0) {
    std::printf(
        "  RESULT load/bus = %.1f%% (target >= 85%%), warm loader, loader-allocated outputs, %d ms "
        "after "
        "the previous free\n",
        100.0 * fb / warm_idle.total / busref, idle_ms());
    std::printf(
        "  RESULT load/bus = %.1f%% (target >= 85%%), warm loader, loader-allocated outputs, back "
        "to back "
        "(the previous outputs freed just before)\n",
        100.0 * fb / warm.total / busref);
    std::printf("  RESULT load/bus = %.1f%% (target >= 85%%), warm loader, caller buffers\n",
                100.0 * fb / caller.total / busref);
  }
  std::printf("  RESULT loader vs old path = %.1fx faster (target >= 2x)\n",
              old.seconds / warm.total);
  std::printf("  RESULT every tensor equal to the old path's bytes: %s (%d differ)\n",
              bad ? "NO" : "yes", bad);
  return bad ? kExitFailure : kExitOk;
}

}  // namespace dq::tool
