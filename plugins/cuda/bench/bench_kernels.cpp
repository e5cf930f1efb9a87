// dq-cuda-bench: times every cuda kernel through the plugin ABI (exactly as dq and the
// loader call it) and compares with a device-to-device copy timed in the same run and with
// the cpu plugin on one thread.
//
//   dq-cuda-bench [--elements N] [--runs R] [--warmup W] [--cpu-elements M]
//                 [--types q4_0,q6_K,...] [--outs f16,f32,bf16] [--plugin-dir DIR] [--csv FILE]
//                 [--no-cpu]
//
// Timing: CUDA events on one stream, W warm-up calls, then R samples of 4 calls queued back
// to back (behind one untimed call, so host-side preparation never leaves the device idle);
// the median per-call time. Two source and two destination buffers alternate so no call
// reads what the previous one left in L2. Bandwidth counts bytes read plus bytes written. Each kernel's
// copy reference is a device-to-device copy that moves the same number of bytes (half
// read, half written), timed the same way right after it; a 1 GiB copy is reported too.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dq/dq_plugin.h"
#include "dq_common/type_traits.hpp"

#ifndef DQ_PLUGIN_DIR
#define DQ_PLUGIN_DIR "."
#endif

namespace {

struct Options {
  int64_t elements = 256ll << 20;
  int runs = 25;
  int warmup = 3;
  int64_t cpu_elements = 4ll << 20;
  std::vector<int32_t> types;
  std::vector<int32_t> outs = {1, 0};
  std::string plugin_dir = DQ_PLUGIN_DIR;
  std::string csv;
  bool cpu = true;
};

[[noreturn]] void die(const std::string &msg) {
  std::fprintf(stderr, "dq-cuda-bench: %s\n", msg.c_str());
  std::exit(1);
}

const dq_plugin_api *load_plugin(const std::string &dir, const char *name) {
  const std::string path = dir + "/libdq-" + name + ".so";
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) return nullptr;
  auto entry = reinterpret_cast<dq_plugin_entry_fn>(dlsym(h, DQ_PLUGIN_ENTRY_SYMBOL));
  if (!entry) return nullptr;
  const dq_plugin_api *api = entry(DQ_PLUGIN_ABI_MAJOR, DQ_PLUGIN_ABI_MINOR);
  if (!api || api->init() != DQ_OK) return nullptr;
  return api;
}

void check(const dq_plugin_api *api, int32_t st, const char *what) {
  if (st != DQ_OK) die(std::string(what) + ": " + api->last_error());
}

std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= s.size()) {
    size_t q = s.find(',', p);
    if (q == std::string::npos) q = s.size();
    if (q > p) out.push_back(s.substr(p, q - p));
    p = q + 1;
  }
  return out;
}

int32_t type_id(const std::string &name) {
  for (const auto &t : dq::kTypeTable) {
    if (strcasecmp(t.name, name.c_str()) == 0) return t.id;
  }
  die("unknown type " + name);
}

const char *out_name(int32_t out) { return out == 0 ? "f32" : out == 1 ? "f16" : "bf16"; }

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--elements") o.elements = std::stoll(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--warmup") o.warmup = std::stoi(next());
    else if (a == "--cpu-elements") o.cpu_elements = std::stoll(next());
    else if (a == "--plugin-dir") o.plugin_dir = next();
    else if (a == "--csv") o.csv = next();
    else if (a == "--no-cpu") o.cpu = false;
    else if (a == "--types") for (auto &n : split(next())) o.types.push_back(type_id(n));
    else if (a == "--outs") {
      o.outs.clear();
      for (auto &n : split(next())) o.outs.push_back(n == "f32" ? 0 : n == "f16" ? 1 : n == "bf16" ? 30 : -1);
    } else die("unknown argument " + a);
  }
  if (o.types.empty())
    for (const auto &t : dq::kTypeTable)
      if (t.dequantizable) o.types.push_back(t.id);
  return o;
}

// Rounds n down to a multiple of every block size (256 covers 1, 32, 64, 128, 256).
int64_t round_elements(int64_t n) { return std::max<int64_t>(256, n / 256 * 256); }

