// dq load --devices ... --split ... (see multi_load.hpp).
#include "multi_load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include "loader/synthetic_model.hpp"
#include "temp_file.hpp"

namespace dq::tool {
namespace {

std::string device_text(const Location &l) {
  return l.is_host() ? "host" : l.backend + ":" + std::to_string(l.device);
}

struct PlanHandle {
  dq_load_plan *p = nullptr;
  ~PlanHandle() { dq_load_plan_free(p); }
};

struct LoadedHandle {
  dq_loaded_model *p = nullptr;
  ~LoadedHandle() { dq_loaded_free(p); }
};

// Pinned host-to-device rate of each distinct device (a device named twice is one link).
std::map<std::string, double> link_rates(const Context &ctx, const std::vector<Location> &devices) {
  std::map<std::string, double> rates;
  for (const Location &l : devices) {
    if (l.is_host() || rates.count(device_text(l))) continue;
    rates[device_text(l)] = measure_h2d_bandwidth(ctx, l, 256ull << 20, 7);
  }
  return rates;
}

dq_load_stats device_stats(const dq_loaded_model *lm, int32_t i) {
  dq_load_stats s{};
  s.struct_size = sizeof s;
  dq_loaded_get_device_stats(lm, i, &s);
  return s;
}

}  // namespace

int run_multi_load(const Context &ctx, const std::string &path, const std::string &label,
                   const MultiLoadConfig &cfg) {
  Model model(ctx, path);
  const int32_t n = static_cast<int32_t>(cfg.devices.size());
  PlanHandle plan;
  const dq_status pst = cfg.split == "layer"
                            ? dq_plan_layers(ctx.get(), model.get(), n, &plan.p)
                            : dq_plan_tensor_parallel(ctx.get(), model.get(), n, -1, &plan.p);
  if (pst != DQ_OK) ctx.check(pst);
  size_t n_parts = 0;
  const dq_load_part *parts = dq_load_plan_parts(plan.p, &n_parts);

  std::vector<dq_location> locs;
  for (const Location &l : cfg.devices) locs.push_back(l.c());
  dq_load_options o;
  dq_load_options_init(&o);
  o.output_type = cfg.to;
  o.staging_budget = cfg.budget;
  o.copy_threads = cfg.threads;
  o.devices = locs.data();
  o.n_devices = locs.size();
  o.parts = parts;
  o.n_parts = n_parts;

  // Links measured before (also starting each device's context) and after; the faster counts.
  std::map<std::string, double> links = link_rates(ctx, cfg.devices);
  // Stats of each load (the outputs are freed before the next: a 2 GB model over N devices
  // times the repeats would not fit). Strings of stats kept here are static ones.
  struct Run {
    dq_load_stats sum{};
    std::vector<dq_load_stats> devices;
  };
  std::vector<Run> runs;
  for (int r = 0; r < std::max(cfg.repeat, 1); ++r) {
    LoadedHandle lm;
    ctx.check(dq_load(ctx.get(), model.get(), &o, &lm.p));
    Run run;
    run.sum.struct_size = sizeof run.sum;
    dq_loaded_get_stats(lm.p, &run.sum);
    for (int32_t d = 0; d < dq_loaded_device_count(lm.p); ++d)
      run.devices.push_back(device_stats(lm.p, d));
    runs.push_back(std::move(run));
  }
  for (auto &[name, rate] : link_rates(ctx, cfg.devices)) links[name] = std::max(links[name], rate);
  std::sort(runs.begin(), runs.end(), [](const Run &a, const Run &b) {
    return a.sum.seconds_pipeline < b.sum.seconds_pipeline;
  });
  const Run &median = runs[runs.size() / 2];

  const dq_load_stats &sum = median.sum;
  std::printf("loaded %s over %d device%s (split %s): %zu parts of %" PRId64 " tensors%s\n",
              label.c_str(), n, n == 1 ? "" : "s", cfg.split.c_str(), n_parts, model.tensor_count(),
              runs.size() > 1 ? (", median of " + std::to_string(runs.size()) + " loads").c_str() : "");
  std::printf("  %-10s %6s %12s %12s %11s %9s %10s %6s\n", "device", "parts", "file bytes",
              "output", "pipeline", "GB/s", "link GB/s", "share");
  // One row; host destinations have no link: "-" there.
  auto row = [](const std::string &name, const dq_load_stats &s, double seconds, double link) {
    const double gbps = seconds > 0 ? s.file_bytes / seconds / 1e9 : 0;
    char link_text[32] = "-", share[32] = "-";
    if (link > 0) {
      std::snprintf(link_text, sizeof link_text, "%.2f", link / 1e9);
      std::snprintf(share, sizeof share, "%.0f%%", 100.0 * gbps * 1e9 / link);
    }
    std::printf("  %-10s %6" PRId64 " %12.3f %12.3f %8.1f ms %9.2f %10s %6s\n", name.c_str(),
                s.tensors, s.file_bytes / 1e9, s.output_bytes / 1e9, seconds * 1e3, gbps,
                link_text, share);
  };
  for (int32_t d = 0; d < n; ++d) {
    const dq_load_stats &s = median.devices[static_cast<size_t>(d)];
    const std::string name = device_text(cfg.devices[d]);
    row(name, s, s.seconds_pipeline, links.count(name) ? links[name] : 0);
  }
  double link_sum = 0;
  for (const auto &[name, rate] : links) link_sum += rate;
  row("all", sum, sum.seconds_pipeline, link_sum);
  std::printf(
      "  (file bytes in GB; pipeline: first read to last byte on the device, all devices at once;"
      " link GB/s: pinned host-to-device rate of each distinct device measured alone in this run,"
      " faster of before/after; 'all' compares with their sum%s)\n",
      links.size() < cfg.devices.size() ? ", a device named twice counted once" : "");
  std::printf("  total %.1f ms (setup %.1f ms: staging %.1f, outputs %.1f), %d copy threads, %s\n",
              sum.seconds_total * 1e3, sum.seconds_setup * 1e3, sum.seconds_setup_staging * 1e3,
              sum.seconds_setup_outputs * 1e3, sum.copy_threads,
              sum.copy_method ? sum.copy_method : "?");
  return 0;
}

int run_multi_load_bench(const Context &ctx, double gigabytes, const MultiLoadConfig &cfg) {
  const auto spec = loader::synth::llama_like_of_size(gigabytes);
  TempFile file =
      TempFile::create("dq-bench-multi", ".gguf", loader::synth::file_data_bytes(spec));
  const uint64_t size = loader::synth::write_gguf(spec, file.path());
  {
    // In the page cache and written back before timing (as the one-device bench does).
    const int fd = open(file.path().c_str(), O_RDONLY);
    if (fd >= 0) {
      fsync(fd);
      std::vector<char> buf(64 << 20);
      while (read(fd, buf.data(), buf.size()) > 0) {
      }
      close(fd);
    }
  }
  std::printf("bench model: %zu tensors, %.3f GB file, llama-like Q4_K/Q6_K/F32\n",
              spec.tensors.size(), size / 1e9);
  MultiLoadConfig c = cfg;
  c.repeat = std::max(cfg.repeat, 1);
  return run_multi_load(ctx, file.path(), "bench model", c);
}

}  // namespace dq::tool
