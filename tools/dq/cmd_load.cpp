// dq load: loads a GGUF (or a built-in model) onto a device with the model loader and reports
// what went where, how fast, and how that compares with the host-to-device bus.
//   dq load [FILE] [--device cuda:0|cpu] [--to f16|bf16|f32|keep] [--budget MiB]
//   dq load --bench-model 2     (>= 2 GB generated model: loader vs bus vs the old path)
//   dq load FILE --devices cuda:0,cuda:1 --split tensor|layer   (one load over several devices)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "byte_text.hpp"
#include "commands.hpp"
#include "device_arg.hpp"
#include "dq/dq.hpp"
#include "load_bench.hpp"
#include "multi_load.hpp"
#include "loader/synthetic_model.hpp"
#include "number_option.hpp"
#include "path_option.hpp"
#include "report.hpp"
#include "temp_file.hpp"
#include "terminal_text.hpp"

namespace dq::tool {
namespace {

struct LoadArgs {
  std::string file, device, to = "f16";
  std::string devices, split = "tensor";  // --devices A,B,...: a load over several devices
  double budget_mib = 256;
  int threads = 0;
  double bench_gb = 0;  // 0: not given
  int repeat = 5;
  bool no_progress = false;
};

// Ranges of the options (also shown by --help).
constexpr NumberRange kBudgetMiB{1, 1048576, false};
constexpr int kMaxThreads = 1024;  // as DQ_THREADS
constexpr int kMaxRepeat = 1000;
// The generator's smallest model (one layer of Llama-3-8B widths) is 0.87 GB: below 1 a
// request would silently get more than asked.
constexpr NumberRange kBenchGB{1, 1000, false};

int fail(const std::string &where, const std::string &problem, int code = kExitFailure) {
  return report_failure(where, problem, code);
}

// Progress bar on stderr, only on a terminal; redrawn at most once per percent.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : on_(enabled) {}
  void operator()(uint64_t done, uint64_t total) {
    if (!on_ || total == 0) return;
    const int pct = static_cast<int>(done * 100 / total);
    if (pct == last_) return;
    last_ = pct;
    constexpr int kWidth = 40;
    const int fill = pct * kWidth / 100;
    std::fprintf(stderr, "\r[%.*s%*s] %3d%%  %.2f / %.2f GB", fill,
                 "########################################", kWidth - fill, "", pct, done / 1e9,
                 total / 1e9);
    if (done == total) std::fputc('\n', stderr);
    std::fflush(stderr);
  }