void fill_random(std::vector<uint8_t> &buf, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  size_t i = 0;
  for (; i + 8 <= buf.size(); i += 8) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    std::memcpy(buf.data() + i, &x, 8);
  }
  for (; i < buf.size(); ++i) buf[i] = static_cast<uint8_t>(x >> (8 * (i & 7)));
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Gpu {
  const dq_plugin_api *api;
  void *stream = nullptr, *ev0 = nullptr, *ev1 = nullptr;

  // Median milliseconds per call of fn(call index) over `runs` samples, after `warmup`
  // calls. A sample times kBatch calls queued back to back behind one untimed call, so the
  // device never idles while the host prepares a call: this is device throughput.
  static constexpr int kBatch = 4;
  template <typename Fn>
  double time_ms(int warmup, int runs, Fn &&fn) {
    int call = 0;
    for (int i = 0; i < warmup; ++i) fn(call++);
    check(api, api->synchronize(0, stream), "synchronize");
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
      fn(call++);
      check(api, api->event_record(0, ev0, stream), "event_record");
      for (int b = 0; b < kBatch; ++b) fn(call++);
      check(api, api->event_record(0, ev1, stream), "event_record");
      check(api, api->event_synchronize(0, ev1), "event_synchronize");
      float t = 0;
      check(api, api->event_elapsed_ms(0, ev0, ev1, &t), "event_elapsed_ms");
      ms.push_back(t / kBatch);
    }
    return median(ms);
  }
};

struct Row {
  int32_t type;
  double gbs[3] = {0, 0, 0};     // by output index f32, f16, bf16
  double gelem[3] = {0, 0, 0};   // GPU elements per second
  double cpu_elem[3] = {0, 0, 0};
  double copy[3] = {0, 0, 0};    // matched-size copy GB/s
};

int out_index(int32_t out) { return out == 0 ? 0 : out == 1 ? 1 : 2; }

}  // namespace