 private:
  bool on_;
  int last_ = -1;
};

// One of f16, bf16, f32, keep (the option's check).
int32_t parse_to(const std::string &to) {
  if (to == "keep") return DQ_LOAD_KEEP;
  return to == "f32" ? DQ_TYPE_F32 : to == "bf16" ? DQ_TYPE_BF16 : DQ_TYPE_F16;
}

// Per source type: count, file bytes, output bytes, and which backend did each.
void print_report(const LoadedModel &lm, const std::string &label, double h2d_bps) {
  struct Row {
    int count = 0;
    uint64_t file = 0, out = 0;
    std::map<std::string, int> by;
    std::set<std::string> outs;
  };
  std::map<int32_t, Row> rows;
  for (const LoadedTensor &t : lm.tensors()) {
    Row &r = rows[t.src_type];
    r.count++;
    r.file += t.file_bytes;
    r.out += t.n_bytes;
    r.by[t.backend]++;
    r.outs.insert(std::string(type_name(t.type)));
  }
  const dq_load_stats s = lm.stats();
  std::printf("loaded %s: %" PRId64 " tensors to %s\n", label.c_str(), s.tensors, s.device_backend);
  std::printf("  %-8s %6s %12s %12s  %-6s  %s\n", "type", "count", "file", "output", "as",
              "done by");
  for (const auto &[type, r] : rows) {
    std::string by, outs;
    for (const auto &[b, n] : r.by) by += (by.empty() ? "" : ", ") + b + " " + std::to_string(n);
    for (const auto &o : r.outs) outs += (outs.empty() ? "" : ",") + o;
    std::printf("  %-8s %6d %12s %12s  %-6s  %s\n", std::string(type_name(type)).c_str(), r.count,
                human_bytes(r.file).c_str(), human_bytes(r.out).c_str(), outs.c_str(), by.c_str());
  }
  std::printf("  routes: %" PRId64 " on the device, %" PRId64 " on the cpu plugin, %" PRId64
              " copied as they are\n",
              s.tensors_device, s.tensors_cpu, s.tensors_copied);
  const double gbps = s.file_bytes / s.seconds_total / 1e9;
  std::printf(
      "  time: %.1f ms total (setup %.1f ms = staging %.1f + outputs %.1f, pipeline "
      "%.1f ms), %" PRId64 " %s, %d copy threads (%s)\n",
      s.seconds_total * 1e3, s.seconds_setup * 1e3, s.seconds_setup_staging * 1e3,
      s.seconds_setup_outputs * 1e3, s.seconds_pipeline * 1e3, s.chunks,
      s.device_staging_bytes ? "staging fills" : "pieces", s.copy_threads,
      s.copy_method ? s.copy_method : "?");
  std::printf("  staging: %s of %s budget used at most%s, pinned: %s\n",
              human_bytes(s.staging_high_water).c_str(), human_bytes(s.staging_budget).c_str(),
              s.device_staging_bytes
                  ? (" (+" + human_bytes(s.device_staging_bytes) + " on the device)").c_str()
                  : "",
              s.staging_pinned ? s.staging_pinned : "?");
  std::printf("  throughput: %.2f GB/s of file bytes (%.2f GB/s pipeline only)\n", gbps,
              s.file_bytes / s.seconds_pipeline / 1e9);
  if (h2d_bps > 0)
    std::printf(
        "  pinned host-to-device bandwidth (same run, faster of before/after): %.2f GB/s; load/bus "
        "= %.0f%% "
        "(pipeline %.0f%%)\n",
        h2d_bps / 1e9, 100.0 * gbps * 1e9 / h2d_bps,
        100.0 * s.file_bytes / s.seconds_pipeline / h2d_bps);
}

// Pause between the bus measurement and the load: DQ_LOAD_BUS_GAP_MS, default 200.
int bus_gap_ms() {
  return static_cast<int>(number_from_env("DQ_LOAD_BUS_GAP_MS", {0, 600000, true}, 200));
}

// DQ_LOAD_PREPARE=0: the loader faults its staging in on the loading thread (for the report).
bool prepare_off() {
  const char *e = std::getenv("DQ_LOAD_PREPARE");
  return e && std::string(e) == "0";
}

// Empty: cuda:0 when it has a device, else the host. Otherwise parse_device_arg (strict), and
// an index the loaded backend does not have is a usage error as an unknown backend is (README:
// exit 2); a backend that failed to load is left to the load, whose message says why.
bool parse_device(const Context &ctx, const std::string &text, Location *out,
                  std::string *error) {
  const std::vector<BackendInfo> backends = ctx.backends();
  if (text.empty()) {
    *out = Location::host();
    for (const auto &b : backends)
      if (b.name == "cuda" && b.loaded && b.device_count > 0) *out = {"cuda", 0};
    return true;
  }
  std::vector<std::string> names;
  for (const auto &b : backends) names.push_back(b.name);
  const auto d = parse_device_arg(text, names, error);
  if (!d) return false;
  for (const auto &b : backends)
    if (b.name == d->backend && b.loaded && d->index >= b.device_count) {
      const std::string name = terminal_safe(b.name);
      std::string has = b.device_count == 1
                            ? "1 device, " + name + ":0"
                            : std::to_string(b.device_count) + " devices, " + name + ":0 to " +
                                  name + ":" + std::to_string(b.device_count - 1);
      if (b.device_count == 0)  // the backend's status says why (dq backends shows it too)
        has = b.status.empty() ? "no device" : "no device: " + terminal_safe(b.status);
      *error = "--device '" + terminal_safe(text) + "': " + name + " has " + has;
      return false;
    }
  *out = d->backend.empty() ? Location::host() : Location{d->backend, d->index};
  return true;
}

// --devices A,B,...: each entry as --device takes it (a device may be named twice: two
// pipelines to one device).
int run_on_devices(const Context &ctx, const LoadArgs &a, int32_t to, uint64_t budget) {
  MultiLoadConfig cfg;
  size_t start = 0;
  while (start <= a.devices.size()) {
    const size_t comma = std::min(a.devices.find(',', start), a.devices.size());
    const std::string item = a.devices.substr(start, comma - start);
    Location l;
    std::string error;
    if (item.empty()) return fail("", "--devices '" + a.devices + "' has an empty entry", kExitUsage);
    if (!parse_device(ctx, item, &l, &error)) return fail("", "--devices: " + error, kExitUsage);
    cfg.devices.push_back(l);
    start = comma + 1;
  }
  cfg.split = a.split;
  cfg.to = to;
  cfg.budget = budget;
  cfg.threads = a.threads;
  if (a.bench_gb > 0) {
    cfg.repeat = a.repeat;
    return run_multi_load_bench(ctx, a.bench_gb, cfg);
  }
  std::string path = a.file;
  TempFile builtin;
  if (path.empty()) {
    builtin = TempFile::create("dq-builtin");
    loader::synth::write_gguf(loader::synth::default_model(), builtin.path());
    path = builtin.path();
  }
  cfg.repeat = 1;
  return run_multi_load(ctx, path, a.file.empty() ? "built-in model" : a.file, cfg);
}

int run_load(const LoadArgs &a) {
  try {
    Context ctx;
    Location where;
    std::string device_error;
    if (!parse_device(ctx, a.device, &where, &device_error))
      return fail("", device_error, kExitUsage);
    const int32_t to = parse_to(a.to);
    // In range by the option's check: at most 2^40 bytes, exact in a uint64_t.
    const uint64_t budget = static_cast<uint64_t>(a.budget_mib * 1048576.0);

    if (!a.devices.empty() && !a.device.empty())
      return fail("", "--device and --devices do not go together (--devices lists them all)",
                  kExitUsage);
    if (!a.devices.empty()) return run_on_devices(ctx, a, to, budget);
    if (a.bench_gb > 0) {
      BenchConfig cfg{where, to, budget, a.threads, a.bench_gb, a.repeat};
      return run_load_bench(ctx, cfg);
    }

    std::string path = a.file;
    TempFile builtin;
    if (path.empty()) {
      builtin = TempFile::create("dq-builtin");
      const auto spec = loader::synth::default_model();
      loader::synth::write_gguf(spec, builtin.path());
      path = builtin.path();
      std::printf(
          "no FILE given: loading the built-in model (%zu tensors, llama-like, Q4_K/Q6_K/F32, "
          "%s)\n",
          spec.tensors.size(), human_bytes(loader::synth::file_data_bytes(spec)).c_str());
    }
    using Clock = std::chrono::steady_clock;
    const auto ms = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double, std::milli>(b - a).count();
    };
    const auto t_open = Clock::now();
    Model model(ctx, path);
    ProgressBar bar(!a.no_progress && isatty(STDERR_FILENO));
    LoadOptions opts;
    opts.device(where).output(to).staging_budget(budget).copy_threads(a.threads);
    opts.progress([&](uint64_t d, uint64_t t) { bar(d, t); });
    // A load follows: its host staging is faulted in on a background thread while the device
    // starts (below), as an engine's would while its context starts (DQ_LOAD_PREPARE=0: off).
    const auto t_prepare = Clock::now();
    if (!where.is_host()) prepare_load(ctx, model, opts);
    const auto t_prepared = Clock::now();
    // The bus is measured before (which also starts the device's context, a cost of the
    // process rather than of the load) and after; the ratio takes the faster.
    double h2d = 0;
    auto t_started = t_prepared, t_measured = t_started, t_load = t_started;
    if (!where.is_host()) {
      h2d = measure_h2d_bandwidth(ctx, where, 64ull << 20, 1);
      t_started = Clock::now();
      h2d = measure_h2d_bandwidth(ctx, where, 256ull << 20, 7);
      t_measured = Clock::now();
      // The measurement frees its 256 MiB buffers; a free slows the next uploads while the
      // driver cleans up behind it (docs/PERFORMANCE.md), which a real start-up does not see.
      std::this_thread::sleep_for(std::chrono::milliseconds(bus_gap_ms()));
      t_load = Clock::now();
    }
    LoadedModel lm = load(ctx, model, opts);
    const auto t_loaded = Clock::now();
    if (!where.is_host()) h2d = std::max(h2d, measure_h2d_bandwidth(ctx, where, 256ull << 20, 7));
    print_report(lm, a.file.empty() ? "built-in model" : a.file, h2d);
    if (!where.is_host()) {
      std::printf("  (before the load: device start-up and a first copy took %.1f ms)\n",
                  ms(t_prepared, t_started));
      // The whole way from the open, so preparing ahead can be checked: what the staging
      // preparation overlapped is the start-up (DQ_LOAD_TRACE=1 says when it was ready), never
      // the measurement or the pause, which an engine does not have.
      std::printf(
          "  process time: %.1f ms from opening the model to loaded = open %.1f + prepare %.2f + "
          "device start-up %.1f + bus measurement %.1f + pause %.1f + load %.1f ms (%s)\n",
          ms(t_open, t_loaded), ms(t_open, t_prepare), ms(t_prepare, t_prepared),
          ms(t_prepared, t_started), ms(t_started, t_measured), ms(t_measured, t_load),
          ms(t_load, t_loaded),
          prepare_off() ? "staging not prepared ahead: DQ_LOAD_PREPARE=0"
                        : "staging prepared ahead from the open on");
    }
    return kExitOk;
  } catch (const Error &e) {
    return fail(a.file.empty() ? (a.bench_gb > 0 ? "bench model" : "built-in model") : a.file,
                e.what());
  } catch (const std::exception &e) {
    return fail(a.file.empty() ? "dq load" : a.file, e.what());
  }
}

}  // namespace

Action register_load(CLI::App &app) {
  auto args = std::make_shared<LoadArgs>();
  CLI::App *sub = app.add_subcommand(
      "load", "Load a GGUF onto a device (quantized upload, dequantized there) and report speed");
  sub->add_option("file", args->file, "GGUF file (none: a small built-in model)")
      ->check(non_empty_path());
  sub->add_option("--device", args->device,
                  "cuda:0, cpu, ... (default: cuda:0 when present, else cpu)")
      ->check(CLI::Validator(
          [](const std::string &s) { return s.empty() ? std::string("the device is empty") : ""; },
          "DEVICE"));
  sub->add_option("--to", args->to, "output type: f16, bf16, f32 or keep")
      ->capture_default_str()
      ->check(CLI::IsMember({"f16", "bf16", "f32", "keep"}));
  add_number_option(*sub, "--budget", args->budget_mib, kBudgetMiB,
                    "pinned staging budget in MiB (default 256)");
  add_count_option(*sub, "--threads", args->threads, 0, kMaxThreads,
                   "host copy threads (0: automatic)");
  add_number_option(*sub, "--bench-model", args->bench_gb, kBenchGB,
                    "benchmark: generate a llama-like Q4_K/Q6_K model of this many GB (in "
                    "TMPDIR, refused when it lacks the room) and compare the loader with the "
                    "bus and with the old path");
  add_count_option(*sub, "--repeat", args->repeat, 1, kMaxRepeat,
                   "benchmark: timed loads (median, default 5)");
  sub->add_option("--devices", args->devices,
                  "several devices, e.g. cuda:0,cuda:1 (one load over all, per-device report; "
                  "a device named twice gets two pipelines)");
  sub->add_option("--split", args->split,
                  "with --devices: tensor (tensor-parallel slices) or layer (whole layers)")
      ->capture_default_str()
      ->check(CLI::IsMember({"tensor", "layer"}));
  sub->add_flag("--no-progress", args->no_progress, "no progress bar");
  return [args] { return run_load(*args); };
}

}  // namespace dq::tool