int main(int argc, char **argv) {
  const Options o = parse(argc, argv);
  setenv("DQ_THREADS", "1", 1);  // the cpu plugin reference runs on one thread
  const dq_plugin_api *cuda = load_plugin(o.plugin_dir, "cuda");
  if (!cuda) die("cannot load " + o.plugin_dir + "/libdq-cuda.so: " + (dlerror() ? dlerror() : "init failed"));
  if (cuda->device_count() < 1) die(std::string("no device: ") + cuda->no_device_reason());
  const dq_plugin_api *cpu = o.cpu ? load_plugin(o.plugin_dir, "cpu") : nullptr;

  dq_plugin_device_props props{};
  props.struct_size = sizeof props;
  check(cuda, cuda->device_props(0, &props), "device_props");
  std::printf("device: %s, %.1f GiB; %s\n", props.name, props.total_memory / 1073741824.0,
              cuda->describe ? cuda->describe() : "");
  if (cpu) std::printf("cpu plugin: %s (DQ_THREADS=1)\n", cpu->describe ? cpu->describe() : "");

  const int64_t n = round_elements(o.elements);
  uint64_t max_src = 0;
  for (int32_t t : o.types) max_src = std::max<uint64_t>(max_src, *dq::type_nbytes(t, n));
  const uint64_t dst_bytes = static_cast<uint64_t>(n) * 4;

  Gpu g{cuda};
  check(cuda, cuda->stream_create(0, &g.stream), "stream_create");
  check(cuda, cuda->event_create(0, &g.ev0), "event_create");
  check(cuda, cuda->event_create(0, &g.ev1), "event_create");
  void *src[2], *dst[2];
  for (int i = 0; i < 2; ++i) {
    check(cuda, cuda->mem_alloc(0, max_src, &src[i]), "mem_alloc src");
    check(cuda, cuda->mem_alloc(0, dst_bytes, &dst[i]), "mem_alloc dst");
  }
  {
    std::vector<uint8_t> host(max_src);
    for (int i = 0; i < 2; ++i) {
      fill_random(host, 17 + i);
      check(cuda, cuda->mem_copy(0, src[i], host.data(), max_src, DQ_COPY_HOST_TO_DEVICE, nullptr), "upload");
    }
  }

  // The copy reference: 1 GiB (or the destination size if smaller), read + written.
  const uint64_t copy_bytes = std::min<uint64_t>(dst_bytes / 2 * 2, 1ull << 30);
  auto copy_rate = [&](uint64_t bytes) {
    const double ms = g.time_ms(o.warmup, o.runs, [&](int i) {
      check(cuda, cuda->mem_copy(0, dst[i & 1], dst[(i + 1) & 1], bytes, DQ_COPY_DEVICE_TO_DEVICE, g.stream),
            "mem_copy D2D");
    });
    return 2.0 * bytes / (ms * 1e6);
  };
  const double copy_before = copy_rate(copy_bytes);

  std::vector<Row> rows;
  for (int32_t t : o.types) {
    Row row{t};
    const uint64_t sbytes = *dq::type_nbytes(t, n);
    for (int32_t out : o.outs) {
      if (!cuda->supports(t, out)) continue;
      const uint64_t obytes = static_cast<uint64_t>(n) * (out == 0 ? 4 : 2);
      const double ms = g.time_ms(o.warmup, o.runs, [&](int i) {
        dq_plugin_dequantize_args a{};
        a.struct_size = sizeof a;
        a.src_type = t;
        a.dst_type = out;
        a.src = src[i & 1];
        a.src_bytes = sbytes;
        a.n_elements = n;
        a.dst = dst[i & 1];
        a.dst_bytes = obytes;
        a.stream = g.stream;
        check(cuda, cuda->dequantize(&a), "dequantize");
      });
      row.gbs[out_index(out)] = (sbytes + obytes) / (ms * 1e6);
      row.gelem[out_index(out)] = n / (ms * 1e-3);
      row.copy[out_index(out)] = copy_rate(std::min<uint64_t>((sbytes + obytes) / 2 / 256 * 256, dst_bytes));

      if (cpu && cpu->supports(t, out)) {
        const int64_t cn = round_elements(o.cpu_elements);
        std::vector<uint8_t> hs(*dq::type_nbytes(t, cn)), hd(static_cast<size_t>(cn) * 4);
        fill_random(hs, 99);
        std::vector<double> secs;
        for (int r = 0; r < 3; ++r) {
          dq_plugin_dequantize_args a{};
          a.struct_size = sizeof a;
          a.src_type = t;
          a.dst_type = out;
          a.src = hs.data();
          a.src_bytes = hs.size();
          a.n_elements = cn;
          a.dst = hd.data();
          a.dst_bytes = hd.size();
          a.src_on_host = a.dst_on_host = 1;
          const auto t0 = std::chrono::steady_clock::now();
          check(cpu, cpu->dequantize(&a), "cpu dequantize");
          secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        row.cpu_elem[out_index(out)] = cn / median(secs);
      }
    }
    rows.push_back(row);
  }
  const double copy_after = copy_rate(copy_bytes);
  const double copy = std::max(copy_before, copy_after);

  FILE *csv = o.csv.empty() ? nullptr : std::fopen(o.csv.c_str(), "w");
  if (csv) std::fprintf(csv, "type,out,gbs,copy_gbs,pct_copy,gpu_gelem_s,cpu1t_melem_s,speedup\n");
  std::printf("\nelements %lld, %d runs (median); 1 GiB copy D2D %.0f GB/s (before %.0f, after %.0f);\n"
              "%%copy = kernel GB/s over a D2D copy moving the same bytes, timed right after it\n",
              static_cast<long long>(n), o.runs, copy, copy_before, copy_after);
  std::printf("%-8s", "type");
  for (int32_t out : o.outs) std::printf(" | %4s GB/s  copy  %%copy x cpu1t", out_name(out));
  std::printf("\n");
  int below = 0;
  for (const Row &r : rows) {
    std::printf("%-8s", dq::type_traits(r.type)->name);
    for (int32_t out : o.outs) {
      const int k = out_index(out);
      const double pct = 100.0 * r.gbs[k] / r.copy[k];
      const double speedup = r.cpu_elem[k] > 0 ? r.gelem[k] / r.cpu_elem[k] : 0;
      std::printf(" | %9.0f %5.0f  %5.1f %7.0f", r.gbs[k], r.copy[k], pct, speedup);
      if (pct < 90.0 && r.type != 0 && r.type != 1 && r.type != 30) ++below;
      if (csv)
        std::fprintf(csv, "%s,%s,%.1f,%.1f,%.1f,%.3f,%.1f,%.1f\n", dq::type_traits(r.type)->name, out_name(out),
                     r.gbs[k], r.copy[k], pct, r.gelem[k] / 1e9, r.cpu_elem[k] / 1e6, speedup);
    }
    std::printf("\n");
  }
  std::printf("quantized (type, output) pairs below 90%% of copy: %d\n", below);
  if (csv) std::fclose(csv);

  for (int i = 0; i < 2; ++i) {
    cuda->mem_free(0, src[i]);
    cuda->mem_free(0, dst[i]);
  }
  cuda->event_destroy(0, g.ev0);
  cuda->event_destroy(0, g.ev1);
  cuda->stream_destroy(0, g.stream);
  cuda->shutdown();
  return 0;
}
